"""Score super-resolved images against ground truth, folder by folder.

Conventions (all written into ``summary.json``):

* Files are paired by name without extension (``cell01.tif`` in ``--pred`` with ``cell01.png`` in
  ``--gt``). Every ground-truth file needs a prediction (and an LR image when ``lr_dir`` is given);
  predictions without ground truth are listed under ``unmatched_predictions`` and not scored.
* ``data_range`` defaults to each ground-truth image's ``max - min`` (after border cropping), never
  to the dtype's range. A fixed value can be given instead.
* ``fit="none"`` compares raw intensities in the ground truth's scale; ``fit="affine"`` first
  replaces the prediction by its least-squares fit ``a * pred + b`` to the ground truth (as
  ZeroCostDL4Mic/NanoJ do), which removes any global offset/gain difference. ``fit="auto"`` (the
  command line's default) fits the predictions whose TIFF metadata says ``units: normalised``
  (what ``microsr predict`` writes without ``--keep-range``) and no others: a PSNR of normalised
  units against ground-truth intensities means nothing, so ``fit="none"`` on such a prediction is
  refused with a hint instead of scored. Each image's bicubic baseline gets the fit its prediction
  got. ``summary.json`` records the fit used (``"affine"``, ``"none"``, or ``"auto"`` when the
  folder mixes both) and a one-line ``convention`` (fit, data range, crop).
* ``crop_border`` pixels are removed on every side of Y and X before fitting and scoring.
* Stacks (Z, T, C) are scored per 2-D slice and averaged (SSIM, MS-SSIM); PSNR and NRMSE use all
  pixels. Colour images (``YXC``) are scored per channel.
* The baseline is bicubic up-sampling of the LR image with :func:`microsr.models.blocks.bicubic_upsample`
  (torch ``F.interpolate(mode="bicubic", align_corners=False)``, cubic coefficient -0.75, float64,
  not clipped) -- the same grid the HR-grid models start from -- by the integer factor inferred from
  the LR and ground-truth shapes; it is scored exactly like the prediction (same fit, range, crop).
* MS-SSIM needs images of at least 161 px on a side; for smaller images it is reported as empty
  (``null``) with a note rather than failing the whole evaluation.
"""

from __future__ import annotations

import math
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from microsr.errors import InputError
from microsr.evaluation.pairing import bicubic_baseline, infer_scale, load_for_metrics, pair_by_name
from microsr.evaluation.summary import json_safe, summarize, write_results
from microsr.metrics import MS_SSIM_MIN_SIZE, fit_affine, ms_ssim, nrmse, psnr, ssim
from microsr.metrics import crop_border as _crop
from microsr.metrics.registry import METRIC_NAMES

FITS = ("none", "affine", "auto")
METRICS = METRIC_NAMES


def fit_for(path: Path, units: str | None, fit: str) -> str:
    """The fit used for one prediction: resolves ``"auto"`` and refuses unfitted normalised units."""
    if units == "normalised" and fit == "none":
        raise InputError(
            path,
            "is in normalised units (its metadata says units: normalised), so its PSNR against "
            "ground-truth intensities would mean nothing; use --fit affine (or auto), or predict "
            "with --keep-range",
        )
    if fit == "auto":
        return "affine" if units == "normalised" else "none"
    return fit


def evaluate_pair(
    gt: np.ndarray,
    pred: np.ndarray,
    *,
    fit: str = "none",
    data_range: float | None = None,
    crop_border: int = 0,
) -> dict[str, Any]:
    """Score one prediction against its ground truth.

    Parameters
    ----------
    gt, pred : np.ndarray
        Same shape (..., Y, X), any real dtype (converted to float64).
    fit : {"none", "affine"}
        ``"affine"`` rescales ``pred`` to ``a * pred + b`` (least squares to ``gt``) first.
    data_range : float or None
        Intensity range for PSNR/SSIM; ``None`` = ``gt.max() - gt.min()`` of the scored region.
    crop_border : int
        Pixels removed on each side of Y and X before fitting and scoring.

    Returns
    -------
    dict
        ``psnr`` (dB, may be inf), ``ssim``, ``ms_ssim`` (None below 161 px), ``nrmse``
        (euclidean), ``data_range`` and the fit coefficients ``fit_a``, ``fit_b`` (1, 0 for no fit).

    Raises
    ------
    ValueError
        Shape mismatch, constant ground truth without ``data_range``, too small images, bad ``fit``.
    """
    if fit not in ("none", "affine"):
        raise ValueError(f"fit must be 'none' or 'affine', not {fit!r}")
    g = _crop(np.asarray(gt, dtype=np.float64), crop_border)
    p = _crop(np.asarray(pred, dtype=np.float64), crop_border)
    if g.shape != p.shape:
        raise ValueError(f"shape mismatch: ground truth {g.shape} vs prediction {p.shape}")
    dr = float(g.max() - g.min()) if data_range is None else float(data_range)
    if not dr > 0:
        raise ValueError("ground truth is constant (data range 0); give a data range explicitly")
    a, b = 1.0, 0.0
    if fit == "affine":
        p, (a, b) = fit_affine(p, g)
    big_enough = min(g.shape[-2:]) >= MS_SSIM_MIN_SIZE
    return {
        "psnr": psnr(g, p, data_range=dr),
        "ssim": ssim(g, p, data_range=dr),
        "ms_ssim": ms_ssim(g, p, data_range=dr) if big_enough else None,
        "nrmse": nrmse(g, p),
        "data_range": dr,
        "fit_a": a,
        "fit_b": b,
    }


def _score(gt_path: Path, gt: np.ndarray, pred_path: Path, pred: np.ndarray, **kw: Any) -> dict[str, Any]:
    if pred.shape != gt.shape:
        raise InputError(pred_path, f"shape {pred.shape} differs from ground truth {gt_path.name} {gt.shape}")
    try:
        return evaluate_pair(gt, pred, **kw)
    except ValueError as exc:
        raise InputError(gt_path, str(exc)) from exc


def check_options(fit: str, data_range: float | None, crop_border: int) -> None:
    """Raise :class:`InputError` for an unknown fit, a non-positive data range or a negative border."""
    if fit not in FITS:
        raise InputError(None, f"--fit must be one of {', '.join(FITS)}, not {fit!r}")
    if data_range is not None and not (math.isfinite(data_range) and data_range > 0):
        raise InputError(None, f"--data-range must be a positive number, not {data_range}")
    if crop_border < 0:
        raise InputError(None, f"--crop-border must be >= 0, not {crop_border}")


def score_folder(
    pred_dir: Path,
    gt_dir: Path,
    *,
    lr_dir: Path | None = None,
    scale: int | None = None,
    fit: str = "none",
    data_range: float | None = None,
    crop_border: int = 0,
) -> tuple[list[dict[str, Any]], list[str]]:
    """Per-image scores of one prediction folder (and the bicubic baseline when ``lr_dir`` is given).

    Returns
    -------
    rows : list of dict
        One dict per ground-truth image: ``name``, ``gt``, ``pred``, ``data_range``, ``fit_a``,
        ``fit_b``, the metrics and, with ``lr_dir``, ``lr``, ``scale`` and ``baseline_*`` keys.
    unmatched : list of str
        Prediction files without ground truth (not scored).
    """
    pairs, unmatched = pair_by_name(Path(gt_dir), Path(pred_dir), "prediction")
    lr_pairs = pair_by_name(Path(gt_dir), Path(lr_dir), "LR image")[0] if lr_dir is not None else None
    rows: list[dict[str, Any]] = []
    for stem, (gt_path, pred_path) in pairs.items():
        gt = load_for_metrics(gt_path)
        pred, units = load_for_metrics(pred_path, with_units=True)
        kw = {"fit": fit_for(pred_path, units, fit), "data_range": data_range, "crop_border": crop_border}
        row: dict[str, Any] = {"name": stem, "gt": gt_path.name, "pred": pred_path.name, "fit": kw["fit"]}
        scores = _score(gt_path, gt, pred_path, pred, **kw)
        row.update({k: scores[k] for k in ("data_range", "fit_a", "fit_b") + METRICS})
        if lr_pairs is not None:
            lr_path = lr_pairs[stem][1]
            lr = load_for_metrics(lr_path)
            s = infer_scale(lr.shape, gt.shape, lr_path, scale)
            base = _score(gt_path, gt, lr_path, bicubic_baseline(lr, s), **kw)
            row.update({"lr": lr_path.name, "scale": s})
            row.update({f"baseline_{k}": base[k] for k in ("fit_a", "fit_b") + METRICS})
        rows.append(row)
    return rows, unmatched


def evaluate_folders(
    pred_dir: str | PathLike[str],
    gt_dir: str | PathLike[str],
    out_dir: str | PathLike[str],
    *,
    lr_dir: str | PathLike[str] | None = None,
    scale: int | None = None,
    fit: str = "none",
    data_range: float | None = None,
    crop_border: int = 0,
) -> dict[str, Any]:
    """Score every prediction in ``pred_dir`` against ``gt_dir``; write ``metrics.csv`` and ``summary.json``.

    Parameters
    ----------
    pred_dir, gt_dir : path-like
        Folders of predictions and ground-truth images, paired by file name without extension.
    out_dir : path-like
        Created if needed; receives ``metrics.csv`` (one row per image) and ``summary.json``, each
        written atomically and only after every image has been scored.
    lr_dir : path-like or None
        Low-resolution inputs; adds a bicubic baseline scored the same way (key ``baseline``).
    scale : int or None
        Expected LR -> GT factor; inferred from the shapes and checked against this when given.
    fit : {"none", "affine"}
        Intensity fit before scoring (see module docstring).
    data_range : float or None
        Fixed PSNR/SSIM data range; ``None`` = per-image ground truth ``max - min``.
    crop_border : int
        Pixels removed on each side before scoring.

    Returns
    -------
    dict
        The content of ``summary.json``: means of ``psnr``, ``ssim``, ``ms_ssim``, ``nrmse``,
        ``baseline`` (when ``lr_dir``), conventions, and ``per_image`` rows.
    """
    check_options(fit, data_range, crop_border)
    rows, unmatched = score_folder(
        Path(pred_dir),
        Path(gt_dir),
        lr_dir=None if lr_dir is None else Path(lr_dir),
        scale=scale,
        fit=fit,
        data_range=data_range,
        crop_border=crop_border,
    )
    summary = {
        "format": "microsr-evaluation/1",
        "pred_dir": str(pred_dir),
        "gt_dir": str(gt_dir),
        "lr_dir": None if lr_dir is None else str(lr_dir),
        **summarize(rows, fit=fit, data_range=data_range, crop_border=crop_border),
        "unmatched_predictions": unmatched,
        "per_image": json_safe(rows),
    }
    write_results(out_dir, rows, summary)
    return summary
