"""Scores and summaries of ``ablations.py`` runs: the parsing maps of ``geometry-prior-full``,
validation curves and means over seeds.

The ``small-5x`` budget (``small`` with five times the MHTCUN steps, validated every tenth of them)
is meant for ``--seeds 0 1 2``: the stage variants' convergence compared along the run.
"""

from __future__ import annotations

import csv
import statistics
from pathlib import Path


def val_curve(log_csv: Path) -> dict[str, float]:
    """Validation PSNR by step (``phase=val`` rows of a run's ``log.csv``; empty when missing)."""
    if not log_csv.is_file():
        return {}
    with log_csv.open(newline="") as fh:
        return {r["step"]: float(r["psnr"]) for r in csv.DictReader(fh) if r["phase"] == "val"}


def seed_summary(rows: list[dict]) -> list[dict]:
    """Mean and sample standard deviation over seeds of each variant's test PSNR / SSIM and of its
    validation PSNR at every validated step (``val@STEP``)."""
    out = []
    for label in dict.fromkeys(r["variant"] for r in rows if "psnr" in r and "seed" in r):
        done = [r for r in rows if r["variant"] == label and "psnr" in r]
        row: dict = {"variant": label, "seeds": len(done)}
        cols = {"psnr": [r["psnr"] for r in done], "ssim": [r["ssim"] for r in done]}
        for step in done[0].get("val_psnr", {}):
            cols[f"val@{step}"] = [r["val_psnr"][step] for r in done if step in r.get("val_psnr", {})]
        for name, vals in cols.items():
            row[f"{name}_mean"] = statistics.fmean(vals)
            row[f"{name}_sd"] = statistics.stdev(vals) if len(vals) > 1 else 0.0
        out.append(row)
    return out


def parsing_scores(run: Path, data: Path) -> dict:
    """Pixel accuracy, cell and nucleus IoU of the parsing map a ``geometry-prior-full`` run predicts
    (argmax of its prior logits) on the test images against the simulated maps, and the mean
    nucleus-channel probability (sigmoid) inside true nuclei and inside true cytoplasm."""
    import numpy as np
    import torch

    from microsr.data.normalize import NormConfig, normalize
    from microsr.inference.model_io import load_model_folder
    from microsr.io import read_image

    model, info = load_model_folder(run, device="cpu")
    correct = total = inter = union = cell_inter = cell_union = 0
    p_nuc = {1: [], 2: []}  # nucleus-channel probability in cytoplasm / nucleus pixels
    for f in sorted((data / "test" / "lr").glob("*.tif")):
        x, _ = normalize(read_image(f).array.astype(np.float32), NormConfig(**info.normalization))
        with torch.no_grad():
            logits = model(torch.from_numpy(x)[None, None]).aux["parsing"][0]
        pred = logits.argmax(0).numpy()
        gt = read_image(data / "test" / "mask" / f.name).array
        prob = torch.sigmoid(logits[2]).numpy()
        for c in p_nuc:
            p_nuc[c].append(prob[gt == c])
        correct += int((pred == gt).sum())
        total += gt.size
        inter += int(((pred == 2) & (gt == 2)).sum())
        union += int(((pred == 2) | (gt == 2)).sum())
        cell_inter += int(((pred > 0) & (gt > 0)).sum())
        cell_union += int(((pred > 0) | (gt > 0)).sum())
    return {
        "parsing_accuracy": correct / total,
        "cell_iou": cell_inter / max(cell_union, 1),
        "nucleus_iou": inter / max(union, 1),
        "p_nucleus_in_nucleus": float(np.concatenate(p_nuc[2]).mean()),
        "p_nucleus_in_cytoplasm": float(np.concatenate(p_nuc[1]).mean()),
    }
