"""The per-image part of the QC report: 2-D planes, thumbnails, maps, profiles and resolution.

Maps, resolution and profiles use one 2-D image per file: the image itself, or for stacks the
middle plane of every leading axis (Z, T, C). Only the first ``max_panels`` images get a panel
(see :mod:`microsr.evaluation.qc`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from microsr.errors import InputError
from microsr.evaluation import compare, figures, maps, profiles, resolution
from microsr.evaluation.pairing import bicubic_baseline, infer_scale, load_for_metrics
from microsr.metrics import crop_border as _crop
from microsr.metrics import fit_affine


def plane(array: np.ndarray) -> np.ndarray:
    """The 2-D (Y, X) image used for maps: the array itself or the middle plane of a stack."""
    a = np.asarray(array, dtype=np.float64)
    while a.ndim > 2:
        a = a[a.shape[0] // 2]
    return a


def image_panel(
    stem: str,
    gt: np.ndarray,
    lr: np.ndarray | None,
    base: np.ndarray | None,
    preds: dict[str, np.ndarray],
    *,
    fits: dict[str, str],
    data_range: float | None,
    line: tuple[float, float, float, float] | None,
    pixel_size: float | None,
) -> dict[str, Any]:
    """Thumbnails, maps and captions for one image (all arrays 2-D)."""
    dr = data_range if data_range is not None else float(gt.max() - gt.min()) or 1.0
    candidates = ({compare.BASELINE: base} if base is not None else {}) | preds
    images = []
    if lr is not None:
        images.append({"label": f"LR ({lr.shape[1]}×{lr.shape[0]})", "uri": figures.gray_thumbnail(lr)})
    for name, p in preds.items():
        images.append({"label": name, "uri": figures.gray_thumbnail(p)})
    images.append({"label": f"ground truth ({gt.shape[1]}×{gt.shape[0]})", "uri": figures.gray_thumbnail(gt)})
    ssim_tiles, sq = [], {}
    for name, p in candidates.items():
        scored = fit_affine(p, gt)[0] if fits.get(name) == "affine" else p
        mean, smap = maps.ssim_map(gt, scored, data_range=dr)
        ssim_tiles.append(
            {
                "label": name,
                "uri": figures.colormap_thumbnail(smap, 0.0, 1.0, "viridis"),
                "caption": f"mean SSIM {mean:.3f}",
            }
        )
        sq[name] = maps.squirrel(gt, p)
    vmax, err_tiles = _error_tiles(sq)
    panel = {
        "image": stem,
        "shape": gt.shape,
        "images": images,
        "ssim": ssim_tiles,
        "errors": err_tiles,
        "error_vmax": vmax,
        "lr_errors": [],
        "lr_error_vmax": 0.0,
        "profile": None,
        "line": line,
    }
    if lr is not None:  # NanoJ-SQUIRREL proper: is the prediction consistent with what was measured?
        sq_lr = {name: maps.squirrel(lr, p) for name, p in candidates.items()}
        panel["lr_error_vmax"], panel["lr_errors"] = _error_tiles(sq_lr)
    if line is not None:
        dist, profs = profiles.line_profiles(gt, preds, line, lr=lr)
        fig = profiles.plot_profiles(
            dist, profs, pixel_size=pixel_size, title=f"{stem}: scaled line profiles"
        ).figure
        panel["profile"] = figures.figure_uri(fig)
    return panel


def resolution_px(image: np.ndarray, pixel_size: float | None) -> float | None:
    """Decorrelation resolution in pixels, or ``None`` for an image too small or without an estimate."""
    try:
        r = resolution.decorrelation(image, pixel_size=pixel_size)
    except ValueError:  # too small
        return None
    return r.resolution_px if np.isfinite(r.resolution_px) else None


def _error_tiles(results: dict[str, Any]) -> tuple[float, list[dict[str, str]]]:
    """SQUIRREL error-map tiles on one colour scale (the 99.5th percentile of all maps) and that scale."""
    vmax = max(float(np.percentile(r.error_map, 99.5)) for r in results.values()) or 1.0
    tiles = [
        {
            "label": name,
            "uri": figures.colormap_thumbnail(r.error_map, 0.0, vmax, "inferno"),
            "caption": f"RSE {r.rse:.4g} · RSP {r.rsp:.3f} · σ {r.sigma:.2f} px",
        }
        for name, r in results.items()
    ]
    return vmax, tiles


def _check_line(
    line: tuple[float, float, float, float], shape: tuple[int, ...], crop_border: int, gt_path: Path
) -> None:
    """Refuse a ``--line`` (in cropped coordinates) that leaves the cropped ground truth."""
    try:
        profiles.line_coords(line, (shape[0], shape[1]))
    except ValueError as exc:
        c, (h, w) = crop_border, shape
        msg = (
            f"--line: ends must lie within x {c}..{w + c - 1}, y {c}..{h + c - 1} (inside --crop-border {c})"
            if c
            else f"--line: {exc}"
        )
        raise InputError(gt_path, msg) from None


def _row(summary: dict[str, Any], stem: str) -> dict[str, Any]:
    return next(r for r in summary["per_image"] if r["name"] == stem)


def image_panels(
    names: Sequence[str],
    pred_dirs: Sequence[Path],
    summaries: dict[str, dict[str, Any]],
    rows: list[dict[str, Any]],
    gt_files: dict[str, Path],
    *,
    lr_dir: Path | None,
    max_panels: int,
    line: tuple[float, float, float, float] | None,
    data_range: float | None,
    crop_border: int,
    pixel_size: float | None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Resolution rows and panels of the first ``max_panels`` images; sets ``resolution_px`` in ``rows``."""
    first = summaries[names[0]]
    # --line is in full ground-truth pixels; the panels show the image after --crop-border
    line_c = None
    if line is not None:
        x0, y0, x1, y1 = (v - crop_border for v in line)
        line_c = (x0, y0, x1, y1)
    res_rows: list[dict[str, Any]] = []
    panels: list[dict[str, Any]] = []
    for stem, gt_path in list(gt_files.items())[:max_panels]:  # images are loaded for panels only
        gt_raw = load_for_metrics(gt_path)
        gt = plane(_crop(gt_raw, crop_border))
        if line_c is not None and not panels:
            _check_line(line_c, gt.shape, crop_border, gt_path)
        preds = {
            name: plane(_crop(load_for_metrics(pred / _row(summaries[name], stem)["pred"]), crop_border))
            for name, pred in zip(names, pred_dirs)
        }
        lr = base = None
        if lr_dir is not None:
            lr_path = lr_dir / _row(first, stem)["lr"]
            lr_full = load_for_metrics(lr_path)
            factor = infer_scale(lr_full.shape, gt_raw.shape, lr_path)
            base = plane(_crop(bicubic_baseline(lr_full, factor), crop_border))
            lr = plane(lr_full)
        fits = {n: _row(summaries[n], stem)["fit"] for n in names}
        fits[compare.BASELINE] = fits[names[0]]  # the baseline is scored like the first model
        res = {"image": stem, "ground truth": resolution_px(gt, pixel_size)}
        if base is not None:
            res[compare.BASELINE] = resolution_px(base, pixel_size)
        res |= {name: resolution_px(p, pixel_size) for name, p in preds.items()}
        res_rows.append(res)
        for r in rows:
            if r["image"] == stem:
                r["resolution_px"] = res.get(r["model"])
        lr_shown = lr if crop_border == 0 else None
        panels.append(
            image_panel(
                stem,
                gt,
                lr_shown,
                base,
                preds,
                fits=fits,
                data_range=data_range,
                line=line_c,
                pixel_size=pixel_size,
            )
        )
    return res_rows, panels
