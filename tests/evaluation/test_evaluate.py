"""evaluate_folders / evaluate_pair on real images, checked against scikit-image and torch bicubic."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy.ndimage import gaussian_filter
from skimage import metrics as skm

from microsr.errors import InputError
from microsr.evaluation.evaluate import evaluate_folders, evaluate_pair
from microsr.io import write_image
from tests.real_images import load_real

SK_SSIM = {"gaussian_weights": True, "sigma": 1.5, "use_sample_covariance": False}


def _make_set(root, names=("celegans", "nuclei2d")):
    """GT (real, 256x256), LR (2x2 mean, float32) and a blurred 'prediction' per image."""
    arrays = {}
    for name in names:
        gt = load_real(name)
        lr = gt.astype(np.float32).reshape(128, 2, 128, 2).mean(axis=(1, 3))
        pred = gaussian_filter(gt.astype(np.float32), 0.8)
        write_image(root / "gt" / f"{name}.tif", gt)
        write_image(root / "lr" / f"{name}.tif", lr)
        write_image(root / "pred" / f"{name}.tif", pred)
        arrays[name] = (gt.astype(np.float64), lr.astype(np.float64), pred.astype(np.float64))
    return arrays


def _rows(out):
    with open(out / "metrics.csv", newline="") as fh:
        return {r["name"]: r for r in csv.DictReader(fh)}


def test_matches_scikit_image_and_torch_bicubic(tmp_path):
    arrays = _make_set(tmp_path)
    summary = evaluate_folders(tmp_path / "pred", tmp_path / "gt", tmp_path / "out", lr_dir=tmp_path / "lr")
    rows = _rows(tmp_path / "out")
    assert json.loads((tmp_path / "out" / "summary.json").read_text()) == summary
    ref_psnr, ref_ssim, ref_base = [], [], []
    for name, (gt, lr, pred) in arrays.items():
        dr = gt.max() - gt.min()  # per-image ground-truth range, not the dtype's
        p = skm.peak_signal_noise_ratio(gt, pred, data_range=dr)
        s = skm.structural_similarity(gt, pred, data_range=dr, **SK_SSIM)
        up = F.interpolate(
            torch.from_numpy(lr)[None, None], scale_factor=2, mode="bicubic", align_corners=False
        )[0, 0].numpy()
        b = skm.peak_signal_noise_ratio(gt, up, data_range=dr)
        assert float(rows[name]["psnr"]) == pytest.approx(p, abs=1e-4)
        assert float(rows[name]["ssim"]) == pytest.approx(s, abs=1e-4)
        assert float(rows[name]["baseline_psnr"]) == pytest.approx(b, abs=1e-4)
        assert float(rows[name]["data_range"]) == pytest.approx(dr)
        ref_psnr.append(p), ref_ssim.append(s), ref_base.append(b)
    assert summary["psnr"] == pytest.approx(np.mean(ref_psnr), abs=1e-4)
    assert summary["ssim"] == pytest.approx(np.mean(ref_ssim), abs=1e-4)
    assert summary["baseline"]["psnr"] == pytest.approx(np.mean(ref_base), abs=1e-4)
    assert summary["baseline"]["scale"] == 2 and summary["n_images"] == 2
    assert summary["fit"] == "none" and summary["crop_border"] == 0
    assert summary["data_range"] == "per-image ground truth max - min"
    assert 0 < summary["ms_ssim"] <= 1 and 0 < summary["baseline"]["ms_ssim"] <= 1
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["metrics.csv", "summary.json"]


def test_affine_fit_removes_gain_and_offset():
    gt = load_real("celegans").astype(np.float64)
    noisy = gt + np.random.default_rng(3).normal(0, 60, gt.shape)
    pred = 0.25 * noisy + 1000.0  # right structure, wrong intensity scale
    raw = evaluate_pair(gt, pred, fit="none")
    fitted = evaluate_pair(gt, pred, fit="affine")
    direct = evaluate_pair(gt, noisy, fit="none")
    assert fitted["fit_a"] == pytest.approx(4.0, rel=0.01)
    assert fitted["psnr"] > raw["psnr"] + 10
    assert fitted["psnr"] >= direct["psnr"] - 1e-9  # least squares can only lower the MSE
    assert raw["fit_a"] == 1.0 and raw["fit_b"] == 0.0


def test_fixed_data_range_and_crop_border():
    gt = load_real("nuclei2d").astype(np.float64)
    pred = gaussian_filter(gt, 1.0)
    per_image = evaluate_pair(gt, pred, fit="none")
    fixed = evaluate_pair(gt, pred, fit="none", data_range=255.0)
    assert fixed["psnr"] - per_image["psnr"] == pytest.approx(20 * np.log10(255.0 / (gt.max() - gt.min())))
    cropped = evaluate_pair(gt, pred, fit="none", crop_border=10)
    g, p = gt[10:-10, 10:-10], pred[10:-10, 10:-10]
    assert cropped["psnr"] == pytest.approx(skm.peak_signal_noise_ratio(g, p, data_range=g.max() - g.min()))


def test_small_images_give_empty_ms_ssim_with_note(tmp_path):
    stack = load_real("neuron3d")  # 8x64x64, below the 161 px MS-SSIM minimum
    write_image(tmp_path / "gt" / "n.tif", stack, "ZYX")
    write_image(tmp_path / "pred" / "n.tif", gaussian_filter(stack, (0, 1, 1)), "ZYX")
    write_image(tmp_path / "pred" / "extra.tif", stack, "ZYX")
    s = evaluate_folders(tmp_path / "pred", tmp_path / "gt", tmp_path / "out", fit="affine", crop_border=2)
    assert s["ms_ssim"] is None and "161" in s["notes"][0]
    assert s["unmatched_predictions"] == ["extra.tif"]
    assert _rows(tmp_path / "out")["n"]["ms_ssim"] == ""


@pytest.mark.parametrize(
    "problem", ["no_pairs", "missing_pred", "shape", "lr_scale", "constant", "ambiguous"]
)
def test_bad_inputs_name_the_file_and_write_nothing(tmp_path, problem):
    _make_set(tmp_path)
    out = tmp_path / "out"
    kwargs = {}
    if problem == "no_pairs":
        for f in (tmp_path / "pred").iterdir():
            f.rename(f.with_name("other_" + f.name))
        expect, path = "no prediction file has the name", tmp_path / "pred"
    elif problem == "missing_pred":
        (tmp_path / "pred" / "nuclei2d.tif").unlink()
        expect, path = "no prediction named nuclei2d", tmp_path / "gt" / "nuclei2d.tif"
    elif problem == "shape":
        write_image(tmp_path / "pred" / "nuclei2d.tif", np.zeros((250, 256), np.float32))
        expect, path = "differs from ground truth nuclei2d.tif", tmp_path / "pred" / "nuclei2d.tif"
    elif problem == "lr_scale":
        write_image(tmp_path / "lr" / "celegans.tif", np.ones((100, 100), np.float32))
        expect, path = "not the ground truth's", tmp_path / "lr" / "celegans.tif"
        kwargs["lr_dir"] = tmp_path / "lr"
    elif problem == "constant":
        write_image(tmp_path / "gt" / "celegans.tif", np.full((256, 256), 7, np.uint16))
        expect, path = "constant", tmp_path / "gt" / "celegans.tif"
    else:
        write_image(tmp_path / "pred" / "celegans.png", np.zeros((256, 256), np.uint8))
        expect, path = "ambiguous", tmp_path / "pred" / "celegans.tif"
    with pytest.raises(InputError, match=expect) as err:
        evaluate_folders(tmp_path / "pred", tmp_path / "gt", out, **kwargs)
    assert err.value.path == str(path)
    assert not out.exists()


def test_option_checks(tmp_path):
    _make_set(tmp_path, names=("nuclei2d",))
    with pytest.raises(InputError, match="--fit"):
        evaluate_folders(tmp_path / "pred", tmp_path / "gt", tmp_path / "o", fit="gauss")
    with pytest.raises(InputError, match="--data-range"):
        evaluate_folders(tmp_path / "pred", tmp_path / "gt", tmp_path / "o", data_range=-1.0)
    with pytest.raises(InputError, match="x2 smaller .* not x4"):
        evaluate_folders(tmp_path / "pred", tmp_path / "gt", tmp_path / "o", lr_dir=tmp_path / "lr", scale=4)
    assert not (tmp_path / "o").exists()


def _normalised_predictions(root, arrays):
    """Rewrite each prediction in normalised units, as `microsr predict` writes them by default."""
    for name, (gt, _, pred) in arrays.items():
        lo, hi = np.percentile(gt, [1, 99.8])
        norm = ((pred - lo) / (hi - lo)).astype(np.float32)
        write_image(root / "pred" / f"{name}.tif", norm, metadata={"units": "normalised"})


def test_normalised_predictions_are_fitted_by_default_and_refused_without_a_fit(tmp_path):
    arrays = _make_set(tmp_path)
    _normalised_predictions(tmp_path, arrays)
    auto = evaluate_folders(
        tmp_path / "pred", tmp_path / "gt", tmp_path / "auto", lr_dir=tmp_path / "lr", fit="auto"
    )
    affine = evaluate_folders(
        tmp_path / "pred", tmp_path / "gt", tmp_path / "aff", lr_dir=tmp_path / "lr", fit="affine"
    )
    assert auto["psnr"] == affine["psnr"] and auto["baseline"]["psnr"] == affine["baseline"]["psnr"]
    assert auto["fit"] == "affine" and auto["fit_requested"] == "auto"
    assert (
        auto["convention"]
        == "affine intensity fit, data range per-image ground truth max - min, crop border 0 px"
    )
    assert any("normalised units" in n for n in auto["notes"])
    assert {r["fit"] for r in auto["per_image"]} == {"affine"}
    with pytest.raises(InputError, match="normalised units .* use --fit affine") as err:
        evaluate_folders(tmp_path / "pred", tmp_path / "gt", tmp_path / "none", fit="none")
    assert err.value.path == str(tmp_path / "pred" / "celegans.tif")
    assert not (tmp_path / "none").exists()


def test_auto_leaves_predictions_in_input_units_unfitted(tmp_path):
    arrays = _make_set(tmp_path)
    _normalised_predictions(tmp_path, {"nuclei2d": arrays["nuclei2d"]})  # celegans stays in GT units
    s = evaluate_folders(tmp_path / "pred", tmp_path / "gt", tmp_path / "out", fit="auto")
    fits = {r["name"]: r["fit"] for r in s["per_image"]}
    assert fits == {"celegans": "none", "nuclei2d": "affine"} and s["fit"] == "auto"
    gt, _, pred = arrays["celegans"]
    raw = evaluate_pair(gt, pred, fit="none")
    assert _rows(tmp_path / "out")["celegans"]["psnr"] == f"{raw['psnr']:.8g}"
