"""Simulated leukocytes with parsing maps (microsr.data.cells) and `microsr simulate --structure leukocytes`."""

import json
import re

import numpy as np
import pytest

from microsr.cli.main import main
from microsr.data.cells import simulate_cell_pair
from microsr.data.masks import read_mask
from microsr.data.pairs import find_pairs
from microsr.io import read_image


@pytest.mark.parametrize("size,scale", [(64, 4), (96, 2)])
def test_shapes_dtypes_and_labels(size, scale):
    lr, hr, mask = simulate_cell_pair(size=size, scale=scale, photons=300.0, seed=3)
    assert lr.shape == (size // scale,) * 2 and hr.shape == mask.shape == (size, size)
    assert lr.dtype == hr.dtype == np.float32 and mask.dtype == np.uint8
    assert set(np.unique(mask)) <= {0, 1, 2}
    assert hr.max() == pytest.approx(20000.0) and hr.min() >= 0 and lr.min() >= 0


def test_every_class_present_over_a_few_images():
    counts = sum(np.bincount(simulate_cell_pair(size=96, seed=s)[2].ravel(), minlength=3) for s in range(4))
    assert np.all(counts > 0)
    assert counts[2] > 0.02 * counts.sum()  # nuclei are not specks


def test_deterministic_and_seed_dependent():
    a = simulate_cell_pair(size=64, scale=4, seed=11)
    b = simulate_cell_pair(size=64, scale=4, seed=11)
    c = simulate_cell_pair(size=64, scale=4, seed=12)
    for x, y in zip(a, b):
        assert np.array_equal(x, y)
    assert not np.array_equal(a[1], c[1])


def test_intensity_follows_the_mask():
    """Nucleus brighter than cytoplasm brighter than background, in HR and (upsampled) LR."""
    for seed in range(3):
        lr, hr, mask = simulate_cell_pair(size=128, scale=4, photons=1000.0, seed=seed)
        means = [hr[mask == c].mean() for c in range(3)]
        assert means[2] > 1.3 * means[1] > 1.3 * 3 * means[0]
        lr_up = np.kron(lr, np.ones((4, 4)))
        lr_means = [lr_up[mask == c].mean() for c in range(3)]
        assert lr_means[2] > lr_means[1] > lr_means[0]


def test_lr_is_blurrier_and_noisier_than_hr():
    """LR = wider PSF than HR (less fine detail on the same grid) plus photon noise."""

    def detail(im):  # mean absolute horizontal difference relative to the image's spread
        return np.abs(np.diff(im, axis=1)).mean() / im.std()

    clean, hr, _ = simulate_cell_pair(size=128, scale=2, photons=1e7, seed=5)
    noisy, _, _ = simulate_cell_pair(size=128, scale=2, photons=50.0, seed=5)
    hr_down = hr.reshape(64, 2, 64, 2).mean(axis=(1, 3))
    assert detail(hr_down) > 1.15 * detail(clean)
    residual = (noisy - 100) / (noisy.max() - 100) - (clean - 100) / (clean.max() - 100)
    assert 0.02 < residual.std() < 0.3  # Poisson at 50 photons: ~1/sqrt(50) at the peak


def test_bad_arguments():
    with pytest.raises(ValueError, match="divisible"):
        simulate_cell_pair(size=66, scale=4)
    with pytest.raises(ValueError, match="photons"):
        simulate_cell_pair(size=64, photons=0)


def test_cli_writes_lr_hr_mask(tmp_path):
    out = tmp_path / "cells"
    assert (
        main(
            [
                "simulate",
                "--structure",
                "leukocytes",
                "--count",
                "2",
                "--size",
                "64",
                "--scale",
                "4",
                "--seed",
                "7",
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    names = ["leukocytes_0000.tif", "leukocytes_0001.tif"]
    for sub in ("lr", "hr", "mask"):
        assert sorted(p.name for p in (out / sub).iterdir()) == names
    lr, hr, mask = simulate_cell_pair(size=64, scale=4, photons=200.0, seed=8)
    m = read_image(out / "mask" / names[1])
    assert m.array.dtype == np.uint8 and np.array_equal(m.array, mask)
    assert np.array_equal(read_image(out / "hr" / names[1]).array, np.rint(hr).astype(np.uint16))
    assert read_image(out / "lr" / names[1]).shape == (16, 16)
    onehot = read_mask(out / "mask" / names[1], (64, 64))
    assert np.array_equal(onehot.argmax(0), mask) and np.all(onehot.sum(0) == 1)
    rec = json.loads((out / "simulation.json").read_text())
    assert rec["structure"] == "leukocytes" and rec["scale"] == 4 and rec["count"] == 2
    pairs = find_pairs(out / "lr", out / "hr", scale=4, mask_dir=out / "mask")
    assert [p.mask.name for p in pairs] == names


@pytest.mark.parametrize(
    ("size", "reason"),
    [
        ("8", "at least 16 HR px"),
        ("4096", "rendered whole on a fine grid .* at most 2048 HR px; make more images with --count"),
    ],
)
def test_cli_refuses_leukocyte_sizes_in_one_line(tmp_path, capsys, size, reason):
    args = ["simulate", "--structure", "leukocytes", "--count", "1", "--size", size, "--scale", "2"]
    assert main([*args, "--out", str(tmp_path / "x"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert re.search(reason, err) and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x").exists()
