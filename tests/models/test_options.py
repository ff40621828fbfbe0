"""Typed options: options.json matches the registry, and options are checked from it in one line."""

from __future__ import annotations

import pytest

from microsr.cli.schema import schema_text
from microsr.engine.config import make_config
from microsr.errors import ConfigError
from microsr.models import MODELS, create_model
from microsr.options import check_options, options_schema, registered, registered_options


def test_options_json_matches_the_registry():
    from importlib import resources

    packaged = resources.files("microsr").joinpath("options.json").read_text(encoding="utf-8")
    assert packaged == schema_text(), "run `python -m microsr.cli.schema` and commit microsr/options.json"


@pytest.mark.parametrize("name", MODELS.names())
def test_every_tiny_preset_fits_the_schema_and_builds(name):
    spec = MODELS.get(name)
    check_options(f"model {name!r}", registered("model", name)["options"], dict(spec.tiny))
    # the defaults of the schema are the builder's own defaults
    for option, prop in options_schema(spec.builder, 3).items():
        assert registered_options()["models"][name]["options"][option]["default"] == prop["default"]
    assert create_model(name, 1, 1, 2, tiny=True) is not None


def test_schema_reads_types_from_the_signature():
    edsr = registered("model", "edsr")["options"]
    assert edsr == {
        "n_feats": {"default": 256, "type": "integer"},
        "n_blocks": {"default": 32, "type": "integer"},
        "res_scale": {"default": 0.1, "type": "number"},
    }
    assert registered("model", "dfcan")["options"]["spectrum_size"]["anyOf"] == [
        {"type": "integer"},
        {"type": "null"},
    ]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"n_feat": 8},
            "model 'edsr': unknown option 'n_feat' (valid options: n_blocks, n_feats, res_scale)",
        ),
        ({"n_feats": "8"}, "model 'edsr': option 'n_feats': Input should be a valid integer"),
        ({"n_feats": 8.5}, "option 'n_feats': Input should be a valid integer"),
        ({"res_scale": True}, "option 'res_scale': Input should be a valid number"),
    ],
)
def test_bad_options_are_one_line_naming_the_option(options, message):
    with pytest.raises(ConfigError) as info:
        check_options("model 'edsr'", registered("model", "edsr")["options"], options)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_good_options_pass_lists_stand_for_tuples():
    check_options("model 'edsr'", registered("model", "edsr")["options"], {"n_feats": 8, "res_scale": 1})
    check_options("model 'denseed'", registered("model", "denseed")["options"], {"blocks": [1, 2, 1]})
    with pytest.raises(ConfigError, match="option 'blocks'"):
        check_options("model 'denseed'", registered("model", "denseed")["options"], {"blocks": [1, 2]})


def _cfg(**over):
    base = {"out": "run", "model": {"name": "edsr", "tiny": True}, "data": {"lr_dir": "a", "hr_dir": "b"}}
    return make_config({**base, **over})


def test_config_checks_model_loss_and_discriminator_options():
    with pytest.raises(ConfigError, match=r"unknown model 'edsrr'; known models: .*edsr-baseline"):
        _cfg(model={"name": "edsrr"})
    with pytest.raises(
        ConfigError, match=r"loss 'charbonnier': unknown option 'epsilon' \(valid options: eps\)"
    ):
        _cfg(loss="charbonnier", loss_options={"epsilon": 1e-4})
    with pytest.raises(ConfigError, match="discriminator 'srgan': unknown option 'width'"):
        _cfg(model={"name": "srgan"}, adversarial={"options": {"width": 3}})
    # switched-off adversarial training does not check the discriminator's options
    assert _cfg(model={"name": "srgan"}, adversarial={"enabled": False, "options": {"width": 3}})
    assert _cfg(model={"name": "edsr", "options": {"bicubic_residual": True, "n_blocks": 2}})


def test_config_version():
    assert _cfg().config_version == 1  # a config.yaml written before config_version is version 1
    with pytest.raises(ConfigError, match="config_version"):
        _cfg(config_version=2)


def test_loss_options_reach_the_loss():
    import torch

    from microsr.losses.pixel import build_loss

    x, y = torch.zeros(1, 1, 4, 4), torch.ones(1, 1, 4, 4)
    small = build_loss("charbonnier", {"eps": 1e-6})(x, {"hr": y})[0]
    large = build_loss("charbonnier", {"eps": 1.0})(x, {"hr": y})[0]
    # charbonnier = mean(sqrt(d^2 + eps^2)) with d = 1: sqrt(1 + 1e-12) and sqrt(2)
    assert float(small) == pytest.approx(1.0) and float(large) == pytest.approx(2**0.5)
    with pytest.raises(ConfigError, match="single registered loss"):
        build_loss("mse+0.1*ssim+l1", {"eps": 1.0})


def test_docs_options_table_is_generated_from_the_schema():
    from pathlib import Path

    from microsr.cli.schema import options_markdown

    docs = Path(__file__).resolve().parents[2] / "docs" / "models.md"
    assert options_markdown() in docs.read_text(encoding="utf-8"), "run `python -m microsr.cli.schema`"


def test_models_json_carries_the_options(capsys):
    import json

    from microsr.cli.main import main
    from microsr.cli.models_cmd import model_table

    rows = {r["name"]: r for r in model_table()}
    assert rows["edsr"]["options"]["n_blocks"] == {"default": 32, "type": "integer"}
    assert rows["edsr"]["tiny"] == {"n_feats": 8, "n_blocks": 2}
    assert main(["models", "--json"]) == 0
    printed = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert printed["rcan"]["options"] == registered("model", "rcan")["options"]
