"""Compare several models (prediction folders) on one ground-truth set.

Metrics per image come from :func:`microsr.evaluation.evaluate.evaluate_folders` (one call per
model; the bicubic baseline from the first), so the numbers are exactly those of ``summary.json``.
This module adds:

* a long per-image table (one row per image and model, ``bicubic`` included when LR is given),
  optionally with the decorrelation resolution of each image (2-D images only; stacks get none);
* a summary table (mean, median, standard deviation, n per model and metric);
* paired tests of every pair of models over the same images: Wilcoxon signed-rank
  (:func:`scipy.stats.wilcoxon`, two-sided, zero differences dropped) and paired t-test
  (:func:`scipy.stats.ttest_rel`, two-sided); ``better`` names the model with the better mean
  (higher PSNR/SSIM/MS-SSIM, lower NRMSE and resolution). Two-sided because the direction is not
  chosen in advance; with fewer than 6 images the Wilcoxon test cannot reach p < 0.05;
* Tukey box plots (``whis=1.5``: whiskers at the last point within 1.5 IQR of the box, points
  beyond drawn as outliers) with the individual images overlaid.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from microsr.metrics.registry import METRIC_NAMES
from microsr.metrics.registry import METRICS as METRIC_REGISTRY

METRICS = METRIC_NAMES
HIGHER_IS_BETTER = {
    **{name: METRIC_REGISTRY.get(name).higher_is_better for name in METRIC_NAMES},
    "resolution_px": False,
}
LABELS = {
    "psnr": "PSNR (dB)",
    "ssim": "SSIM",
    "ms_ssim": "MS-SSIM",
    "nrmse": "NRMSE",
    "resolution_px": "decorrelation resolution (px)",
}
BASELINE = "bicubic"


def model_names(pred_dirs: Sequence[str | PathLike[str]]) -> list[str]:
    """Unique display names: the folder name, or ``parent/name`` (then ``name-2``...) on clashes."""
    paths = [Path(p) for p in pred_dirs]
    plain = [p.resolve().name or str(p) for p in paths]
    names = [f"{p.resolve().parent.name}/{n}" if plain.count(n) > 1 else n for p, n in zip(paths, plain)]
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n}-{seen[n]}")
    if BASELINE in out:
        out = [f"{n} (model)" if n == BASELINE else n for n in out]
    return out


def per_image_rows(summaries: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Long table from ``evaluate_folders`` summaries keyed by model name.

    Returns
    -------
    list of dict
        ``{"image", "model", "psnr", "ssim", "ms_ssim", "nrmse"}`` per image and model, models in
        the given order, then ``bicubic`` (from the first summary) when it has a baseline.
    """
    rows: list[dict[str, Any]] = []
    first = next(iter(summaries.values()))
    for model, s in summaries.items():
        for r in s["per_image"]:
            rows.append({"image": r["name"], "model": model, **{m: r.get(m) for m in METRICS}})
    if "baseline" in first:
        for r in first["per_image"]:
            rows.append(
                {"image": r["name"], "model": BASELINE, **{m: r.get(f"baseline_{m}") for m in METRICS}}
            )
    return rows


def models_of(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """Model names in first-seen order."""
    return list(dict.fromkeys(r["model"] for r in rows))


def metrics_of(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """Metrics present (non-empty somewhere) in the rows, in the standard order."""
    return [m for m in (*METRICS, "resolution_px") if any(_num(r.get(m)) is not None for r in rows)]


def _num(v: Any) -> float | None:
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if np.isfinite(f) else None


def _values(rows, model: str, metric: str) -> dict[str, float]:
    return {r["image"]: v for r in rows if r["model"] == model and (v := _num(r.get(metric))) is not None}


def summary_table(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per model and metric: n, mean, median, std (sample, ddof=1; 0 for n=1), min, max."""
    out = []
    for model in models_of(rows):
        for metric in metrics_of(rows):
            v = np.array(list(_values(rows, model, metric).values()))
            if v.size == 0:
                continue
            out.append(
                {
                    "model": model,
                    "metric": metric,
                    "n": int(v.size),
                    "mean": float(v.mean()),
                    "median": float(np.median(v)),
                    "std": float(v.std(ddof=1)) if v.size > 1 else 0.0,
                    "min": float(v.min()),
                    "max": float(v.max()),
                }
            )
    return out


def paired_test(rows: Sequence[Mapping[str, Any]], model_a: str, model_b: str, metric: str) -> dict[str, Any]:
    """Paired comparison of two models on the images both were scored on.

    Returns
    -------
    dict
        ``metric, model_a, model_b, n, mean_a, mean_b, mean_diff`` (a - b), ``median_diff``,
        ``wilcoxon_p``, ``ttest_p`` (two-sided; ``None`` when undefined, e.g. n < 2 or all
        differences zero), ``better`` (model with the better mean, or ``"tie"``).
    """
    va, vb = _values(rows, model_a, metric), _values(rows, model_b, metric)
    common = sorted(set(va) & set(vb))
    a = np.array([va[k] for k in common])
    b = np.array([vb[k] for k in common])
    d = a - b
    res: dict[str, Any] = {
        "metric": metric,
        "model_a": model_a,
        "model_b": model_b,
        "n": len(common),
        "mean_a": float(a.mean()) if a.size else None,
        "mean_b": float(b.mean()) if b.size else None,
        "mean_diff": float(d.mean()) if d.size else None,
        "median_diff": float(np.median(d)) if d.size else None,
        "wilcoxon_p": None,
        "ttest_p": None,
    }
    if d.size >= 2 and np.any(d != 0):
        res["wilcoxon_p"] = float(stats.wilcoxon(a, b, zero_method="wilcox").pvalue)
        if np.std(d) > 0:
            res["ttest_p"] = float(stats.ttest_rel(a, b).pvalue)
        else:  # constant non-zero difference: as certain as a paired test can be
            res["ttest_p"] = 0.0
    if not d.size or d.mean() == 0:
        res["better"] = "tie"
    else:
        a_wins = (d.mean() > 0) == HIGHER_IS_BETTER[metric]
        res["better"] = model_a if a_wins else model_b
    return res


def all_paired_tests(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """:func:`paired_test` for every unordered pair of models (bicubic included) and metric."""
    models = models_of(rows)
    return [
        paired_test(rows, a, b, m)
        for m in metrics_of(rows)
        for i, a in enumerate(models)
        for b in models[i + 1 :]
    ]


def box_plots(
    rows: Sequence[Mapping[str, Any]],
    metrics: Sequence[str] | None = None,
    *,
    pixel_size: float | None = None,
):
    """Tukey box plots (``whis=1.5``), one panel per metric, one box per model.

    ``pixel_size`` (micrometres) shows the resolution in nanometres instead of pixels.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from microsr.evaluation.figures import new_figure

    metrics = list(metrics or metrics_of(rows))
    models = models_of(rows)
    fig, axes = new_figure((max(3.2 * len(metrics), 4), 3.6), 1, len(metrics))
    rng = np.random.default_rng(0)
    for ax, metric in zip(axes[0], metrics):
        f = pixel_size * 1000 if metric == "resolution_px" and pixel_size else 1.0
        data = [[v * f for v in _values(rows, m, metric).values()] for m in models]
        keep = [i for i, v in enumerate(data) if v]
        ax.boxplot(
            [data[i] for i in keep],
            whis=1.5,
            widths=0.55,
            showmeans=False,
            medianprops={"color": "black"},
            flierprops={"marker": "x", "markersize": 4},
        )
        for pos, i in enumerate(keep, start=1):
            ax.scatter(pos + rng.uniform(-0.12, 0.12, len(data[i])), data[i], s=9, alpha=0.6, zorder=3)
        ax.set_xticks(range(1, len(keep) + 1), [models[i] for i in keep], rotation=30, ha="right", fontsize=8)
        label = LABELS[metric].replace("(px)", "(nm)") if f != 1.0 else LABELS[metric]
        how = (
            "(not a ranking)"
            if metric == "resolution_px"
            else ("↑" if HIGHER_IS_BETTER[metric] else "↓") + " better"
        )
        ax.set_title(f"{label} {how}", fontsize=9)
        ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def csv_text(records: Sequence[Mapping[str, Any]], cols: list[str], *, digits: int) -> str:
    """CSV with header ``cols``; floats to ``digits`` significant digits, missing values empty."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(cols)
    for rec in records:
        writer.writerow(
            [
                "" if (v := rec.get(c)) is None else (f"{v:.{digits}g}" if isinstance(v, float) else v)
                for c in cols
            ]
        )
    return buf.getvalue()


def tests_csv_text(tests: Sequence[Mapping[str, Any]]) -> str:
    """``comparison.csv`` content: one line per metric and model pair."""
    cols = [
        "metric",
        "model_a",
        "model_b",
        "n",
        "mean_a",
        "mean_b",
        "mean_diff",
        "median_diff",
        "wilcoxon_p",
        "ttest_p",
        "better",
    ]
    return csv_text(tests, cols, digits=6)


def rows_csv_text(rows: Sequence[Mapping[str, Any]]) -> str:
    """``per_image.csv`` content: one line per image and model (``resolution_px`` empty if not computed)."""
    cols = ["image", "model", *METRICS, "resolution_px"]
    return csv_text(rows, cols, digits=8)
