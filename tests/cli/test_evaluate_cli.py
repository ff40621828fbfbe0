"""`microsr evaluate` through microsr.cli.main.main: exit codes, output and clean failures."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile
from scipy.ndimage import gaussian_filter
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from microsr.cli.main import main
from microsr.io import write_image
from tests.real_images import load_real, real_path


@pytest.fixture
def folders(tmp_path):
    gt = load_real("nuclei2d")
    write_image(tmp_path / "gt" / "cells.tif", gt)
    write_image(
        tmp_path / "lr" / "cells.tif", gt.astype(np.float32).reshape(128, 2, 128, 2).mean(axis=(1, 3))
    )
    write_image(tmp_path / "pred" / "cells.tif", gaussian_filter(gt.astype(np.float32), 0.8))
    return tmp_path


def _args(root, *extra):
    return [
        "evaluate",
        "--pred",
        str(root / "pred"),
        "--gt",
        str(root / "gt"),
        "--out",
        str(root / "out"),
        *extra,
    ]


def test_evaluate_writes_summary_matching_scikit_image(folders, capsys):
    assert main(_args(folders, "--lr", str(folders / "lr"))) == 0
    out = capsys.readouterr().out
    assert "PSNR" in out and "bicubic x2" in out and "summary.json" in out
    summary = json.loads((folders / "out" / "summary.json").read_text())
    gt = load_real("nuclei2d").astype(np.float64)
    pred = gaussian_filter(gt.astype(np.float32), 0.8).astype(np.float64)
    dr = gt.max() - gt.min()
    assert summary["psnr"] == pytest.approx(peak_signal_noise_ratio(gt, pred, data_range=dr), abs=1e-4)
    ref_ssim = structural_similarity(
        gt, pred, data_range=dr, gaussian_weights=True, sigma=1.5, use_sample_covariance=False
    )
    assert summary["ssim"] == pytest.approx(ref_ssim, abs=1e-4)
    assert summary["baseline"]["psnr"] < summary["psnr"]


def test_options_reach_summary(folders):
    assert main(_args(folders, "--fit", "affine", "--data-range", "255", "--crop-border", "3")) == 0
    summary = json.loads((folders / "out" / "summary.json").read_text())
    assert (summary["fit"], summary["data_range"], summary["crop_border"]) == ("affine", 255.0, 3)
    assert "baseline" not in summary


def _fail(argv, capsys):
    code = main(argv)
    err = capsys.readouterr().err.strip()
    return code, err


@pytest.mark.parametrize("case", ["missing_folder", "no_pairs", "corrupt", "nan", "two_preds"])
def test_bad_input_exit_2_one_line_nothing_written(folders, capsys, case):
    argv = _args(folders)
    if case == "missing_folder":
        argv[2] = str(folders / "nowhere")
        named = "nowhere"
    elif case == "no_pairs":
        (folders / "pred" / "cells.tif").rename(folders / "pred" / "other.tif")
        named = str(folders / "pred")
    elif case == "corrupt":
        data = real_path("nuclei2d").read_bytes()
        (folders / "pred" / "cells.tif").write_bytes(data[: len(data) // 2])
        named = "cells.tif: cannot read TIFF: corrupt or truncated"
    elif case == "nan":
        bad = load_real("nuclei2d").astype(np.float32)
        bad[10, 10] = np.nan
        tifffile.imwrite(folders / "pred" / "cells.tif", bad)
        named = "cells.tif: image contains 1 NaN"
    else:
        argv += ["--pred", str(folders / "pred")]
        named = "given twice as --pred"
    code, err = _fail(argv, capsys)
    assert code == 2
    assert err.startswith("error: ") and "\n" not in err and "Traceback" not in err
    assert named in err
    assert not (folders / "out").exists()


def test_usage_error_exit_2(folders, capsys):
    assert main(_args(folders, "--fit", "gaussian")) == 2
    assert not (folders / "out").exists()
