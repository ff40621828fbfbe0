"""``report.html``: one self-contained QC page (no server, no external CSS/JS/fonts).

Sections (each an element with the given ``id``): ``summary`` (mean ± SD per model, bicubic
included), ``boxplots`` (Tukey box plots), ``tests`` (paired Wilcoxon / t-tests), ``resolution``
(decorrelation resolution per image), ``training`` (loss curves of the given run folders) and
``images`` (a ``<select>`` showing one image's panel at a time: LR, predictions, ground truth, SSIM
maps, SQUIRREL error maps against the ground truth and, with LR images, against the LR input, and with ``--line`` the scaled
intensity profiles). All figures are
embedded as base64 PNG thumbnails of at most 512 px; a ten-line inline script switches panels, and
without JavaScript the first panel stays visible.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

import numpy as np

from microsr import __version__
from microsr.evaluation import compare, figures

_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px;color:#222;max-width:1400px}
h1{font-size:22px;margin-bottom:4px}h2{font-size:17px;border-bottom:1px solid #ccc;padding-bottom:3px;margin-top:28px}
table{border-collapse:collapse;font-size:13px;margin:8px 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}
th{background:#f2f2f2}td:first-child,th:first-child{text-align:left}.best{font-weight:700;background:#e8f4e8}
.meta{font-size:12px;color:#555}.note{font-size:12px;color:#555;max-width:900px}
.row{display:flex;flex-wrap:wrap;gap:8px;margin:6px 0 14px}.tile{width:212px;font-size:12px}
.tile .box{position:relative;width:212px}.tile img{width:212px;display:block;image-rendering:pixelated;border:1px solid #999}
.tile svg{position:absolute;left:0;top:0;width:212px;height:100%}.cap{color:#444}
.bar{height:10px;width:212px;border:1px solid #999}.scale{display:flex;justify-content:space-between;width:212px;font-size:11px}
select{font-size:14px;padding:2px 6px}.sig{color:#0a0;font-weight:600}
"""

_JS = """
function showPanel(i){var ps=document.querySelectorAll('.panel');
for(var k=0;k<ps.length;k++){ps[k].style.display=(String(k)===String(i))?'block':'none';}}
"""


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


def _summary_table(rows: Sequence[Mapping[str, Any]], pixel_size: float | None) -> str:
    table = compare.summary_table(rows)
    metrics = compare.metrics_of(rows)
    models = compare.models_of(rows)
    stat = {(t["model"], t["metric"]): t for t in table}
    best = {}
    for m in metrics:
        means = {mod: stat[(mod, m)]["mean"] for mod in models if (mod, m) in stat}
        if means:
            best[m] = (max if compare.HIGHER_IS_BETTER[m] else min)(means, key=means.get)
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


def _tests_table(tests: Sequence[Mapping[str, Any]]) -> str:
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


def _per_image_table(rows: Sequence[Mapping[str, Any]], pixel_size: float | None) -> str:
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


def _resolution_table(res_rows: Sequence[Mapping[str, Any]], pixel_size: float | None) -> str:
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


def _training(run_dirs: Sequence[Path]) -> str:
    if not run_dirs:
        return '<p class="note">No run folder given (<code>--run RUN</code> adds its loss curves).</p>'
    parts = []
    for run in run_dirs:
        imgs = [
            figures.file_uri(run / n)
            for n in ("loss_curves.png", "loss_curves_log.png")
            if (run / n).is_file()
        ]
        if not imgs and (run / "log.csv").is_file():
            fig = figures.loss_curves_from_log(run / "log.csv")
            imgs = [figures.figure_uri(fig)] if fig is not None else []
        body = (
            "".join(f'<img src="{u}" style="max-width:480px;margin-right:8px">' for u in imgs)
            or '<p class="note">No loss_curves.png or readable log.csv in this folder.</p>'
        )
        parts.append(f"<h3 style='font-size:14px'>{escape(run.name)}</h3><div>{body}</div>")
    return "".join(parts) + (
        '<p class="note">Both curves should fall and flatten; a validation loss that rises '
        "while the training loss keeps falling means over-fitting.</p>"
    )


def _tile(t: Mapping[str, Any], line_svg: str = "") -> str:
    cap = f'<div class="cap">{escape(t["caption"])}</div>' if t.get("caption") else ""
    overlay = line_svg  # the LR tile covers the same field, so the GT-pixel viewBox fits it too
    return (
        f'<div class="tile"><b>{escape(t["label"])}</b><div class="box"><img src="{t["uri"]}" alt="">'
        f"{overlay}</div>{cap}</div>"
    )


def _bar(cmap: str, lo: str, hi: str) -> str:
    return (
        f'<div class="tile"><div class="bar" style="background:{figures.css_gradient(cmap)}"></div>'
        f'<div class="scale"><span>{lo}</span><span>{hi}</span></div></div>'
    )


def _panel_html(i: int, p: Mapping[str, Any]) -> str:
    h, w = p["shape"]
    svg = ""
    if p.get("line"):
        x0, y0, x1, y1 = p["line"]
        svg = (
            f'<svg viewBox="0 0 {w} {h}" preserveAspectRatio="none"><line x1="{x0 + 0.5}" y1="{y0 + 0.5}" '
            f'x2="{x1 + 0.5}" y2="{y1 + 0.5}" stroke="#ff00ff" stroke-width="{max(w, h) / 150:.2f}"/></svg>'
        )
    style = "" if i == 0 else ' style="display:none"'
    parts = [
        f'<div class="panel" id="panel-{i}"{style}><h3 style="font-size:15px">{escape(p["image"])}</h3>',
        '<div class="note">Each image shown with its own 0.1–99.9 percentile display range.</div>',
        '<div class="row">' + "".join(_tile(t, svg) for t in p["images"]) + "</div>",
        "<div><b>SSIM map vs ground truth</b> (1 = identical local structure)</div>",
        '<div class="row">' + "".join(_tile(t) for t in p["ssim"]) + _bar("viridis", "0", "1") + "</div>",
        "<div><b>SQUIRREL error map vs ground truth</b> (|blurred, scaled image − ground truth|, "
        "ground-truth units)</div>",
        '<div class="row">'
        + "".join(_tile(t) for t in p["errors"])
        + _bar("inferno", "0", f"{p['error_vmax']:.3g}")
        + "</div>",
    ]
    if p.get("lr_errors"):
        parts += [
            "<div><b>SQUIRREL error map vs LR input</b> (the prediction blurred and scaled to the LR image, "
            "Fourier-interpolated; bright = not supported by what the microscope recorded)</div>",
            '<div class="row">'
            + "".join(_tile(t) for t in p["lr_errors"])
            + _bar("inferno", "0", f"{p['lr_error_vmax']:.3g}")
            + "</div>",
        ]
    if p.get("profile"):
        parts.append(
            f'<div><b>Intensity profiles along the magenta line</b></div><img src="{p["profile"]}" '
            'style="max-width:900px;width:100%">'
        )
    parts.append("</div>")
    return "".join(parts)


def render(
    *,
    summaries: Mapping[str, Mapping[str, Any]],
    rows: Sequence[Mapping[str, Any]],
    tests: Sequence[Mapping[str, Any]],
    resolution_rows: Sequence[Mapping[str, Any]],
    panels: Sequence[Mapping[str, Any]],
    pixel_size: float | None,
    run_dirs: Sequence[Path],
    n_images: int,
) -> str:
    """The report as one HTML string (see the module docstring for the sections)."""
    first = next(iter(summaries.values()))
    dr = first["data_range"]
    meta = (
        f"ground truth <code>{escape(first['gt_dir'])}</code>; LR <code>{escape(str(first['lr_dir']))}</code>; "
        f"{n_images} images; fit <b>{escape(first['fit'])}</b> ({escape(first.get('conventions', {}).get('fit', ''))}); data range "
        f"<b>{escape(dr if isinstance(dr, str) else format(dr, 'g'))}</b>; crop border {first['crop_border']}; "
        f"pixel size {f'{pixel_size * 1000:.1f} nm' if pixel_size else 'unknown (resolution in pixels)'}"
    )
    models = "".join(
        f"<li><b>{escape(n)}</b>: <code>{escape(s['pred_dir'])}</code></li>" for n, s in summaries.items()
    )
    fig = compare.box_plots(rows, pixel_size=pixel_size)
    options = "".join(f'<option value="{i}">{escape(p["image"])}</option>' for i, p in enumerate(panels))
    shown = (
        f"first {len(panels)} of {n_images} images" if len(panels) < n_images else f"all {n_images} images"
    )
    conv = first.get("conventions", {})
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>microsr QC report</title>
<style>{_CSS}</style><script>{_JS}</script></head><body>
<h1>Super-resolution quality control</h1>
<div class="meta">microsr {escape(__version__)} · {_dt.datetime.now().strftime("%Y-%m-%d %H:%M")} · {meta}</div>
<ul class="meta">{models}</ul>
<section id="summary"><h2>Summary (mean ± SD over images)</h2>{_summary_table(rows, pixel_size)}
<p class="note">PSNR: {escape(conv.get("psnr", ""))}. SSIM: {escape(conv.get("ssim", ""))}. NRMSE: {escape(conv.get("nrmse", ""))}.
Resolution: decorrelation analysis (Descloux 2019, Nr 50, Ng 10), 2 × pixel size / kc, shown for reference and not ranked.
High PSNR with poor SSIM maps can mean invented detail.</p>
<p class="note">{RESOLUTION_CAVEAT}</p>
{_per_image_table(rows, pixel_size)}</section>
<section id="boxplots"><h2>Distribution over images (Tukey box plots)</h2>
<img src="{figures.figure_uri(fig)}" style="max-width:100%">
<p class="note">Box: quartiles; line: median; whiskers: last image within 1.5 × IQR; ×: outliers; dots: images.</p></section>
<section id="tests"><h2>Paired tests (same images, two-sided)</h2>{_tests_table(tests)}
<p class="note">Each cell: the model with the better mean (for resolution: the lower estimate, not ranked) and the two-sided
p-values of the Wilcoxon signed-rank (W) and paired t-test (t); green: p &lt; 0.05 (never for the
resolution estimate, which is not a ranking, see *). Wilcoxon needs at least 6
images to reach p &lt; 0.05; neither test corrects for the number of comparisons. Full table: comparison.csv.</p></section>
<section id="resolution"><h2>Resolution per image (decorrelation analysis)</h2>{_resolution_table(resolution_rows, pixel_size)}
<p class="note">{RESOLUTION_CAVEAT}</p></section>
<section id="training"><h2>Training curves</h2>{_training(run_dirs)}</section>
<section id="images"><h2>Images and maps</h2>
<label>Image ({shown}): <select id="image-select" onchange="showPanel(this.value)">{options}</select></label>
{"".join(_panel_html(i, p) for i, p in enumerate(panels))}
</section>
</body></html>
"""
