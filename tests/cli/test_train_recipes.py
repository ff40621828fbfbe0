"""``microsr train`` with no model and no config: budget recipe, region validation, time budget."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import yaml

from microsr.cli.main import main
from microsr.io import write_image
from tests.real_images import load_real


def _write_pair(root, name, hr):
    """HR as given, LR = 2x2 means of HR (an area-binned acquisition)."""
    lr = hr.reshape(*hr.shape[:-2], hr.shape[-2] // 2, 2, hr.shape[-1] // 2, 2).mean(axis=(-3, -1))
    axes = "ZYX" if hr.ndim == 3 else "YX"
    write_image(root / "hr" / f"{name}.tif", hr.astype(np.float32), axes)
    write_image(root / "lr" / f"{name}.tif", lr.astype(np.float32), axes)


@pytest.fixture
def one_image(tmp_path):
    """One real 2-D acquisition: the C. elegans Airyscan crop (256 x 256 HR, 128 x 128 LR)."""
    _write_pair(tmp_path, "celegans", load_real("celegans").astype(np.float64))
    return tmp_path


def _train(root, out, *extra):
    args = ["train", "--lr", str(root / "lr"), "--hr", str(root / "hr"), "--scale", "2", "--out", str(out)]
    return main([*args, "--num-threads", "1", "--device", "cpu", "--quiet", *extra])


def test_one_image_trains_with_defaults_and_validates_on_a_held_out_strip(one_image, capsys):
    run = one_image / "run"
    assert _train(one_image, run, "--steps", "6", "--batch-size", "2") == 0
    err = capsys.readouterr().err
    assert "validation: held-out strips of 1 of 1 image plane(s)" in err
    cfg = yaml.safe_load((run / "config.yaml").read_text())
    assert cfg["recipe"] == "budget" and cfg["model"] == {
        "name": "care-unet-k3",
        "options": {},
        "tiny": False,
    }
    assert cfg["optimizer"]["lr"] == 4e-4 and cfg["schedule"]["name"] == "none" and cfg["loss"] == "l1"
    assert cfg["data"]["foreground_threshold"] is None and cfg["val_every"] == 2
    assert cfg["data"]["augment"] is False  # rotations/flips misteach asymmetric degradations
    doc = json.loads((run / "model.json").read_text())
    data = doc["data"]
    # the U-Net's 3x3 convs on the HR grid reach 2 + 4 + 8 + 4 + 2 = 20 HR px, the 2x2 poolings
    # shift that by up to 1 + 2 more, i.e. 11 LR px, and the bicubic up-sampling inside reads 2 more
    # LR px (its 4-tap kernel): 13 LR px
    assert data["val_source"] == "region" and data["receptive_field"] == 13 and data["val_margin"] == 13
    assert data["val_images"] == 1 and "13 px from the training parts" in data["val_message"]
    v = doc["validation"]
    assert np.isfinite(v["psnr"]) and v["best_step"] in (2, 4, 6)  # best weights chosen on the strip
    assert (run / "weights" / "best.safetensors").is_file()
    # ... on the validation loss (the training loss, MAE, on the strip), not on its PSNR
    rows = [r for r in csv.DictReader((run / "log.csv").open()) if r["phase"] == "val"]
    lowest = min(rows, key=lambda r: float(r["val_loss"]))
    assert v["monitor"] == "val_loss" and v["best_step"] == int(lowest["step"]) and len(rows) == 3


def test_one_stack_and_mixed_sizes(tmp_path, capsys):
    stack = load_real("neuron3d").astype(np.float64)  # 8 x 64 x 64 widefield planes, mirrored to 128 x 128
    stack = np.pad(stack, ((0, 0), (32, 32), (32, 32)), mode="reflect")
    _write_pair(tmp_path, "neuron", stack)
    _write_pair(tmp_path, "celegans", load_real("celegans").astype(np.float64)[:128, :192])
    run = tmp_path / "run"
    extra = ("--steps", "2", "--batch-size", "2", "--patch-size", "8")
    assert _train(tmp_path, run, *extra) == 0
    assert "validation: held-out strips of 9 of 9 image plane(s)" in capsys.readouterr().err
    data = json.loads((run / "model.json").read_text())["data"]
    assert data["train_planes"] == 9 and data["val_planes"] == 9


def test_val_fraction_zero_and_paper_recipe(one_image):
    run = one_image / "paper"
    assert _train(one_image, run, "--steps", "2", "--recipe", "paper", "--val-fraction", "0") == 0
    cfg = yaml.safe_load((run / "config.yaml").read_text())
    assert cfg["recipe"] == "paper" and cfg["model"] == {
        "name": "care-unet-k3",
        "options": {},
        "tiny": False,
    }
    assert (
        cfg["optimizer"]["lr"] == 1e-4
        and cfg["data"]["patch_size"] == 64
        and cfg["data"]["val_fraction"] == 0
    )
    assert json.loads((run / "model.json").read_text())["data"]["val_source"] == "none"


def test_without_validation_the_progress_says_so_instead_of_nan(one_image, capsys):
    run = one_image / "noval"
    args = ["train", "--lr", str(one_image / "lr"), "--hr", str(one_image / "hr"), "--scale", "2"]
    extra = ["--out", str(run), "--steps", "2", "--val-fraction", "0", "--num-threads", "1"]
    assert main([*args, *extra, "--device", "cpu", "--batch-size", "2"]) == 0
    err = capsys.readouterr().err
    assert "step 2: weights saved (no validation images: the last weights are the best)" in err
    assert "nan" not in err.lower()


def test_time_budget_becomes_steps(one_image, capsys):
    run = one_image / "timed"
    assert _train(one_image, run, "--minutes", "0.05", "--patch-size", "8", "--batch-size", "1") == 0
    assert "time budget 0.05 min:" in capsys.readouterr().err
    cfg = yaml.safe_load((run / "config.yaml").read_text())
    assert cfg["minutes"] == 0.05 and cfg["steps"] >= 10 and cfg["val_every"] == max(cfg["steps"] // 3, 1)


def test_budget_needs_a_budget_and_recipes_are_checked(one_image, capsys):
    assert _train(one_image, one_image / "a") == 2
    assert "the budget recipe needs a budget: give --steps N or --minutes M" in capsys.readouterr().err
    assert _train(one_image, one_image / "b", "--steps", "2", "--recipe", "fast") == 2
    assert "unknown recipe 'fast': choose one of budget, paper" in capsys.readouterr().err
    assert _train(one_image, one_image / "c", "--steps", "2", "--minutes", "1") == 2
    assert "mutually exclusive" in capsys.readouterr().err
