"""Train then predict on real microscopy images from PyPI wheels, and beat bicubic on held-out tiles.

Data (tests/data/real/PROVENANCE.md): ``nuclei2d.tif`` (stardist 0.9.2, DSB 2018 nuclei, 256x256
uint16) and ``celegans_airyscan.tif`` (sdeconv 1.0.4, Airyscan C. elegans intestine, 256x256
float32). Each is cut into sixteen 64x64 HR tiles; the four tiles of the anti-diagonal
(row i, column 3 - i) of each image are **held out**: they go to their own folder, are degraded by
their own ``microsr degrade`` call and are never read by ``microsr train`` (its validation images
are drawn from the 24 training tiles). On the C. elegans image the anti-diagonal follows the bright
intestine band, so the held-out set is not just background.

Pipeline, every step through ``microsr.cli.main.main`` as a user types it::

    microsr degrade --hr hr_train --scale 2 --psf-sigma 2.5 --photons 500 --seed 1 --out train
    microsr degrade --hr hr_test  --scale 2 --psf-sigma 2.5 --photons 500 --seed 2 --out test
    microsr train --config train.yaml --lr train/lr --hr train/hr --model vdsr --tiny --scale 2 \\
        --steps 500 --val-every 100 --patch-size 16 --batch-size 8 --learning-rate 1e-3 \\
        --num-threads 1 --out run
    microsr predict --model run --input test/lr --output pred --weights last
    microsr evaluate --pred pred --gt test/hr --lr test/lr --fit affine --out qc

``train.yaml`` only sets ``data.foreground_threshold: 0`` (half of each held-out tile is dark
background, so the model must also see background patches). The whole test takes 5 s on the idle
2-core project machine, 14 s at load average 6. How much there is to gain: a 7x7 linear filter
on the bicubic grid fitted by least squares to the training tiles scores 0.75 dB above
bicubic on these held-out tiles; the tiny VDSR (1,321 parameters) gets +0.72 dB (26.93 vs 26.21).
VDSR adds a residual to bicubic, so an untrained one is close to bicubic: after 5 steps it scores
26.28 dB, which fails the +0.3 dB margin asserted here. Larger runs: docs/real-data.md.
"""

from __future__ import annotations

import json

import pytest

from microsr.cli.main import main
from microsr.io import read_image, write_image
from tests.real_images import real_path

TILE = 64  # HR px
IMAGES = ("nuclei2d", "celegans")
DEGRADE = ["--scale", "2", "--psf-sigma", "2.5", "--photons", "500", "--quiet"]


def cut_tiles(root):
    """Write 64x64 HR tiles to ``hr_train/`` and (anti-diagonal) ``hr_test/``; return both name sets."""
    names = {"hr_train": set(), "hr_test": set()}
    for sub in names:
        (root / sub).mkdir()
    for image in IMAGES:
        im = read_image(real_path(image))
        n = im.array.shape[0] // TILE
        for i in range(n):
            for j in range(n):
                sub = "hr_test" if i + j == n - 1 else "hr_train"
                tile = im.array[i * TILE : (i + 1) * TILE, j * TILE : (j + 1) * TILE]
                write_image(root / sub / f"{image}_{i}{j}.tif", tile, pixel_size=im.pixel_size)
                names[sub].add(f"{image}_{i}{j}")
    return names


@pytest.mark.slow
def test_train_predict_beats_bicubic_on_held_out_real_tiles(tmp_path, capsys):
    names = cut_tiles(tmp_path)
    assert len(names["hr_test"]) == 8 and len(names["hr_train"]) == 24
    assert not names["hr_test"] & names["hr_train"]

    for part, seed in (("train", "1"), ("test", "2")):
        args = [
            "degrade",
            "--hr",
            str(tmp_path / f"hr_{part}"),
            "--out",
            str(tmp_path / part),
            "--seed",
            seed,
            *DEGRADE,
        ]
        assert main(args) == 0, capsys.readouterr().err
    degradation = json.loads((tmp_path / "test" / "degradation.json").read_text())
    assert degradation["photons"] == 500 and degradation["psf_sigma_px"] == 2.5

    config = tmp_path / "train.yaml"
    config.write_text("data: {foreground_threshold: 0.0}\n")
    run = tmp_path / "run"
    code = main(
        [
            "train",
            "--config",
            str(config),
            "--lr",
            str(tmp_path / "train" / "lr"),
            "--hr",
            str(tmp_path / "train" / "hr"),
            "--model",
            "vdsr",
            "--tiny",
            "--scale",
            "2",
            "--out",
            str(run),
            "--steps",
            "500",
            "--val-every",
            "100",
            "--patch-size",
            "16",
            "--batch-size",
            "8",
            "--learning-rate",
            "1e-3",
            "--seed",
            "0",
            "--num-threads",
            "1",
            "--device",
            "cpu",
            "--quiet",
        ]
    )
    assert code == 0, capsys.readouterr().err
    doc = json.loads((run / "model.json").read_text())
    assert doc["data"]["train_images"] + doc["data"]["val_images"] == 24  # held-out tiles unseen
    for rel in ("loss_curves.png", "loss_curves_log.png", "weights/last.safetensors"):
        assert (run / rel).is_file()

    pred = tmp_path / "pred"
    assert (
        main(
            [
                "predict",
                "--model",
                str(run),
                "--input",
                str(tmp_path / "test" / "lr"),
                "--output",
                str(pred),
                "--weights",
                "last",
                "--device",
                "cpu",
            ]
        )
        == 0
    )
    assert sorted(p.stem for p in pred.iterdir()) == sorted(names["hr_test"])

    qc = tmp_path / "qc"
    assert (
        main(
            [
                "evaluate",
                "--pred",
                str(pred),
                "--gt",
                str(tmp_path / "test" / "hr"),
                "--lr",
                str(tmp_path / "test" / "lr"),
                "--fit",
                "affine",
                "--out",
                str(qc),
                "--report-images",
                "1",
            ]
        )
        == 0
    ), capsys.readouterr().err
    summary = json.loads((qc / "summary.json").read_text())
    model, bicubic = summary, summary["baseline"]
    print(
        f"held-out PSNR {model['psnr']:.2f} dB vs bicubic {bicubic['psnr']:.2f} dB; "
        f"SSIM {model['ssim']:.4f} vs {bicubic['ssim']:.4f}"
    )
    assert summary["n_images"] == 8
    assert model["psnr"] > bicubic["psnr"] + 0.3  # measured: +0.7 dB (26.93 vs 26.21)
    assert model["ssim"] > bicubic["ssim"]
    wins = sum(r["psnr"] > r["baseline_psnr"] for r in summary["per_image"])
    assert wins >= 7, f"the model beats bicubic on only {wins} of 8 held-out tiles"  # measured: 8
