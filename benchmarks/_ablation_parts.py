"""Summaries of ``ablations.py`` runs: validation curves and means over seeds.

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
