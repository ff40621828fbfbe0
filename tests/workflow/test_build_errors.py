"""``microsr train`` with a scale or options an architecture cannot be built with: one line, exit 2.

Regression: ``create_model`` / ``create_discriminator`` errors (``ValueError`` for an unsupported
scale such as EDSR at x1, ``TypeError`` for an unknown option, ``RuntimeError`` for a negative
width) went straight through the CLI as a traceback; ``engine/session.py`` (``build_generator``, ``build_discriminator``) turns
them into a ``ConfigError`` that names the model, the scale and the options.
"""

from __future__ import annotations

import numpy as np
import pytest

from microsr.cli.main import main
from microsr.io import write_image


@pytest.fixture(scope="module")
def pairs(tmp_path_factory):
    """``x1/`` and ``x2/``, each with lr/ and hr/ folders of three tiny pairs at that scale."""
    root = tmp_path_factory.mktemp("pairs")
    rng = np.random.default_rng(0)
    for scale in (1, 2):
        for sub in ("lr", "hr"):
            (root / f"x{scale}" / sub).mkdir(parents=True)
        for i in range(3):
            hr = (rng.random((16 * scale, 16 * scale)) * 1000).astype(np.uint16)
            lr = hr.reshape(16, scale, 16, scale).mean(axis=(1, 3)).astype(np.uint16)
            write_image(root / f"x{scale}" / "hr" / f"a{i}.tif", hr)
            write_image(root / f"x{scale}" / "lr" / f"a{i}.tif", lr)
    return root


CASES = {  # id: (scale, model, config file text or None, expected words in the message)
    "scale": (1, "edsr", None, "cannot build model 'edsr' with scale 1"),
    "option": (
        2,
        "srcnn",
        "model: {options: {no_such_option: 3}}\n",
        "model 'srcnn': unknown option 'no_such_option' (valid options: bicubic_residual, kernel_sizes, n_feats)",
    ),
    "width": (2, "srcnn", "model: {options: {n_feats: [-3, 8]}}\n", "cannot build model 'srcnn'"),
    "discriminator": (
        2,
        "srgan",
        "adversarial: {options: {no_such_option: 3}}\n",
        "discriminator 'srgan': unknown option 'no_such_option' (valid options: dense, n_feats, patch_size)",
    ),
    "option type": (2, "edsr", "model: {options: {n_feats: '8'}}\n", "option 'n_feats': Input should be"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_unbuildable_model_is_one_line_exit_2(pairs, tmp_path, capsys, case):
    scale, model, yaml_text, message = CASES[case]
    data, out = pairs / f"x{scale}", tmp_path / "run"
    args = [
        "train",
        "--lr",
        str(data / "lr"),
        "--hr",
        str(data / "hr"),
        "--out",
        str(out),
        "--model",
        model,
        "--tiny",
        "--scale",
        str(scale),
        "--steps",
        "1",
        "--patch-size",
        "8",
        "--batch-size",
        "2",
        "--num-threads",
        "1",
        "--device",
        "cpu",
        "--quiet",
    ]
    if yaml_text is not None:
        (tmp_path / "cfg.yaml").write_text(yaml_text)
        args += ["--config", str(tmp_path / "cfg.yaml")]
    code = main(args)
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert err.startswith("error:") and len(err.splitlines()) == 1, err
    assert message in err, err
    assert not out.exists(), "nothing is written for a model that cannot be built"


def test_misspelt_option_fails_before_any_image_is_read(pairs, tmp_path, capsys, monkeypatch):
    """The options are checked when the config is read: data preparation is never reached."""
    import microsr.engine.data as engine_data

    def no_images(config):
        raise AssertionError("images were read before the options were checked")

    monkeypatch.setattr(engine_data, "prepare_data", no_images)
    (tmp_path / "cfg.yaml").write_text("model: {name: edsr, options: {n_feat: 8}}\n")
    code = main(
        ["train", "--lr", str(pairs / "x2" / "lr"), "--hr", str(pairs / "x2" / "hr")]
        + ["--out", str(tmp_path / "run"), "--config", str(tmp_path / "cfg.yaml")]
    )
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1, err
    assert (
        "unknown option 'n_feat'" in err
        and "valid options: bicubic_residual, n_blocks, n_feats, res_scale" in err
    )
