"""``microsr demo`` end to end with a tiny budget (the full demo is measured, not tested)."""

from __future__ import annotations

import json

from microsr.cli.main import main
from microsr.io import read_image


def test_demo_pipeline_tiny_budget(tmp_path, capsys):
    out = tmp_path / "demo"
    argv = ["demo", "--out", str(out), "--steps", "12", "--count", "4", "--test-count", "2", "--size", "96"]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "DFCAN    PSNR" in text and "bicubic  PSNR" in text and "demo_figure.png" in text
    assert (
        "held-out test images: 2 (affine intensity fit, data range per-image ground truth max - min" in text
    )
    assert str(out / "evaluation" / "report.html") in text
    for rel in (
        "demo_figure.png",
        "loss_curves.png",
        "evaluation/metrics.csv",
        "evaluation/summary.json",
        "evaluation/report.html",
        "run/model.json",
        "run/weights/best.safetensors",
        "demo_summary.json",
    ):
        assert (out / rel).is_file(), rel
    html = (out / "evaluation" / "report.html").read_text(encoding="utf-8")
    assert '<section id="training">' in html and "No run folder" not in html  # the demo's loss curves
    preds = sorted((out / "predictions").glob("*.tif"))
    assert len(preds) == 2
    assert read_image(preds[0]).array.shape == (96, 96)
    summary = json.loads((out / "evaluation" / "summary.json").read_text())
    for key in ("psnr", "ssim", "ms_ssim", "nrmse", "n_images", "fit", "convention", "baseline", "per_image"):
        assert key in summary
    assert summary["n_images"] == 2 and summary["fit"] == "affine"
    assert {"psnr", "ssim", "scale"} <= set(summary["baseline"]) and summary["baseline"]["scale"] == 2
    demo = json.loads((out / "demo_summary.json").read_text())
    assert abs(demo["gain_db"] - (summary["psnr"] - summary["baseline"]["psnr"])) < 1e-9
    assert demo["convention"] == summary["convention"]


def test_demo_refuses_non_empty_folder(tmp_path, capsys):
    (tmp_path / "x.txt").write_text("keep me")
    assert main(["demo", "--out", str(tmp_path)]) == 2
    assert "not empty" in capsys.readouterr().err
    assert (tmp_path / "x.txt").read_text() == "keep me"
