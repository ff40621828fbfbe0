"""`microsr evaluate` with three models: a self-contained report.html that renders in Chromium."""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from PIL import Image

from microsr.cli.main import main
from tests.evaluation.synthetic_models import MODELS, make_folders

CHROMIUM = Path("/usr/bin/chromium")
SECTIONS = ["summary", "boxplots", "tests", "resolution", "training", "images"]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    root = tmp_path_factory.mktemp("qc")
    dirs = make_folders(root, n=6, size=128)
    run = root / "run"
    run.mkdir()
    with open(run / "log.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["step", "epoch", "phase", "lr", "loss", "val_loss", "psnr", "ssim"])
        for step in range(10, 210, 10):
            w.writerow([step, 0, "train", 1e-4, 1.0 / step, "", "", ""])
            if step % 50 == 0:
                w.writerow([step, 0, "val", "", "", 1.3 / step, 30, 0.8])
    argv = [
        "evaluate",
        *sum((["--pred", str(dirs[m])] for m in MODELS), []),
        "--gt",
        str(dirs["gt"]),
        "--lr",
        str(dirs["lr"]),
        "--out",
        str(root / "out"),
        "--run",
        str(run),
        "--line",
        "10,20,110,90",
    ]
    assert main(argv) == 0
    return root / "out"


def test_report_is_self_contained_with_every_section(report):
    html = (report / "report.html").read_text(encoding="utf-8")
    for sec in SECTIONS:
        assert f'<section id="{sec}">' in html
    assert not re.search(r'(src|href)\s*=\s*"(https?:|//|file:)', html)
    assert "<link" not in html and "<script src" not in html
    assert html.count('class="panel"') == 6 and html.count("<option") == 6
    assert all(f"<b>pred_{m}</b>" in html for m in MODELS)
    # per panel: LR, 3 predictions, GT, then SSIM, error-vs-GT and error-vs-LR maps for bicubic + 3 models
    assert html.count("data:image/png;base64,") >= 6 * 17
    assert html.count("SQUIRREL error map vs LR input") == 6
    assert (report / "report.html").stat().st_size < 4_000_000
    assert "Training curves" in html and "No run folder" not in html


def test_comparison_csv_and_summary_models(report):
    import json

    summary = json.loads((report / "summary.json").read_text())
    assert list(summary["models"]) == [f"pred_{m}" for m in MODELS]
    assert summary["psnr"] == summary["models"]["pred_sharp"]["psnr"]  # first folder at top level
    other = json.loads((report / summary["models"]["pred_blurry"]["summary"]).read_text())
    assert other["psnr"] == summary["models"]["pred_blurry"]["psnr"]
    per_image = list(csv.DictReader(open(report / "per_image.csv")))
    assert len(per_image) == 6 * 4 and {r["model"] for r in per_image} == {
        *(f"pred_{m}" for m in MODELS),
        "bicubic",
    }
    assert all(float(r["resolution_px"]) > 2 for r in per_image)
    rows = list(csv.DictReader(open(report / "comparison.csv")))
    psnr = {(r["model_a"], r["model_b"]): r for r in rows if r["metric"] == "psnr"}
    assert len(psnr) == 6  # 3 models + bicubic -> 6 pairs
    sharp_vs_inv = psnr[("pred_sharp", "pred_inventive")]
    assert sharp_vs_inv["better"] == "pred_sharp" and sharp_vs_inv["n"] == "6"
    assert float(sharp_vs_inv["wilcoxon_p"]) == pytest.approx(2 / 2**6)  # all 6 differences agree


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium (apt-get install chromium)")
def test_report_renders_in_headless_chromium(report, tmp_path):
    url = (report / "report.html").resolve().as_uri()
    common = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    dom = subprocess.run(common + ["--dump-dom", url], capture_output=True, text=True, timeout=60).stdout
    for sec in SECTIONS:
        assert f'id="{sec}"' in dom
    assert 'id="image-select"' in dom and dom.count('class="panel"') == 6
    shot = tmp_path / "shot.png"
    subprocess.run(
        common + [f"--screenshot={shot}", "--window-size=1200,2000", url],
        capture_output=True,
        timeout=60,
        check=True,
    )
    img = np.asarray(Image.open(shot).convert("L"), dtype=float)
    assert img.shape == (2000, 1200)
    assert img.std() > 20  # not a blank page
    assert (img < 100).mean() > 0.02  # text, tables and figures drawn
    shutil.rmtree(tmp_path / "profile", ignore_errors=True)


def test_resolution_is_shown_with_its_caveat_and_never_ranked(report):
    html = (report / "report.html").read_text(encoding="utf-8")
    # the caveat below the summary and below the resolution table
    assert html.count("measures the interpolation and the texture of the noise, not the resolution") == 2
    assert "finer" not in html
    tests = html[html.index('<section id="tests">') : html.index('<section id="resolution">')]
    cells = re.findall(r"<td( class=\"sig\")?>([^<]*)<br><small>", tests)
    res_cells = [(cls, who) for cls, who in cells if who.endswith("lower*") or who == "equal"]
    assert len(res_cells) == 6  # one per model pair
    assert all(cls == "" for cls, _ in res_cells)  # never green
    assert any(cls for cls, who in cells if who.endswith("better"))  # the pixel metrics still are
    summary = html[html.index('<section id="summary">') : html.index('<section id="boxplots">')]
    header = summary[: summary.index("</tr>")]
    assert "decorrelation resolution (" in header and ") *</th>" in header
    assert (
        header.count("↑") == 2 and header.count("↓") == 1
    )  # PSNR, SSIM up; NRMSE down (no MS-SSIM at 128 px)
