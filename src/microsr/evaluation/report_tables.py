"""The tables of ``report.html``: summary, paired tests, per-image values and resolution (HTML strings)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

import numpy as np

from microsr.evaluation import compare


def _fmt(v: Any, spec: str = ".4g") -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "–"
    return format(v, spec) if isinstance(v, (float, int, np.floating)) else escape(str(v))


#: Why the decorrelation estimate of a prediction or of bicubic is shown but never ranked.
RESOLUTION_CAVEAT = (
    "* On interpolated (bicubic) and network-output images the decorrelation estimate measures the "
    "interpolation and the texture of the noise, not the resolution: a lower value there is not a "
    "win, and the report never marks it as one. Only the ground truth's estimate is a measured "
    "resolution. To compare predictions, predict two independent noisy acquisitions of the same "
    "field and run <code>microsr resolution --input A --second B</code> (FRC between the two)."
)


def _res_text(px: float | None, pixel_size: float | None) -> str:
    if px is None:
        return "–"
    return f"{px * pixel_size * 1000:.1f} nm" if pixel_size else f"{px:.2f} px"


def _label(metric: str, pixel_size: float | None) -> str:
    if metric == "resolution_px":
        return f"decorrelation resolution ({'nm' if pixel_size else 'px'})"
    return compare.LABELS[metric]


def summary_table(rows: Sequence[Mapping[str, Any]], pixel_size: float | None) -> str:
    """Mean ± SD per model and metric, the best mean of each metric marked (never the resolution)."""
    table = compare.summary_table(rows)
    metrics = compare.metrics_of(rows)
    models = compare.models_of(rows)
    stat = {(t["model"], t["metric"]): t for t in table}
    best = {}
    for m in metrics:
        means = {mod: stat[(mod, m)]["mean"] for mod in models if (mod, m) in stat}
        if means:
            best[m] = (max if compare.HIGHER_IS_BETTER[m] else min)(means, key=lambda mod: means[mod])
    head = "".join(
        f"<th>{escape(_label(m, pixel_size))} "
        f"{'*' if m == 'resolution_px' else ('↑' if compare.HIGHER_IS_BETTER[m] else '↓')}</th>"
        for m in metrics
    )
    out = [f"<table><tr><th>model</th><th>n</th>{head}</tr>"]
    for mod in models:
        n = max((stat[(mod, m)]["n"] for m in metrics if (mod, m) in stat), default=0)
        cells = []
        for m in metrics:
            t = stat.get((mod, m))
            if t is None:
                cells.append("<td>–</td>")
                continue
            if m == "resolution_px":
                text = f"{_res_text(t['mean'], pixel_size)} ± {_res_text(t['std'], pixel_size)}"
            else:
                spec = ".2f" if m == "psnr" else ".4f"
                text = f"{t['mean']:{spec}} ± {t['std']:{spec}}"
            cls = ' class="best"' if best.get(m) == mod and len(models) > 1 and m != "resolution_px" else ""
            cells.append(f"<td{cls}>{text}</td>")
        out.append(f"<tr><td>{escape(mod)}</td><td>{n}</td>{''.join(cells)}</tr>")
    out.append("</table>")
    return "".join(out)


def tests_table(tests: Sequence[Mapping[str, Any]]) -> str:
    """One row per model pair, one cell per metric: the better model (resolution: the lower estimate, not ranked) and both p-values."""
    if not tests:
        return '<p class="note">Only one model: no paired test.</p>'
    metrics = list(dict.fromkeys(t["metric"] for t in tests))
    pairs = list(dict.fromkeys((t["model_a"], t["model_b"]) for t in tests))
    by = {(t["model_a"], t["model_b"], t["metric"]): t for t in tests}
    head = "".join(f"<th>{escape(_label(m, None).replace(' (px)', ''))}</th>" for m in metrics)
    out = [f"<table><tr><th>model A vs model B</th><th>n</th>{head}</tr>"]
    for a, b in pairs:
        cells, n = [], 0
        for m in metrics:
            t = by.get((a, b, m))
            if t is None:
                cells.append("<td>–</td>")
                continue
            n = max(n, t["n"])
            sig = any(p is not None and p < 0.05 for p in (t["wilcoxon_p"], t["ttest_p"]))
            if m == "resolution_px":  # not a ranking: see RESOLUTION_CAVEAT
                sig = False
                who = "equal" if t["better"] == "tie" else f"{escape(t['better'])} lower*"
            else:
                who = "tie" if t["better"] == "tie" else f"{escape(t['better'])} better"
            cls = ' class="sig"' if sig else ""
            cells.append(
                f"<td{cls}>{who}<br><small>W {_fmt(t['wilcoxon_p'], '.2g')}"
                f" · t {_fmt(t['ttest_p'], '.2g')}</small></td>"
            )
        out.append(f"<tr><td>{escape(a)} vs {escape(b)}</td><td>{n}</td>{''.join(cells)}</tr>")
    out.append("</table>")
    return "".join(out)


def per_image_table(rows: Sequence[Mapping[str, Any]], pixel_size: float | None) -> str:
    """Every image's values, folded in a ``<details>`` element."""
    metrics = compare.metrics_of(rows)
    head = "".join(f"<th>{escape(_label(m, pixel_size))}</th>" for m in metrics)
    out = [
        f"<details><summary>Per-image values ({len(rows)} rows; also in per_image.csv)</summary>"
        f"<table><tr><th>image</th><th>model</th>{head}</tr>"
    ]
    for r in rows:
        cells = "".join(
            f"<td>{_res_text(r.get(m), pixel_size) if m == 'resolution_px' else _fmt(r.get(m))}</td>"
            for m in metrics
        )
        out.append(f"<tr><td>{escape(r['image'])}</td><td>{escape(r['model'])}</td>{cells}</tr>")
    out.append("</table></details>")
    return "".join(out)


def resolution_table(res_rows: Sequence[Mapping[str, Any]], pixel_size: float | None) -> str:
    """Decorrelation resolution per image and column, with the column means."""
    if not res_rows:
        return ""
    cols = [c for c in res_rows[0] if c != "image"]
    out = ["<table><tr><th>image</th>" + "".join(f"<th>{escape(c)}</th>" for c in cols) + "</tr>"]
    for r in res_rows:
        out.append(
            f"<tr><td>{escape(r['image'])}</td>"
            + "".join(f"<td>{_res_text(r.get(c), pixel_size)}</td>" for c in cols)
            + "</tr>"
        )
    means = []
    for c in cols:
        v = [r[c] for r in res_rows if r.get(c) is not None]
        means.append(f"<td><b>{_res_text(float(np.mean(v)) if v else None, pixel_size)}</b></td>")
    out.append("<tr><td><b>mean</b></td>" + "".join(means) + "</tr></table>")
    return "".join(out)
