"""Quality control of one or several models: metrics, maps, resolution, tests and ``report.html``.

:func:`run_qc` is what ``microsr evaluate`` runs. Files written to ``out_dir``:

* ``metrics.csv`` and ``summary.json`` of the first ``--pred`` folder, exactly as
  :func:`~microsr.evaluation.evaluate.evaluate_folders` writes them (single-model form unchanged);
* with several ``--pred`` folders: ``models/<name>/{metrics.csv,summary.json}`` for the others, a
  ``models`` mapping (folder name -> means and paths) added to the top-level ``summary.json``, and
  ``comparison.csv`` with the paired tests (:mod:`microsr.evaluation.compare`);
* ``per_image.csv``: one line per image and model (bicubic included) with PSNR, SSIM, MS-SSIM,
  NRMSE and the decorrelation resolution in pixels (empty beyond ``max_panels``);
* ``report.html``: one self-contained page (:mod:`microsr.evaluation.report`).

Maps, resolution and profiles use one 2-D image per file: the image itself, or for stacks the
middle plane of every leading axis (Z, T, C). The per-image panels (LR, predictions, ground truth,
SSIM maps, SQUIRREL error maps) and the decorrelation resolution (of the ground truth, the bicubic
baseline and every model) are computed for the first ``max_panels`` images (default 12; the
resolution costs ~0.35 s per 256x256 image, ~2 s at 1024x1024), PSNR/SSIM/MS-SSIM/NRMSE for all.
"""

from __future__ import annotations

from collections.abc import Sequence
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from microsr.errors import InputError
from microsr.evaluation import compare, figures, maps, profiles, resolution
from microsr.evaluation.evaluate import check_options, score_folder
from microsr.evaluation.pairing import bicubic_baseline, infer_scale, load_for_metrics
from microsr.evaluation.summary import summarize, write_results
from microsr.io import read_image, write_text_atomic
from microsr.io.guard import check_writable
from microsr.metrics import crop_border as _crop
from microsr.metrics import fit_affine

PathArg = str | PathLike[str]


def plane(array: np.ndarray) -> np.ndarray:
    """The 2-D (Y, X) image used for maps: the array itself or the middle plane of a stack."""
    a = np.asarray(array, dtype=np.float64)
    while a.ndim > 2:
        a = a[a.shape[0] // 2]
    return a


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def _panel(
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
    ssim_tiles, err_tiles, sq = [], [], {}
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
    vmax = max(float(np.percentile(r.error_map, 99.5)) for r in sq.values()) or 1.0
    for name, r in sq.items():
        err_tiles.append(
            {
                "label": name,
                "uri": figures.colormap_thumbnail(r.error_map, 0.0, vmax, "inferno"),
                "caption": f"RSE {r.rse:.4g} · RSP {r.rsp:.3f} · σ {r.sigma:.2f} px",
            }
        )
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
        vmax_lr = max(float(np.percentile(r.error_map, 99.5)) for r in sq_lr.values()) or 1.0
        panel["lr_error_vmax"] = vmax_lr
        panel["lr_errors"] = [
            {
                "label": name,
                "uri": figures.colormap_thumbnail(r.error_map, 0.0, vmax_lr, "inferno"),
                "caption": f"RSE {r.rse:.4g} · RSP {r.rsp:.3f} · σ {r.sigma:.2f} px",
            }
            for name, r in sq_lr.items()
        ]
    if line is not None:
        dist, profs = profiles.line_profiles(gt, preds, line, lr=lr)
        fig = profiles.plot_profiles(
            dist, profs, pixel_size=pixel_size, title=f"{stem}: scaled line profiles"
        ).figure
        panel["profile"] = figures.figure_uri(fig)
    return panel


def _resolution(image: np.ndarray, pixel_size: float | None) -> float | None:
    try:
        r = resolution.decorrelation(image, pixel_size=pixel_size)
    except ValueError:  # too small
        return None
    return r.resolution_px if np.isfinite(r.resolution_px) else None


def run_qc(
    pred_dirs: Sequence[PathArg],
    gt_dir: PathArg,
    out_dir: PathArg,
    *,
    lr_dir: PathArg | None = None,
    run_dirs: Sequence[PathArg] = (),
    pixel_size_nm: float | None = None,
    line: tuple[float, float, float, float] | None = None,
    fit: str = "none",
    data_range: float | None = None,
    crop_border: int = 0,
    max_panels: int = 12,
) -> dict[str, Any]:
    """Evaluate one or several prediction folders and write the QC report.

    Parameters
    ----------
    pred_dirs : sequence of path-like, length >= 1
        Prediction folders; each is named by its folder name (see :func:`compare.model_names`).
    gt_dir, out_dir, lr_dir, fit, data_range, crop_border
        As in :func:`~microsr.evaluation.evaluate.evaluate_folders`.
    run_dirs : sequence of path-like
        Training run folders whose loss curves go into the report.
    pixel_size_nm : float, optional
        Ground-truth pixel size in nanometres; default: read from the first ground-truth file.
    line : (x0, y0, x1, y1), optional
        Line in ground-truth pixels (of the uncropped image) for intensity profiles. With
        ``crop_border`` > 0 the LR image is left out of the panels and profiles.
    max_panels : int
        Number of images with a visual panel in the report.

    Returns
    -------
    dict
        The top-level ``summary.json`` content, plus in memory only ``"_report"`` (its path).
    """
    if not pred_dirs:
        raise InputError(None, "give at least one --pred folder")
    for run in run_dirs:
        if not Path(run).is_dir():
            raise InputError(run, "run folder not found")
    if pixel_size_nm is not None and not (np.isfinite(pixel_size_nm) and pixel_size_nm > 0):
        raise InputError(None, f"--pixel-size must be a positive number of nanometres, not {pixel_size_nm}")
    seen: set[Path] = set()
    for pred in pred_dirs:
        if Path(pred).resolve() in seen:
            raise InputError(pred, "given twice as --pred; give each prediction folder once")
        seen.add(Path(pred).resolve())
    check_options(fit, data_range, crop_border)
    out = check_writable(out_dir)
    inputs = [Path(gt_dir), *map(Path, pred_dirs), *([Path(lr_dir)] if lr_dir is not None else [])]
    for folder in inputs:
        if out.resolve() == folder.resolve():
            raise InputError(out, f"--out is the input folder {folder}; choose a separate folder for results")
    names = compare.model_names(pred_dirs)
    kw = {"fit": fit, "data_range": data_range, "crop_border": crop_border}
    summaries: dict[str, dict[str, Any]] = {}
    score_rows: dict[str, list[dict[str, Any]]] = {}
    for i, (name, pred) in enumerate(zip(names, pred_dirs)):
        lr_i = Path(lr_dir) if lr_dir is not None and i == 0 else None  # one bicubic baseline
        score_rows[name], unmatched = score_folder(Path(pred), Path(gt_dir), lr_dir=lr_i, **kw)
        summaries[name] = {
            "format": "microsr-evaluation/1",
            "pred_dir": str(pred),
            "gt_dir": str(gt_dir),
            "lr_dir": None if lr_i is None else str(lr_dir),
            **summarize(score_rows[name], **kw),
            "unmatched_predictions": unmatched,
            "per_image": score_rows[name],
        }
    first = summaries[names[0]]
    gt_dir = Path(gt_dir)
    gt_files = {r["name"]: gt_dir / r["gt"] for r in first["per_image"]}
    pixel_size = (
        pixel_size_nm / 1000.0 if pixel_size_nm else read_image(next(iter(gt_files.values()))).pixel_size
    )
    rows = compare.per_image_rows(summaries)
    res_rows: list[dict[str, Any]] = []
    panels: list[dict[str, Any]] = []
    # --line is in full ground-truth pixels; the panels show the image after --crop-border
    line_c = None if line is None else tuple(v - crop_border for v in line)
    for stem, gt_path in list(gt_files.items())[:max_panels]:  # images are loaded for panels only
        gt_raw = load_for_metrics(gt_path)
        gt = plane(_crop(gt_raw, crop_border))
        if line is not None and not panels:
            try:
                profiles.line_coords(line_c, gt.shape)
            except ValueError as exc:
                c, (h, w) = crop_border, gt.shape
                msg = (
                    (
                        f"--line: ends must lie within x {c}..{w + c - 1}, y {c}..{h + c - 1} (inside "
                        f"--crop-border {c})"
                    )
                    if c
                    else f"--line: {exc}"
                )
                raise InputError(gt_path, msg) from None
        preds = {}
        for name, pred in zip(names, pred_dirs):
            fname = next(r["pred"] for r in summaries[name]["per_image"] if r["name"] == stem)
            preds[name] = plane(_crop(load_for_metrics(Path(pred) / fname), crop_border))
        lr = base = None
        if lr_dir is not None:
            lr_path = Path(lr_dir) / next(r["lr"] for r in first["per_image"] if r["name"] == stem)
            lr_full = load_for_metrics(lr_path)
            factor = infer_scale(lr_full.shape, gt_raw.shape, lr_path)
            base = plane(_crop(bicubic_baseline(lr_full, factor), crop_border))
            lr = plane(lr_full)
        fits = {n: next(r["fit"] for r in summaries[n]["per_image"] if r["name"] == stem) for n in names}
        fits[compare.BASELINE] = fits[names[0]]  # the baseline is scored like the first model
        res = {"image": stem, "ground truth": _resolution(gt, pixel_size)}
        if base is not None:
            res[compare.BASELINE] = _resolution(base, pixel_size)
        res |= {name: _resolution(p, pixel_size) for name, p in preds.items()}
        res_rows.append(res)
        for r in rows:
            if r["image"] == stem:
                r["resolution_px"] = res.get(r["model"])
        panels.append(
            _panel(
                stem,
                gt,
                lr if crop_border == 0 else None,
                base,
                preds,
                fits=fits,
                data_range=data_range,
                line=line_c,
                pixel_size=pixel_size,
            )
        )
    tests = compare.all_paired_tests(rows)
    from microsr.evaluation import report

    html = report.render(
        summaries=summaries,
        rows=rows,
        tests=tests,
        resolution_rows=res_rows,
        panels=panels,
        pixel_size=pixel_size,
        run_dirs=[Path(r) for r in run_dirs],
        n_images=len(gt_files),
    )
    if len(names) > 1:
        first["models"] = {
            name: {
                "pred_dir": str(pred),
                "n_images": s["n_images"],
                **{m: s[m] for m in compare.METRICS},
                "summary": "summary.json" if i == 0 else f"models/{_safe(name)}/summary.json",
            }
            for i, ((name, s), pred) in enumerate(zip(summaries.items(), pred_dirs))
        }
        first["comparison"] = "comparison.csv"
    # nothing is written before everything has been computed
    for i, name in enumerate(names):
        write_results(out if i == 0 else out / "models" / _safe(name), score_rows[name], summaries[name])
    write_text_atomic(out / "per_image.csv", compare.rows_csv_text(rows))
    if len(names) > 1:
        write_text_atomic(out / "comparison.csv", compare.tests_csv_text(tests))
    write_text_atomic(out / "report.html", html)
    return first | {"_report": str(out / "report.html")}
