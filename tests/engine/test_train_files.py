"""train() end to end on synthetic image files through the real data layer."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from microsr.engine import train
from microsr.engine.config import make_config
from microsr.engine.data import epoch_steps, prepare_data
from microsr.errors import ConfigError, InputError
from microsr.io import write_image
from microsr.modelcard import load_model_folder


def make_pairs(root, n=4, size=64, seed=0, masks=False):
    """Smooth random 16-bit HR images and their 2x2-mean LR, as TIFF pairs (+ label masks)."""
    rng = np.random.default_rng(seed)
    for name in ("lr", "hr") + (("mask",) if masks else ()):
        (root / name).mkdir(parents=True, exist_ok=True)
    for i in range(n):
        coarse = torch.from_numpy(rng.random((1, 1, size // 4, size // 4)) ** 4)
        hr = F.interpolate(coarse, size=(size, size), mode="bicubic", align_corners=False)[0, 0].numpy()
        hr = (hr - hr.min()) / (hr.max() - hr.min())
        lr = hr.reshape(size // 2, 2, size // 2, 2).mean(axis=(1, 3))
        write_image(root / "hr" / f"img{i}.tif", (hr * 60000).astype(np.uint16))
        write_image(root / "lr" / f"img{i}.tif", (lr * 60000).astype(np.uint16))
        if masks:
            write_image(root / "mask" / f"img{i}.tif", (hr > 0.5).astype(np.uint8) + (hr > 0.8))
    return root / "lr", root / "hr"


def _cfg(tmp_path, lr, hr, **over):
    return make_config(
        {
            "out": str(tmp_path / "run"),
            "model": {"name": "vdsr", "tiny": True},
            "data": {
                "lr_dir": str(lr),
                "hr_dir": str(hr),
                "patch_size": 16,
                "batch_size": 8,
                "val_fraction": 0.25,
            },
            "device": "cpu",
            "num_threads": 1,
            **over,
        }
    )


def test_training_beats_bicubic_on_its_patches(tmp_path):
    lr, hr = make_pairs(tmp_path)
    cfg = _cfg(tmp_path, lr, hr, steps=150, val_every=75, optimizer={"lr": 2e-3})
    run = train(cfg, progress=False)
    model, _ = load_model_folder(run, weights="last", device="cpu")
    data = prepare_data(cfg)
    batch = data.batcher.batch(10_000)  # patches of the training images
    with torch.no_grad():
        pred = model(batch["lr"])
    bic = F.interpolate(batch["lr"], scale_factor=2, mode="bicubic", align_corners=False)
    mse_model = torch.mean((pred - batch["hr"]) ** 2).item()
    mse_bic = torch.mean((bic - batch["hr"]) ** 2).item()
    print("mse model/bicubic", mse_model, mse_bic)
    assert mse_model < 0.7 * mse_bic, (mse_model, mse_bic)
    doc = json.loads((run / "model.json").read_text())
    assert doc["data"]["train_images"] == 3 and doc["data"]["val_images"] == 1
    assert doc["validation"]["psnr"] > 20


def test_epochs_define_steps(tmp_path):
    lr, hr = make_pairs(tmp_path, n=2, size=32)
    cfg = _cfg(tmp_path, lr, hr, epochs=2)
    data = prepare_data(cfg)
    # 2 images, val_fraction 0.25 -> 1 training image of 16x16 LR; patch 16 -> 1 tile; batch 8 -> 1 step
    assert data.epoch_steps == epoch_steps([(16, 16)], 16, 8) == 1
    run = train(cfg, progress=False)
    assert json.loads((run / "model.json").read_text())["training"]["total_steps"] == 2


def test_bad_inputs(tmp_path):
    lr, hr = make_pairs(tmp_path, n=2, size=32)
    with pytest.raises(InputError, match="folder not found"):
        prepare_data(_cfg(tmp_path, tmp_path / "nope", hr, steps=1))
    with pytest.raises(InputError, match="patch size"):
        prepare_data(
            _cfg(
                tmp_path,
                lr,
                hr,
                steps=1,
                data={"lr_dir": str(lr), "hr_dir": str(hr), "patch_size": 64, "val_fraction": 0.5},
            )
        )
    cfg = make_config(
        {
            "out": str(tmp_path / "m"),
            "model": {"name": "geometry-prior", "tiny": True},
            "data": {"lr_dir": str(lr), "hr_dir": str(hr)},
            "steps": 1,
        }
    )
    with pytest.raises(InputError, match="geometry-prior.*mask"):
        prepare_data(cfg)


def test_mask_model_from_files(tmp_path):
    lr, hr = make_pairs(tmp_path, n=2, size=32, masks=True)
    cfg = make_config(
        {
            "out": str(tmp_path / "run"),
            "model": {"name": "geometry-prior", "tiny": True},
            "data": {
                "lr_dir": str(lr),
                "hr_dir": str(hr),
                "mask_dir": str(tmp_path / "mask"),
                "patch_size": 8,
                "batch_size": 2,
                "val_fraction": 0.5,
            },
            "steps": 2,
            "device": "cpu",
            "num_threads": 1,
        }
    )
    run = train(cfg, progress=False)
    assert (run / "weights/best.safetensors").is_file()


def test_mask_model_with_separate_validation_folders(tmp_path):
    lr, hr = make_pairs(tmp_path / "t", n=2, size=32, masks=True)
    vlr, vhr = make_pairs(tmp_path / "v", n=1, size=32, seed=1, masks=True)
    cfg = make_config(
        {
            "out": str(tmp_path / "run"),
            "model": {"name": "geometry-prior", "tiny": True},
            "data": {
                "lr_dir": str(lr),
                "hr_dir": str(hr),
                "mask_dir": str(tmp_path / "t/mask"),
                "val_lr_dir": str(vlr),
                "val_hr_dir": str(vhr),
                "val_mask_dir": str(tmp_path / "v/mask"),
                "patch_size": 8,
                "batch_size": 2,
            },
            "steps": 2,
            "device": "cpu",
            "num_threads": 1,
        }
    )
    data = prepare_data(cfg)
    assert data.summary["train_images"] == 2 and data.summary["val_images"] == 1
    assert "mask" in data.val_batches[0] and data.val_batches[0]["mask"] is not None
    run = train(cfg, progress=False)
    assert json.loads((run / "model.json").read_text())["validation"]["step"] == 2


def test_training_intensities_recorded(tmp_path):
    """data.lr_intensity is the training LR's 2nd and 99.8th percentiles in raw units (numpy's
    percentile on the file as the reference), what ``predict --normalization training`` applies."""
    lr, hr = make_pairs(tmp_path, n=1, size=64)
    cfg = _cfg(tmp_path, lr, hr)
    cfg.data.val_fraction = 0.0
    got = prepare_data(cfg).summary["lr_intensity"]
    raw = np.asarray(__import__("tifffile").imread(lr / "img0.tif"), dtype=np.float64)
    lo, hi = np.percentile(raw, [2.0, 99.8])
    assert got == pytest.approx({"vmin": lo, "vmax": hi}, rel=1e-9)


def test_offset_jitter_reaches_the_batches(tmp_path):
    lr, hr = make_pairs(tmp_path, n=2, size=32)
    plain = prepare_data(_cfg(tmp_path, lr, hr, steps=1)).batcher
    base = _cfg(tmp_path, lr, hr, steps=1).model_dump(mode="json")
    base["data"].update(offset_jitter=0.1, batch_size=1)
    jit = prepare_data(make_config(base)).batcher
    assert jit.offset_jitter == 0.1 and plain.offset_jitter == 0.0
    with pytest.raises(ConfigError, match="offset_jitter"):
        make_config({**base, "data": {**base["data"], "offset_jitter": -0.1}})


def test_the_run_records_its_test_time_augmentation_and_predict_uses_it(tmp_path):
    from microsr.inference.predict import predict_path
    from microsr.inference.tta import TTA_GROUPS
    from microsr.io import read_image

    lr, hr = make_pairs(tmp_path, n=4, size=32)
    run = train(_cfg(tmp_path, lr, hr, steps=4, val_every=2), progress=False)
    rec = json.loads((run / "model.json").read_text())["tta"]
    assert rec["monitor"] == "val_loss" and set(rec["scores"]) == set(TTA_GROUPS)
    assert rec["chosen"] in TTA_GROUPS
    # the choice follows its own scores: a larger group only when clearly better than "none"
    if rec["chosen"] != "none":
        assert rec["scores"][rec["chosen"]] < rec["scores"]["none"]
    # an edited record shows that predict's default (auto) takes the recorded group
    doc = json.loads((run / "model.json").read_text())
    doc["tta"]["chosen"] = "flips"
    (run / "model.json").write_text(json.dumps(doc))
    (auto,) = predict_path(run, lr / "img0.tif", tmp_path / "auto", progress=False)
    (none,) = predict_path(run, lr / "img0.tif", tmp_path / "none", tta="none", progress=False)
    a, b = read_image(auto), read_image(none)
    assert a.metadata["microsr"]["tta"] == "flips" and b.metadata["microsr"]["tta"] == "none"
    assert not np.allclose(a.array, b.array)


def test_training_says_which_test_time_augmentation_it_chose(tmp_path, monkeypatch, capsys):
    import microsr.engine.loop as loop

    record = {"chosen": "flips", "monitor": "val_loss", "scores": {"none": 0.5, "flips": 0.25, "all": 0.3}}
    monkeypatch.setattr(loop, "choose_tta", lambda *args: record)
    lr, hr = make_pairs(tmp_path, n=4, size=32)
    run = train(_cfg(tmp_path, lr, hr, steps=2, val_every=2), progress=True)
    said = capsys.readouterr()
    assert (
        "test-time augmentation: the average over the 4 mirrors validates better (val_loss 0.25 against "
        "0.5); `microsr predict` will use it (--tta none to switch off)"
    ) in said.err + said.out
    assert json.loads((run / "model.json").read_text())["tta"] == record
