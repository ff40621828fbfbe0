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

from microsr import __version__
from microsr.evaluation import compare, figures
from microsr.evaluation.report_tables import (
    RESOLUTION_CAVEAT,
    per_image_table,
    resolution_table,
    summary_table,
    tests_table,
)

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


def _error_row(tiles: Sequence[Mapping[str, Any]], vmax: float) -> str:
    return (
        '<div class="row">'
        + "".join(_tile(t) for t in tiles)
        + _bar("inferno", "0", f"{vmax:.3g}")
        + "</div>"
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
        _error_row(p["errors"], p["error_vmax"]),
    ]
    if p.get("lr_errors"):
        parts += [
            "<div><b>SQUIRREL error map vs LR input</b> (the prediction blurred and scaled to the LR image, "
            "Fourier-interpolated; bright = not supported by what the microscope recorded)</div>",
            _error_row(p["lr_errors"], p["lr_error_vmax"]),
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
<section id="summary"><h2>Summary (mean ± SD over images)</h2>{summary_table(rows, pixel_size)}
<p class="note">PSNR: {escape(conv.get("psnr", ""))}. SSIM: {escape(conv.get("ssim", ""))}. NRMSE: {escape(conv.get("nrmse", ""))}.
Resolution: decorrelation analysis (Descloux 2019, Nr 50, Ng 10), 2 × pixel size / kc, shown for reference and not ranked.
High PSNR with poor SSIM maps can mean invented detail.</p>
<p class="note">{RESOLUTION_CAVEAT}</p>
{per_image_table(rows, pixel_size)}</section>
<section id="boxplots"><h2>Distribution over images (Tukey box plots)</h2>
<img src="{figures.figure_uri(fig)}" style="max-width:100%">
<p class="note">Box: quartiles; line: median; whiskers: last image within 1.5 × IQR; ×: outliers; dots: images.</p></section>
<section id="tests"><h2>Paired tests (same images, two-sided)</h2>{tests_table(tests)}
<p class="note">Each cell: the model with the better mean (for resolution: the lower estimate, not ranked) and the two-sided
p-values of the Wilcoxon signed-rank (W) and paired t-test (t); green: p &lt; 0.05 (never for the
resolution estimate, which is not a ranking, see *). Wilcoxon needs at least 6
images to reach p &lt; 0.05; neither test corrects for the number of comparisons. Full table: comparison.csv.</p></section>
<section id="resolution"><h2>Resolution per image (decorrelation analysis)</h2>{resolution_table(resolution_rows, pixel_size)}
<p class="note">{RESOLUTION_CAVEAT}</p></section>
<section id="training"><h2>Training curves</h2>{_training(run_dirs)}</section>
<section id="images"><h2>Images and maps</h2>
<label>Image ({shown}): <select id="image-select" onchange="showPanel(this.value)">{options}</select></label>
{"".join(_panel_html(i, p) for i, p in enumerate(panels))}
</section>
</body></html>
"""
