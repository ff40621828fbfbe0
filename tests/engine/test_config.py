"""TrainConfig: YAML loading, CLI overrides, clear validation errors."""

from __future__ import annotations

import pytest

from microsr.engine.config import dump_config, load_config, make_config
from microsr.errors import ConfigError, InputError

from .helpers import tiny_config

MINIMAL = {"out": "run", "model": {"name": "srcnn"}, "data": {"lr_dir": "lr", "hr_dir": "hr"}}


def test_defaults():
    cfg = make_config(MINIMAL)
    assert cfg.optimizer.lr == 1e-4 and cfg.optimizer.name == "adam"
    assert cfg.adversarial.d_lr == 2e-5 and cfg.adversarial.g_steps_per_d_step == 3
    assert cfg.adversarial.adv_weight == 0.1
    assert cfg.schedule.factor == 0.5 and cfg.schedule.patience == 10
    assert cfg.precision == "32-true" and cfg.data.normalization.kind == "percentile"
    assert cfg.steps is None and cfg.epochs is None


def test_yaml_round_trip_and_overrides(tmp_path):
    path = tmp_path / "c.yaml"
    cfg = make_config({**MINIMAL, "epochs": 3, "optimizer": {"lr": 5e-4, "betas": [0.8, 0.9]}})
    path.write_text(dump_config(cfg))
    again = load_config(path)
    assert again == cfg
    over = load_config(
        path, {"steps": 50, "data.batch_size": 16, "optimizer": {"name": "adamw"}, "seed": None}
    )
    assert over.steps == 50 and over.epochs is None  # --steps replaces the file's epochs
    assert over.data.batch_size == 16 and over.optimizer.name == "adamw" and over.optimizer.lr == 5e-4
    assert over.seed == 0


@pytest.mark.parametrize(
    "change,message",
    [
        ({"steps": 10, "epochs": 2}, "either steps or epochs"),
        (
            {"data": {"lr_dir": "lr", "hr_dir": "hr", "patch_size": 0}},
            "data.patch_size: Input should be greater than 0",
        ),
        ({"unknown_key": 1}, "unknown_key: Extra inputs are not permitted"),
        ({"steps": "10"}, "steps: Input should be a valid integer"),
        ({"precision": "16"}, "precision: Input should be"),
        ({"schedule": {"name": "exponential"}}, "schedule.name"),
        ({"data": {"lr_dir": "lr", "hr_dir": "hr", "normalization": {"kind": "fixed"}}}, "vmin and vmax"),
    ],
)
def test_validation_errors(change, message):
    with pytest.raises(ConfigError, match=message):
        make_config({**MINIMAL, **change})


def test_bad_yaml_files(tmp_path):
    with pytest.raises(InputError, match="config file not found"):
        load_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: [unclosed\n")
    with pytest.raises(InputError, match="not valid YAML"):
        load_config(bad)
    bad.write_text("- a list\n")
    with pytest.raises(InputError, match="mapping"):
        load_config(bad)


def test_validation_folders_exclude_val_fraction_and_need_masks_on_both_sides():
    from microsr.engine.config import make_config

    base = {"out": "r", "model": {"name": "vdsr"}}
    data = {"lr_dir": "a", "hr_dir": "b", "val_lr_dir": "c", "val_hr_dir": "d"}
    assert make_config({**base, "data": data}).data.val_fraction == 0.0
    with pytest.raises(ConfigError, match="either val_fraction or validation folders"):
        make_config({**base, "data": {**data, "val_fraction": 0.2}})
    with pytest.raises(ConfigError, match="masks for both training and validation"):
        make_config({**base, "data": {**data, "mask_dir": "m"}})
    with pytest.raises(ConfigError, match="val_mask_dir needs val_lr_dir"):
        make_config({**base, "data": {"lr_dir": "a", "hr_dir": "b", "val_mask_dir": "m"}})


def test_settings_missing_from_an_older_fingerprint_stand_for_their_defaults(tmp_path):
    # a run checkpointed before data.offset_jitter and loss_options existed has neither key: it still
    # resumes with both at their defaults, and is refused when either is set
    import json

    from microsr.engine.build import check_fingerprint, fingerprint

    plain = tiny_config(tmp_path / "r")
    older = json.loads(fingerprint(plain))
    del older["loss_options"], older["data"]["offset_jitter"]
    saved = json.dumps(older)
    check_fingerprint(saved, plain)
    jittered = tiny_config(tmp_path / "r", data={**plain.data.model_dump(mode="json"), "offset_jitter": 0.05})
    with pytest.raises(ConfigError, match=r"data\.offset_jitter"):
        check_fingerprint(saved, jittered)
    check_fingerprint(fingerprint(jittered), jittered)
    charb = json.loads(fingerprint(tiny_config(tmp_path / "r", loss="charbonnier")))
    del charb["loss_options"]
    changed = tiny_config(tmp_path / "r", loss="charbonnier", loss_options={"eps": 0.01})
    with pytest.raises(ConfigError, match=r"differ from the checkpointed run: loss_options\.eps \(only"):
        check_fingerprint(json.dumps(charb), changed)  # named alone: nothing else reported as changed
