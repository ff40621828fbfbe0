"""Means and conventions of a scored folder, written as ``metrics.csv`` and ``summary.json``.

Values that JSON cannot hold (an infinite PSNR of identical images) become ``null`` in
``summary.json`` and stay ``inf`` in ``metrics.csv``.
"""

from __future__ import annotations

import json
import math
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from microsr.evaluation.compare import csv_text
from microsr.io import write_text_atomic
from microsr.metrics import MS_SSIM_MIN_SIZE
from microsr.metrics.registry import METRIC_NAMES
from microsr.metrics.registry import METRICS as METRIC_REGISTRY

METRICS = METRIC_NAMES
CONVENTIONS = {
    **{name: METRIC_REGISTRY.get(name).convention for name in METRIC_NAMES},
    "stacks": "SSIM and MS-SSIM per 2-D slice, averaged",
}
FIT_CONVENTION = {
    "affine": "least squares a*pred+b ~ gt per image",
    "none": "none (ground-truth intensities)",
    "auto": "least squares a*pred+b ~ gt for predictions in normalised units, none for the others",
}


def convention_line(fit: str, data_range: Any, crop_border: int) -> str:
    """The scoring convention in one line, e.g. for a summary or a log."""
    dr = data_range if isinstance(data_range, str) else format(data_range, "g")
    fit_text = {"affine": "affine intensity fit", "none": "no intensity fit"}.get(fit, "mixed fit (auto)")
    return f"{fit_text}, data range {dr}, crop border {crop_border} px"


def _mean(rows: list[dict[str, Any]], key: str) -> float | None:
    values = [r[key] for r in rows if r.get(key) is not None]
    return float(np.mean(values)) if values else None


def json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None  # e.g. PSNR of identical images; CSV keeps "inf"
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_safe(v) for v in value]
    return value


def summarize(
    rows: list[dict[str, Any]], *, fit: str, data_range: float | None, crop_border: int
) -> dict[str, Any]:
    """Means over ``rows`` (from :func:`score_folder`) plus the conventions used, JSON-ready."""
    used = sorted({r.get("fit", fit) for r in rows})
    fit_used = used[0] if len(used) == 1 else "auto"
    dr = "per-image ground truth max - min" if data_range is None else float(data_range)
    summary: dict[str, Any] = {
        "n_images": len(rows),
        **{k: _mean(rows, k) for k in METRICS},
        "fit": fit_used,
        "fit_requested": fit,
        "data_range": dr,
        "crop_border": crop_border,
        "convention": convention_line(fit_used, dr, crop_border),
        "conventions": {**CONVENTIONS, "fit": FIT_CONVENTION[fit_used]},
    }
    if rows and "baseline_psnr" in rows[0]:
        scales = sorted({r["scale"] for r in rows})
        summary["baseline"] = {
            "method": "bicubic, torch F.interpolate(mode='bicubic', align_corners=False)",
            "scale": scales[0] if len(scales) == 1 else scales,
            **{k: _mean(rows, f"baseline_{k}") for k in METRICS},
        }
    notes = []
    if fit == "auto" and "affine" in used:
        notes.append("predictions in normalised units (TIFF metadata) scored after an affine intensity fit")
    if any(r["ms_ssim"] is None for r in rows):
        notes.append(f"MS-SSIM left empty for images smaller than {MS_SSIM_MIN_SIZE} px on a side")
    if notes:
        summary["notes"] = notes
    return json_safe(summary)


def write_results(out_dir: str | PathLike[str], rows: list[dict[str, Any]], summary: dict[str, Any]) -> None:
    """Write ``metrics.csv`` (floats with 8 significant digits) and ``summary.json``, each atomically."""
    out = Path(out_dir)
    write_text_atomic(out / "metrics.csv", csv_text(rows, list(rows[0]), digits=8))
    write_text_atomic(out / "summary.json", json.dumps(json_safe(summary), indent=2, allow_nan=False) + "\n")
