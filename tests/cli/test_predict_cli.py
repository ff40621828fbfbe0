"""``microsr predict`` on the command line: results, exit codes, one-line errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from microsr.cli.main import main
from microsr.io import read_image, write_image
from microsr.modelcard import save_model_folder
from microsr.models import create_model


@pytest.fixture
def setup(tmp_path, rng):
    torch.manual_seed(0)
    save_model_folder(
        tmp_path / "run",
        create_model("srcnn", tiny=True),
        name="srcnn",
        scale=2,
        tiny=True,
        normalization={"kind": "percentile"},
    )
    write_image(tmp_path / "lr" / "a.tif", rng.integers(0, 60000, (20, 24), dtype=np.uint16), "YX", 0.08)
    write_image(tmp_path / "lr" / "b.tif", rng.integers(0, 60000, (2, 20, 24), dtype=np.uint16), "ZYX", 0.08)
    return tmp_path


def test_predict_folder_keep_range(setup, capsys):
    t = setup
    code = main(
        [
            "predict",
            "--model",
            str(t / "run"),
            "--input",
            str(t / "lr"),
            "--output",
            str(t / "sr"),
            "--tile",
            "16",
            "--overlap",
            "8",
            "--keep-range",
            "--weights",
            "last",
        ]
    )
    assert code == 0
    assert "wrote 2 image(s)" in capsys.readouterr().out
    a, b = read_image(t / "sr" / "a.tif"), read_image(t / "sr" / "b.tif")
    assert a.array.dtype == b.array.dtype == np.uint16
    assert a.array.shape == (40, 48) and b.array.shape == (2, 40, 48) and b.axes == "ZYX"
    assert a.pixel_size == pytest.approx(0.04)


def test_predict_single_file_tta_float32(setup):
    t = setup
    assert (
        main(
            [
                "predict",
                "--model",
                str(t / "run"),
                "--input",
                str(t / "lr" / "a.tif"),
                "--output",
                str(t / "sr"),
                "--tta",
            ]
        )
        == 0
    )
    assert read_image(t / "sr" / "a.tif").array.dtype == np.float32
    assert not (t / "sr" / "b.tif").exists()


@pytest.mark.parametrize("case", ["no_model", "no_input", "same_dir", "bad_json", "tiny_tile"])
def test_bad_input_exit_2_one_line_nothing_written(setup, capsys, case):
    t = setup
    model, inp, out, extra = t / "run", t / "lr", t / "sr", []
    if case == "no_model":
        model = t / "nowhere"
    elif case == "no_input":
        inp = t / "missing"
    elif case == "same_dir":
        out = inp
    elif case == "bad_json":
        (t / "run" / "model.json").write_text('{"format": "other/9"}')
    else:
        extra = ["--tile", "4"]
    before = sorted(p.name for p in (t / "lr").iterdir())
    code = main(["predict", "--model", str(model), "--input", str(inp), "--output", str(out), *extra])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.startswith("error: ") and len(err.splitlines()) == 1 and "Traceback" not in err
    assert not out.exists() or sorted(p.name for p in out.iterdir()) == before
    assert sorted(p.name for p in (t / "lr").iterdir()) == before
