"""Adversarial training (DFGAN / SFTGAN) and models that need parsing masks."""

from __future__ import annotations

import csv

import pytest
import torch

from microsr.engine.loop import run_training
from microsr.errors import InputError

from .helpers import tiny_config, tiny_data

SMALL_D = {"stem": 4, "widths": [4, 8], "hidden": 8}


def _train_rows(run):
    with open(run / "log.csv", newline="") as fh:
        return [r for r in csv.DictReader(fh) if r["phase"] == "train"]


def test_dfgan_updates_discriminator_every_third_step(tmp_path):
    cfg = tiny_config(
        tmp_path / "gan",
        model={"name": "dfgan", "tiny": True},
        steps=6,
        val_every=6,
        adversarial={"options": SMALL_D},
    )
    run = run_training(cfg, tiny_data(), progress=False)
    rows = _train_rows(run)
    d_steps = [r["step"] for r in rows if r.get("d_loss")]
    assert d_steps == ["1", "4"]  # steps 0 and 3 (0-based): 3 generator steps per discriminator step
    r = rows[0]
    total = float(r["loss_pixel"]) + 0.1 * float(r["loss_g_adv"])
    assert float(r["loss"]) == pytest.approx(total, rel=1e-5)


def test_adversarial_can_be_switched_off(tmp_path):
    cfg = tiny_config(
        tmp_path / "nogan",
        model={"name": "dfgan", "tiny": True},
        steps=2,
        val_every=2,
        adversarial={"enabled": False},
    )
    rows = _train_rows(run_training(cfg, tiny_data(), progress=False))
    assert "loss_g_adv" not in rows[0] and rows[0]["loss_mse"]


def test_sftgan_gets_mask_and_srgan_discriminator_sized_to_patch(tmp_path):
    cfg = tiny_config(
        tmp_path / "sft",
        model={"name": "sftgan", "tiny": True},
        steps=2,
        val_every=2,
        adversarial={"options": {"n_feats": 4, "dense": 8}},
    )
    run = run_training(cfg, tiny_data(masks=True), progress=False)
    assert (run / "weights/best.safetensors").is_file()


def test_mask_model_without_masks_is_refused(tmp_path):
    cfg = tiny_config(tmp_path / "nomask", model={"name": "geometry-prior", "tiny": True})
    with pytest.raises(InputError, match="geometry-prior.*mask"):
        run_training(cfg, tiny_data(masks=False), progress=False)


def test_geometry_prior_full_trains_with_its_loss(tmp_path):
    cfg = tiny_config(
        tmp_path / "gp", model={"name": "geometry-prior-full", "tiny": True}, steps=2, val_every=2
    )
    run = run_training(cfg, tiny_data(masks=True), progress=False)
    rows = _train_rows(run)
    assert torch.isfinite(torch.tensor(float(rows[-1]["loss"])))
