"""The user workflow for every registered model: ``microsr train`` then ``microsr predict``.

The model list is read when this file is imported, so an architecture registered later is tested
without editing this file. Everything goes through the real entry point
``microsr.cli.main.main([...])`` exactly as a user types it: tiny architecture (``--tiny``), two
optimiser steps, 8 px LR patches (16 px HR; the SRGAN discriminator is sized from the HR patch by
the engine), three 16x16 -> 32x32 pairs on disk, one thread.

* Models that use parsing maps (spec ``needs_mask``, or named ``geometry-prior*`` / ``sftgan``)
  train with ``--mask`` on a folder of label images (0 background, 1 cytoplasm, 2 nucleus).
* Adversarial models (spec names a discriminator) train through it (``loss_g_adv`` in log.csv).
* Multi-output models (``SROutput``, e.g. MHTCUN, geometry-prior-full) train with their default loss.
* ``predict`` gets ``--masks`` exactly when the model's ``forward`` takes a second input.
* ``bicubic`` (no weights) must be refused by ``train`` with one clear line and exit code 2.

Drawing ``loss_curves*.png`` with matplotlib costs about 0.5 s per run and does not depend on the
model, so it is switched off here (``tests/engine`` and ``tests/workflow/test_real_data.py`` check
the curves); everything else is the unmodified command.
"""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import tifffile

from microsr.cli.main import main
from microsr.io import write_image
from microsr.models import get_spec, list_models

MODELS = list_models()  # at import time: models registered later are included automatically
LR, SCALE, PATCH = 16, 2, 8
PRED_SHAPE = (20, 24)  # the predicted LR image: non-square, not a power of two


def _uses_masks(name: str) -> bool:
    spec = get_spec(name)
    return spec.needs_mask or name.startswith(("geometry-prior", "sftgan"))


def _blobs(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Smooth positive 'cells': a few Gaussian spots on a dim background, float in [0, 1]."""
    yy, xx = np.mgrid[: shape[0], : shape[1]].astype(np.float64)
    img = np.full(shape, 0.05)
    for _ in range(4):
        cy, cx = rng.uniform(0, shape[0]), rng.uniform(0, shape[1])
        img += rng.uniform(0.4, 1.0) * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * 2.5**2))
    return img / img.max()


def _labels(hr: np.ndarray) -> np.ndarray:
    """Label image on the HR grid: 0 background, 1 'cytoplasm', 2 'nucleus' (brightest part)."""
    return (hr > 0.25).astype(np.uint8) + (hr > 0.6).astype(np.uint8)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """lr/, hr/, mask/ (training, 3 pairs) and pred_lr/, pred_mask/ (one unseen image)."""
    root = tmp_path_factory.mktemp("workflow_data")
    for sub in ("lr", "hr", "mask", "pred_lr", "pred_mask"):
        (root / sub).mkdir()
    rng = np.random.default_rng(11)

    def pair(shape):
        hr = _blobs(rng, (SCALE * shape[0], SCALE * shape[1]))
        lr = hr.reshape(shape[0], SCALE, shape[1], SCALE).mean(axis=(1, 3))
        lr = lr + rng.normal(0, 0.01, lr.shape)
        return hr, np.clip(lr, 0, None)

    for i in range(3):
        hr, lr = pair((LR, LR))
        write_image(root / "hr" / f"cell{i}.tif", (hr * 3000).astype(np.uint16))
        write_image(root / "lr" / f"cell{i}.tif", (lr * 3000).astype(np.uint16))
        write_image(root / "mask" / f"cell{i}.tif", _labels(hr))
    hr, lr = pair(PRED_SHAPE)
    write_image(root / "pred_lr" / "new.tif", (lr * 3000).astype(np.uint16))
    write_image(root / "pred_mask" / "new.tif", _labels(hr))
    return root


def _train_args(data, out, name, *extra):
    return [
        "train",
        "--lr",
        str(data / "lr"),
        "--hr",
        str(data / "hr"),
        "--model",
        name,
        "--tiny",
        "--scale",
        str(SCALE),
        "--out",
        str(out),
        "--steps",
        "2",
        "--patch-size",
        str(PATCH),
        "--batch-size",
        "2",
        "--num-threads",
        "1",
        "--device",
        "cpu",
        "--quiet",
        *extra,
    ]


@pytest.fixture
def no_curves(monkeypatch):
    import microsr.engine.loop as loop

    monkeypatch.setattr(loop, "plot_loss_curves", lambda log, folder: [])


@pytest.mark.parametrize("name", MODELS)
def test_train_then_predict(name, dataset, tmp_path, capsys, no_curves):
    spec = get_spec(name)
    run = tmp_path / "run"
    masks = ["--mask", str(dataset / "mask")] if _uses_masks(name) else []

    if not spec.trainable:
        code = main(_train_args(dataset, run, name, *masks))
        err = capsys.readouterr().err.strip()
        assert code == 2, f"{name}: untrainable model should be refused with exit code 2, got {code}"
        assert err.startswith("error:") and len(err.splitlines()) == 1, err
        assert name in err and "no weights to train" in err
        assert not run.exists() or not any(run.iterdir()), "a refused run must not leave files"
        return

    assert main(_train_args(dataset, run, name, *masks)) == 0, capsys.readouterr().err
    assert f"trained {name} x{SCALE}" in capsys.readouterr().out
    for rel in ("model.json", "weights/best.safetensors", "weights/last.safetensors", "log.csv"):
        assert (run / rel).is_file(), f"{name}: {rel} missing from the run folder"
    doc = json.loads((run / "model.json").read_text())
    assert doc["architecture"]["name"] == name and doc["architecture"]["tiny"] is True
    assert doc["training"]["steps_done"] == 2
    assert doc["training"]["loss"] == spec.default_loss
    with open(run / "log.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    train_rows = [r for r in rows if r["phase"] == "train"]
    assert train_rows and all(np.isfinite(float(r["loss"])) for r in train_rows)
    if spec.discriminator is not None:  # trained through its discriminator
        assert train_rows[-1].get("loss_g_adv") and train_rows[0].get("d_loss"), train_rows
    assert any(r["phase"] == "val" and r["psnr"] for r in rows), "no validation row"

    pred_masks = ["--masks", str(dataset / "pred_mask")] if get_spec(name).mask_input else []
    out_dir = tmp_path / "pred"
    code = main(
        [
            "predict",
            "--model",
            str(run),
            "--input",
            str(dataset / "pred_lr" / "new.tif"),
            "--output",
            str(out_dir),
            "--device",
            "cpu",
            *pred_masks,
        ]
    )
    assert code == 0, capsys.readouterr().err
    result = out_dir / "new.tif"
    assert result.is_file()
    y = tifffile.imread(result)
    assert y.shape == (SCALE * PRED_SHAPE[0], SCALE * PRED_SHAPE[1])
    assert np.isfinite(y).all()
    assert float(y.std()) > 0, f"{name}: constant prediction"
