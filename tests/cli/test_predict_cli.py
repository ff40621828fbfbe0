"""``microsr predict`` on the command line: results, exit codes, one-line errors."""

from __future__ import annotations

import json

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
                "flips",
            ]
        )
        == 0
    )
    out = read_image(t / "sr" / "a.tif")
    assert out.array.dtype == np.float32 and out.metadata["microsr"]["tta"] == "flips"
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


def _predict(t, *extra, out_flag="--output"):
    return main(
        ["predict", "--model", str(t / "run"), "--input", str(t / "lr"), out_flag, str(t / "sr"), *extra]
    )


@pytest.mark.parametrize("device", ["cuda", "gpu", "cuda:0"])
def test_cuda_without_a_gpu_is_one_line_exit_2(setup, capsys, monkeypatch, device):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert _predict(setup, "--device", device) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"error: --device {device}: no CUDA GPU is available here; use --device cpu"
    assert not (setup / "sr").exists()


def test_unknown_device_is_one_line_exit_2(setup, capsys):
    assert _predict(setup, "--device", "tpu") == 2
    assert capsys.readouterr().err.strip().startswith("error: --device must be auto, cpu, cuda")


def test_out_is_accepted_like_in_the_other_commands(setup, capsys):
    assert _predict(setup, "--tile", "16", "--overlap", "8", out_flag="--out") == 0
    assert sorted(p.name for p in (setup / "sr").iterdir()) == ["a.tif", "b.tif"]


@pytest.mark.parametrize(
    "tile,overlap,message",
    [
        ("32", "32", "--overlap 32 is more than half the tile (32 px): give --overlap 16 or less"),
        ("100", "60", "--overlap 60 is more than half the tile (96 px, --tile 100 rounded down)"),
    ],
)
def test_overlap_beyond_half_the_tile_is_refused(setup, capsys, tile, overlap, message):
    assert _predict(setup, "--tile", tile, "--overlap", overlap) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not (setup / "sr").exists()


def test_tile_rounding_is_announced_and_progress_goes_to_stderr(setup, capsys):
    assert _predict(setup, "--tile", "100", "--overlap", "8") == 0
    out, err = capsys.readouterr()
    assert "note: --tile 100 rounded down to 96" in err
    assert out.strip() == f"wrote 2 image(s) to {setup / 'sr'}"  # results only; the bars went to stderr
    assert "images" in err and "2/2" in err


def test_normalization_training(setup, capsys):
    """--normalization training: refused in one line for a run that does not record its training
    intensities; with them, the output records the fixed range it was normalised with."""
    assert _predict(setup, "--normalization", "training") == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "use --normalization image" in err and "\n" not in err
    assert not (setup / "sr").exists()
    card = setup / "run" / "model.json"
    doc = json.loads(card.read_text())
    doc["data"]["lr_intensity"] = {"vmin": 100.0, "vmax": 50000.0}
    card.write_text(json.dumps(doc))
    assert _predict(setup, "--normalization", "training") == 0
    meta = read_image(setup / "sr" / "a.tif").metadata["microsr"]
    assert meta["normalization"]["kind"] == "fixed" and meta["normalization"]["vmax"] == 50000.0
