"""`microsr resolution` and the multi-model options of `microsr evaluate` through the CLI."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from microsr.cli.main import main
from microsr.evaluation.resolution import decorrelation
from microsr.io import write_image
from tests.evaluation.synthetic_models import make_folders
from tests.real_images import CELEGANS_PIXEL_SIZE_UM, load_real, real_path


def test_resolution_reports_nm_from_file_pixel_size(capsys):
    assert main(["resolution", "--input", str(real_path("celegans"))]) == 0
    out = capsys.readouterr().out
    expected = decorrelation(load_real("celegans"), pixel_size=CELEGANS_PIXEL_SIZE_UM).resolution_nm
    assert f"{expected:.1f} nm" in out and "(from file)" in out
    assert "FRC (one image" in out


def test_resolution_two_images_and_given_pixel_size(tmp_path, capsys):
    rng = np.random.default_rng(0)
    clean = gaussian_filter(load_real("celegans").astype(np.float32), 1.5)
    for name in ("a.tif", "b.tif"):
        write_image(tmp_path / name, rng.poisson(clean / 10).astype(np.float32))
    assert (
        main(
            [
                "resolution",
                "--input",
                str(tmp_path / "a.tif"),
                "--second",
                str(tmp_path / "b.tif"),
                "--pixel-size",
                "40",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "(given)" in out and "FRC (two images, threshold 1/7):" in out
    frc_nm = float(out.split("FRC (two images, threshold 1/7):")[1].split("nm")[0])
    assert 80 < frc_nm < 800


@pytest.mark.parametrize("case", ["colour", "small", "mismatch", "missing", "bad_size"])
def test_resolution_bad_input_exit_2(tmp_path, capsys, case):
    argv = ["resolution", "--input", str(real_path("celegans"))]
    named = str(real_path("celegans"))
    if case == "colour":
        argv[2], named = str(real_path("histo_rgb")), "colour channels"
    elif case == "small":
        write_image(tmp_path / "tiny.tif", np.random.default_rng(0).random((20, 20)).astype(np.float32))
        argv[2], named = str(tmp_path / "tiny.tif"), "tiny.tif: is 20x20 px"
    elif case == "mismatch":
        argv += ["--second", str(real_path("neuron3d"))]
        named = "neuron3d.tif: is 64x64 px but --input is 256x256"
    elif case == "missing":
        argv[2], named = str(tmp_path / "nope.tif"), "nope.tif"
    else:
        argv += ["--pixel-size", "-3"]
        named = "--pixel-size must be a positive"
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and named in err


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    return make_folders(tmp_path_factory.mktemp("qccli"), n=3, size=64)


@pytest.mark.parametrize("case", ["line_outside", "line_garbled", "run_missing"])
def test_evaluate_qc_options_bad_input_nothing_written(folders, tmp_path, capsys, case):
    out = tmp_path / "out"
    argv = [
        "evaluate",
        "--pred",
        str(folders["sharp"]),
        "--pred",
        str(folders["blurry"]),
        "--gt",
        str(folders["gt"]),
        "--out",
        str(out),
    ]
    argv += {
        "line_outside": ["--line", "0,0,100,10"],
        "line_garbled": ["--line", "1,2,x,4"],
        "run_missing": ["--run", str(tmp_path / "norun")],
    }[case]
    named = {
        "line_outside": "cell00.tif: --line: line end (100, 10) is outside the 64x64",
        "line_garbled": "--line must be four numbers",
        "run_missing": "norun: run folder not found",
    }[case]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert named in err and "\n" not in err
    assert not out.exists()


def test_single_pred_keeps_summary_form_and_writes_report(folders, tmp_path, capsys):
    import json

    out = tmp_path / "out"
    assert (
        main(
            [
                "evaluate",
                "--pred",
                str(folders["sharp"]),
                "--gt",
                str(folders["gt"]),
                "--out",
                str(out),
                "--pixel-size",
                "50",
            ]
        )
        == 0
    )
    summary = json.loads((out / "summary.json").read_text())
    assert "models" not in summary and not (out / "comparison.csv").exists()
    html = (out / "report.html").read_text()
    assert "pixel size 50.0 nm" in html and "Only one model" in html
    assert "prediction PSNR" in capsys.readouterr().out


def test_stacks_without_pixel_size_use_middle_plane_and_pixels(tmp_path, capsys):
    rng = np.random.default_rng(0)
    for i in range(2):
        gt = gaussian_filter(rng.random((3, 64, 64)), (0, 1.5, 1.5)).astype(np.float32)
        write_image(tmp_path / "gt" / f"s{i}.tif", gt, axes="ZYX")
        write_image(tmp_path / "lr" / f"s{i}.tif", gt.reshape(3, 32, 2, 32, 2).mean(axis=(2, 4)), axes="ZYX")
        write_image(tmp_path / "a" / f"s{i}.tif", gaussian_filter(gt, (0, 1, 1)), axes="ZYX")
        write_image(tmp_path / "b" / f"s{i}.tif", gt + 0.01, axes="ZYX")
    base = [
        "evaluate",
        "--pred",
        str(tmp_path / "a"),
        "--pred",
        str(tmp_path / "b"),
        "--gt",
        str(tmp_path / "gt"),
        "--lr",
        str(tmp_path / "lr"),
    ]
    assert main(base + ["--out", str(tmp_path / "out"), "--line", "5,5,50,40"]) == 0
    html = (tmp_path / "out" / "report.html").read_text()
    assert "decorrelation resolution (px)" in html and "pixel size unknown" in html
    # with --crop-border the line is still given in uncropped pixels and must stay inside the kept area
    assert main(base + ["--out", str(tmp_path / "out2"), "--crop-border", "4", "--line", "2,5,50,40"]) == 2
    assert "ends must lie within x 4..59, y 4..59" in capsys.readouterr().err
    assert not (tmp_path / "out2").exists()
