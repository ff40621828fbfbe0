"""Small rendering helpers for the QC report: arrays and figures to embedded PNG.

Everything returns ``data:image/png;base64,...`` URIs so that ``report.html`` is one file.
Image thumbnails are at most 512 px on a side, maps at most 256 px (Lanczos down-sampling, never
up-sampling; the browser enlarges small ones with ``image-rendering: pixelated``).
"""

from __future__ import annotations

import base64
import io
import sys
from pathlib import Path

import numpy as np

MAX_SIDE = 512


def new_figure(figsize: tuple[float, float], nrows: int = 1, ncols: int = 1):
    """A matplotlib ``(Figure, axes)`` with its own Agg canvas (``axes`` 2-D, ``squeeze=False``).

    The object-oriented API never touches pyplot's global state, so importing or calling microsr
    does not switch the backend of a notebook or a napari session.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    return fig, fig.subplots(nrows, ncols, squeeze=False)


def png_uri(rgb: np.ndarray) -> str:
    """PNG data URI of an 8-bit image (zlib level 6: ``optimize`` costs 10x the time for ~5 %).

    Parameters
    ----------
    rgb : np.ndarray, shape (H, W) or (H, W, 3|4), uint8
    """
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb)).save(buf, format="PNG", compress_level=6)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def display_range(image: np.ndarray, low: float = 0.1, high: float = 99.9) -> tuple[float, float]:
    """Percentile display range (as Fiji's auto-contrast); ``(v, v + 1)`` for a constant image."""
    finite = np.asarray(image, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    if finite.size == 0:
        return 0.0, 1.0
    lo, hi = np.percentile(finite, [low, high])
    return (float(lo), float(hi)) if hi > lo else (float(lo), float(lo) + 1.0)


def to_uint8(image: np.ndarray, vmin: float, vmax: float) -> np.ndarray:
    """Linear map of ``[vmin, vmax]`` to 0..255 (clipped; NaN -> 0)."""
    a = (np.asarray(image, dtype=np.float64) - vmin) / (vmax - vmin if vmax > vmin else 1.0)
    return (np.clip(np.nan_to_num(a, nan=0.0), 0, 1) * 255 + 0.5).astype(np.uint8)


def shrink(u8: np.ndarray, max_side: int = MAX_SIDE) -> np.ndarray:
    """Down-sample an 8-bit image so that its longer side is <= ``max_side`` (Lanczos)."""
    from PIL import Image

    h, w = u8.shape[:2]
    f = max(h, w) / max_side
    if f <= 1:
        return u8
    im = Image.fromarray(np.ascontiguousarray(u8)).resize(
        (max(1, round(w / f)), max(1, round(h / f))), Image.Resampling.LANCZOS
    )
    return np.asarray(im)


def gray_thumbnail(image: np.ndarray, vrange: tuple[float, float] | None = None) -> str:
    """Grey-scale thumbnail URI of a 2-D image (display range: 0.1-99.9 percentiles by default)."""
    lo, hi = vrange or display_range(image)
    return png_uri(shrink(to_uint8(image, lo, hi)))


def colormap_thumbnail(image: np.ndarray, vmin: float, vmax: float, cmap: str, max_side: int = 256) -> str:
    """Colour-mapped thumbnail URI of a 2-D map (``cmap`` a matplotlib colormap name).

    Maps are shown at most ``max_side`` (default 256) px with 32 colour levels: they are read for
    where errors are, not for fine detail, and this keeps ``report.html`` near 1 MB per image panel.
    """
    from matplotlib import colormaps
    from PIL import Image

    lut = (colormaps[cmap](np.arange(256) / 255.0)[:, :3] * 255 + 0.5).astype(np.uint8)
    u8 = shrink(to_uint8(image, vmin, vmax), max_side)
    u8 = (u8 // 8) * 8 + 4  # 32 colour levels: noisy maps compress ~2x better, look the same
    im = Image.fromarray(u8, mode="L").convert("P")
    im.putpalette(lut.ravel().tolist())  # 8-bit palette PNG: a third of the size of RGB
    buf = io.BytesIO()
    im.save(buf, format="PNG", compress_level=6)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def css_gradient(cmap: str, steps: int = 9) -> str:
    """CSS ``linear-gradient`` showing a matplotlib colormap left (low) to right (high)."""
    from matplotlib import colormaps

    cm = colormaps[cmap]
    stops = []
    for i in range(steps):
        r, g, b, _ = cm(i / (steps - 1))
        stops.append(f"rgb({round(r * 255)},{round(g * 255)},{round(b * 255)}) {100 * i / (steps - 1):.0f}%")
    return "linear-gradient(to right, " + ", ".join(stops) + ")"


def figure_uri(fig, dpi: int = 110) -> str:
    """PNG data URI of a matplotlib figure."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def file_uri(path: Path) -> str:
    """Data URI of an existing PNG file (e.g. a run's ``loss_curves.png``)."""
    return "data:image/png;base64," + base64.b64encode(Path(path).read_bytes()).decode("ascii")


def loss_curves_from_log(log_csv: Path):
    """The loss curves of a run's ``log.csv`` (:func:`microsr.engine.records.loss_figure`).

    Returns
    -------
    matplotlib.figure.Figure or None
        ``None`` when the file holds no training or validation loss.
    """
    from microsr.engine.records import RunLog, loss_figure

    try:
        log = RunLog(Path(log_csv), keep_before=sys.maxsize)
    except (KeyError, ValueError):  # not a microsr log (no or non-numeric step column)
        return None
    if not (log.series("train", "loss")[0] or log.series("val", "val_loss")[0]):
        return None
    return loss_figure(log)
