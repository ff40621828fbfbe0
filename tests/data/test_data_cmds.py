"""The simulate and degrade commands, run through microsr.cli.main.main."""

import json

import numpy as np
import pytest

from microsr.cli.main import main
from microsr.io import read_image, write_image


def _files(d):
    return sorted(p.relative_to(d).as_posix() for p in d.rglob("*") if p.is_file())


def test_simulate_uint16_and_float32(tmp_path):
    out = tmp_path / "sim"
    assert (
        main(
            [
                "simulate",
                "--structure",
                "er",
                "--count",
                "2",
                "--size",
                "48",
                "--scale",
                "3",
                "--out",
                str(out),
                "--seed",
                "4",
                "--quiet",
            ]
        )
        == 0
    )
    assert _files(out) == [
        "hr/er_0000.tif",
        "hr/er_0001.tif",
        "lr/er_0000.tif",
        "lr/er_0001.tif",
        "simulation.json",
    ]
    lr, hr = read_image(out / "lr" / "er_0001.tif"), read_image(out / "hr" / "er_0001.tif")
    assert lr.array.dtype == hr.array.dtype == np.uint16
    assert hr.shape == (48, 48) and lr.shape == (16, 16)
    assert hr.pixel_size == pytest.approx(0.0313, rel=1e-3) and lr.pixel_size == pytest.approx(
        0.0939, rel=1e-3
    )
    rec = json.loads((out / "simulation.json").read_text())
    assert rec["scale"] == 3 and rec["hr_size_px"] == 48 and rec["seed"] == 4 and rec["dtype"] == "uint16"
    out2 = tmp_path / "simf"
    assert (
        main(
            [
                "simulate",
                "--structure",
                "er",
                "--count",
                "2",
                "--size",
                "48",
                "--scale",
                "3",
                "--out",
                str(out2),
                "--seed",
                "4",
                "--dtype",
                "float32",
                "--quiet",
            ]
        )
        == 0
    )
    f = read_image(out2 / "hr" / "er_0001.tif").array
    assert f.dtype == np.float32 and np.array_equal(np.rint(f).astype(np.uint16), hr.array)


def test_simulate_is_deterministic(tmp_path):
    args = ["simulate", "--structure", "ccps", "--count", "1", "--size", "32", "--quiet", "--seed", "9"]
    assert main(args + ["--out", str(tmp_path / "a")]) == 0
    assert main(args + ["--out", str(tmp_path / "b")]) == 0
    for sub in ("lr/ccps_0000.tif", "hr/ccps_0000.tif"):
        assert np.array_equal(read_image(tmp_path / "a" / sub).array, read_image(tmp_path / "b" / sub).array)


def test_simulate_bad_input(tmp_path, capsys):
    out = tmp_path / "x"
    assert main(["simulate", "--structure", "er", "--size", "50", "--scale", "4", "--out", str(out)]) == 2
    assert "divisible" in capsys.readouterr().err and not out.exists()
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert main(["simulate", "--structure", "er", "--count", "1", "--size", "32", "--out", str(out)]) == 2
    assert "not an empty folder" in capsys.readouterr().err and _files(out) == ["keep.txt"]
    assert main(["simulate", "--structure", "mito", "--out", str(tmp_path / "y")]) == 2


@pytest.fixture
def hr_dir(tmp_path, rng):
    d = tmp_path / "hr_in"
    write_image(d / "a.tif", rng.integers(0, 4000, (70, 66)).astype(np.uint16), pixel_size=0.03)
    write_image(d / "b.png", rng.integers(0, 255, (40, 40)).astype(np.uint8))
    write_image(d / "c.tif", rng.random((2, 16, 16)).astype(np.float32), axes="ZYX")
    return d


def test_degrade_keeps_bit_depth_and_crops(tmp_path, hr_dir):
    out = tmp_path / "deg"
    assert (
        main(
            [
                "degrade",
                "--hr",
                str(hr_dir),
                "--scale",
                "4",
                "--out",
                str(out),
                "--photons",
                "50",
                "--seed",
                "1",
                "--quiet",
            ]
        )
        == 0
    )
    assert _files(out) == [
        "degradation.json",
        "hr/a.tif",
        "hr/b.tif",
        "hr/c.tif",
        "lr/a.tif",
        "lr/b.tif",
        "lr/c.tif",
    ]
    a_hr, a_lr = read_image(out / "hr" / "a.tif"), read_image(out / "lr" / "a.tif")
    assert a_hr.shape == (68, 64) and a_lr.shape == (17, 16)
    assert a_hr.array.dtype == a_lr.array.dtype == np.uint16
    assert np.array_equal(a_hr.array, read_image(hr_dir / "a.tif").array[:68, :64])
    assert a_lr.pixel_size == pytest.approx(0.12)
    assert read_image(out / "lr" / "b.tif").array.dtype == np.uint8
    c = read_image(out / "lr" / "c.tif")
    assert c.axes == "ZYX" and c.shape == (2, 4, 4) and c.array.dtype == np.float32
    # same seed, same noise; LR is ~ the block mean of the blurred HR
    out2 = tmp_path / "deg2"
    assert (
        main(
            [
                "degrade",
                "--hr",
                str(hr_dir),
                "--scale",
                "4",
                "--out",
                str(out2),
                "--photons",
                "50",
                "--seed",
                "1",
                "--quiet",
            ]
        )
        == 0
    )
    assert np.array_equal(read_image(out2 / "lr" / "a.tif").array, a_lr.array)
    assert abs(float(a_lr.array.mean()) - float(a_hr.array.mean())) < 0.05 * float(a_hr.array.mean())


def test_degrade_airy_pixel_size(tmp_path, hr_dir, capsys):
    ok = tmp_path / "ok"
    # a.tif records 30 nm pixels, b.png none -> needs --pixel-size
    assert (
        main(
            [
                "degrade",
                "--hr",
                str(hr_dir),
                "--out",
                str(tmp_path / "bad"),
                "--na",
                "1.4",
                "--wavelength",
                "520",
                "--quiet",
            ]
        )
        == 2
    )
    assert "b.png" in capsys.readouterr().err and not (tmp_path / "bad").exists()
    assert (
        main(
            [
                "degrade",
                "--hr",
                str(hr_dir),
                "--out",
                str(ok),
                "--na",
                "1.4",
                "--wavelength",
                "520",
                "--pixel-size",
                "30",
                "--quiet",
            ]
        )
        == 0
    )
    rec = json.loads((ok / "degradation.json").read_text())
    assert "AiryPSF" in rec["images"][0]["psf"]


def test_degrade_refuses_bad_input(tmp_path, hr_dir, capsys):
    assert main(["degrade", "--hr", str(hr_dir), "--out", str(hr_dir)]) == 2
    assert "overlaps the input" in capsys.readouterr().err
    assert main(["degrade", "--hr", str(tmp_path / "missing"), "--out", str(tmp_path / "o1")]) == 2
    assert "folder not found" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["degrade", "--hr", str(tmp_path / "empty"), "--out", str(tmp_path / "o2")]) == 2
    assert "no images" in capsys.readouterr().err
    bad = np.ones((8, 8), np.float32)
    bad[2, 2] = np.nan
    import tifffile

    tifffile.imwrite(hr_dir / "d_nan.tif", bad)
    assert main(["degrade", "--hr", str(hr_dir), "--out", str(tmp_path / "o3"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "d_nan.tif" in err and "NaN" in err and len(err.strip().splitlines()) == 1
    (hr_dir / "d_nan.tif").unlink()
    (hr_dir / "e.tif").write_bytes(b"II*\x00garbage")
    assert main(["degrade", "--hr", str(hr_dir), "--out", str(tmp_path / "o4"), "--quiet"]) == 2
    assert "e.tif" in capsys.readouterr().err
    # nothing half-written, no staging folders left behind
    assert not any(p.name.startswith(("o1", "o2", "o3", "o4", ".o")) for p in tmp_path.iterdir())


def test_simulate_workers_give_identical_files(tmp_path):
    from microsr.data.datasets import write_simulated

    kw = dict(structure="microtubules", count=3, size=32, scale=2, seed=2)
    write_simulated(tmp_path / "one", **kw)
    write_simulated(tmp_path / "two", workers=2, **kw)
    assert _files(tmp_path / "one") == _files(tmp_path / "two")
    for f in _files(tmp_path / "one"):
        assert (tmp_path / "one" / f).read_bytes() == (tmp_path / "two" / f).read_bytes(), f
