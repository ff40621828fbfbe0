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
from microsr.evaluation import compare
from microsr.evaluation.evaluate import check_options, score_folder
from microsr.evaluation.panels import image_panels
from microsr.evaluation.summary import summarize, write_results
from microsr.io import read_image, write_text_atomic
from microsr.io.guard import check_writable

PathArg = str | PathLike[str]


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


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
    _check_qc_options(pred_dirs, run_dirs, pixel_size_nm)
    check_options(fit, data_range, crop_border)
    out = _checked_out_dir(out_dir, [gt_dir, *pred_dirs, *([lr_dir] if lr_dir is not None else [])])
    names = compare.model_names(pred_dirs)
    kw = {"fit": fit, "data_range": data_range, "crop_border": crop_border}
    summaries, score_rows = _score_models(names, pred_dirs, Path(gt_dir), lr_dir, kw)
    first = summaries[names[0]]
    gt_files = {r["name"]: Path(gt_dir) / r["gt"] for r in first["per_image"]}
    pixel_size = (
        pixel_size_nm / 1000.0 if pixel_size_nm else read_image(next(iter(gt_files.values()))).pixel_size
    )
    rows = compare.per_image_rows(summaries)
    res_rows, panels = image_panels(
        names,
        [Path(p) for p in pred_dirs],
        summaries,
        rows,
        gt_files,
        lr_dir=None if lr_dir is None else Path(lr_dir),
        max_panels=max_panels,
        line=line,
        data_range=data_range,
        crop_border=crop_border,
        pixel_size=pixel_size,
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
    # nothing is written before everything has been computed
    _write_outputs(out, names, pred_dirs, summaries, score_rows, rows, tests)
    write_text_atomic(out / "report.html", html)
    return first | {"_report": str(out / "report.html")}


def _check_qc_options(
    pred_dirs: Sequence[PathArg], run_dirs: Sequence[PathArg], pixel_size_nm: float | None
) -> None:
    """Refuse no or repeated ``--pred`` folders, missing run folders and a bad pixel size."""
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


def _checked_out_dir(out_dir: PathArg, inputs: Sequence[PathArg]) -> Path:
    """The writable output folder, refused when it is one of the input folders."""
    out = check_writable(out_dir)
    for folder in map(Path, inputs):
        if out.resolve() == folder.resolve():
            raise InputError(out, f"--out is the input folder {folder}; choose a separate folder for results")
    return out


def _score_models(
    names: list[str], pred_dirs: Sequence[PathArg], gt_dir: Path, lr_dir: PathArg | None, kw: dict[str, Any]
) -> tuple[dict[str, dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    """Scores and ``summary.json`` content of every prediction folder (the baseline with the first)."""
    summaries: dict[str, dict[str, Any]] = {}
    score_rows: dict[str, list[dict[str, Any]]] = {}
    for i, (name, pred) in enumerate(zip(names, pred_dirs)):
        lr_i = Path(lr_dir) if lr_dir is not None and i == 0 else None  # one bicubic baseline
        score_rows[name], unmatched = score_folder(Path(pred), gt_dir, lr_dir=lr_i, **kw)
        summaries[name] = {
            "format": "microsr-evaluation/1",
            "pred_dir": str(pred),
            "gt_dir": str(gt_dir),
            "lr_dir": None if lr_i is None else str(lr_dir),
            **summarize(score_rows[name], **kw),
            "unmatched_predictions": unmatched,
            "per_image": score_rows[name],
        }
    return summaries, score_rows


def _write_outputs(
    out: Path,
    names: list[str],
    pred_dirs: Sequence[PathArg],
    summaries: dict[str, dict[str, Any]],
    score_rows: dict[str, list[dict[str, Any]]],
    rows: list[dict[str, Any]],
    tests: list[dict[str, Any]],
) -> None:
    """Every model's results, ``per_image.csv`` and (several models) ``comparison.csv``."""
    first = summaries[names[0]]
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
    for i, name in enumerate(names):
        write_results(out if i == 0 else out / "models" / _safe(name), score_rows[name], summaries[name])
    write_text_atomic(out / "per_image.csv", compare.rows_csv_text(rows))
    if len(names) > 1:
        write_text_atomic(out / "comparison.csv", compare.tests_csv_text(tests))
