"""Building blocks of the structure renderer that work on the whole fine grid or on any region of it.

A region is ``(y0, y1, x0, x1)`` in fine-grid pixels. Rendering a region with a halo as wide as
a filter's reach, then cropping, gives the values the whole-grid computation gives there (the same
points in the same order, the same filter taps; filters reflect only at the grid's own border,
which a region touching it shares). That is how large simulations are made block by block
(:mod:`microsr.data.simulate_blocks`) in bounded memory.

* :func:`splat` / :func:`splat_region`: bilinear point splatting with ``np.bincount``;
* :class:`HazeField`: a smooth random field in [0, 1] (the cytosolic haze, CCP footprints, ER
  density), drawn on a coarse grid and linearly interpolated to the fine one;
* :func:`filtered_region`: a region of ``gaussian_filter(whole)`` computed from a haloed region;
* :class:`Walks` / :func:`random_walks`: smooth random curves (microtubules, actin filaments),
  computed a few curves at a time when there are many;
* :class:`TopValues`: the exact ``np.percentile`` of a large array seen block by block, from the
  few largest values of every block.

Why hand-written: no library splats many anti-aliased points in one vectorised call
(``skimage.draw`` draws one shape at a time), and ``scipy.ndimage.zoom`` has no way to evaluate one
region of its output.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
from scipy import ndimage

Region = tuple[int, int, int, int]
BAND = 512  # rows of the fine grid per band when a field is scanned whole (bounded memory)
STEP = 0.5  # fine px between splatted points
WALK_CHUNK = 4_000_000  # curve points per chunk when random walks are made in pieces (bounded memory)


def splat(points: np.ndarray, weights: np.ndarray | float, shape: tuple[int, int]) -> np.ndarray:
    """Add point masses to an image with bilinear weights.

    Parameters
    ----------
    points : np.ndarray
        (N, 2) float (y, x) positions in px; points outside are dropped.
    weights : np.ndarray or float
        (N,) or scalar mass of each point.
    shape : (H, W)

    Returns
    -------
    np.ndarray
        (H, W) float64 accumulated image.
    """
    return splat_region(points, weights, (0, shape[0], 0, shape[1]), shape)


def splat_region(
    points: np.ndarray, weights: np.ndarray | float, region: Region, shape: tuple[int, int]
) -> np.ndarray:
    """:func:`splat` onto the whole grid ``shape``, returned only on ``region``.

    Pixels within one px of the region's edge miss the mass of points just outside it; give the
    region a halo of at least one px (more for a filter that follows).
    """
    y0, y1, x0, x1 = region
    h, w = y1 - y0, x1 - x0
    pts = np.asarray(points, np.float64).reshape(-1, 2)
    wts = np.broadcast_to(np.asarray(weights, np.float64), (len(pts),))
    keep = (wts != 0) & (pts[:, 0] >= 0) & (pts[:, 0] < shape[0] - 1)
    keep &= (pts[:, 1] >= 0) & (pts[:, 1] < shape[1] - 1)
    if region != (0, shape[0], 0, shape[1]):
        keep &= (pts[:, 0] >= y0) & (pts[:, 0] < y1 - 1) & (pts[:, 1] >= x0) & (pts[:, 1] < x1 - 1)
    pts, wts = pts[keep], wts[keep]
    y = np.floor(pts[:, 0]).astype(np.int64)
    x = np.floor(pts[:, 1]).astype(np.int64)
    fy, fx = pts[:, 0] - y, pts[:, 1] - x
    base = (y - y0) * w + (x - x0)
    idx = np.concatenate([base, base + 1, base + w, base + w + 1])
    val = np.concatenate([wts * (1 - fy) * (1 - fx), wts * (1 - fy) * fx, wts * fy * (1 - fx), wts * fy * fx])
    return np.bincount(idx, val, minlength=h * w).reshape(h, w)


def grow(region: Region, halo: int, shape: tuple[int, int]) -> Region:
    """``region`` widened by ``halo`` px on each side, clipped to the grid."""
    y0, y1, x0, x1 = region
    return max(0, y0 - halo), min(shape[0], y1 + halo), max(0, x0 - halo), min(shape[1], x1 + halo)


def crop(image: np.ndarray, outer: Region, inner: Region) -> np.ndarray:
    """The part of ``image`` (covering ``outer``) that covers ``inner``."""
    return image[inner[0] - outer[0] : inner[1] - outer[0], inner[2] - outer[2] : inner[3] - outer[2]]


def filtered_region(
    render: Callable[[Region], np.ndarray], sigma: float, region: Region, shape: tuple[int, int]
) -> np.ndarray:
    """``gaussian_filter(render(whole), sigma)`` on ``region``, from a region widened by its reach."""
    outer = grow(region, int(4.0 * sigma + 0.5) + 1, shape)
    return crop(ndimage.gaussian_filter(render(outer), sigma), outer, region)


def bands(shape: tuple[int, int], rows: int = BAND) -> Iterator[Region]:
    """The grid as full-width bands of ``rows`` rows."""
    for y in range(0, shape[0], rows):
        yield y, min(shape[0], y + rows), 0, shape[1]


class HazeField:
    """Smooth random field in [0, 1] with correlation length ``corr`` px (made on a coarse grid).

    The whole field (:meth:`whole`) is ``scipy.ndimage.zoom(coarse, f, order=1)`` cropped and
    rescaled to [0, 1]; :meth:`region` and :meth:`at` evaluate the same linear interpolation on a
    region or at pixels (equal to it up to float rounding) without making the whole field.
    """

    def __init__(self, rng: np.random.Generator, shape: tuple[int, int], corr: float):
        self.shape, self.f = shape, max(1, int(corr // 4))
        n = (shape[0] // self.f + 3, shape[1] // self.f + 3)
        self.coarse = ndimage.gaussian_filter(rng.normal(size=n), corr / self.f, mode="wrap")
        self._range: tuple[float, float] | None = None

    def whole(self) -> np.ndarray:
        """The field on the whole grid (as the simulator has always drawn it)."""
        field = ndimage.zoom(self.coarse, self.f, order=1)[: self.shape[0], : self.shape[1]]
        return (field - field.min()) / max(np.ptp(field), 1e-12)

    def _axis(self, axis: int, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n_in = self.coarse.shape[axis]
        n_out = n_in * self.f  # zoom's output length; its coordinate map is out * (n_in - 1) / (n_out - 1)
        pos = idx * ((n_in - 1) / (n_out - 1))
        i0 = np.minimum(np.floor(pos).astype(np.int64), n_in - 2)
        return i0, pos - i0

    def _raw(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        (r0, fr), (c0, fc) = self._axis(0, rows), self._axis(1, cols)
        part = self.coarse[r0] * (1 - fr)[:, None] + self.coarse[r0 + 1] * fr[:, None]
        return part[:, c0] * (1 - fc) + part[:, c0 + 1] * fc

    def _min_ptp(self) -> tuple[float, float]:
        if self._range is None:
            lo, hi = np.inf, -np.inf
            for y0, y1, x0, x1 in bands(self.shape):
                raw = self._raw(np.arange(y0, y1), np.arange(x0, x1))
                lo, hi = min(lo, float(raw.min())), max(hi, float(raw.max()))
            self._range = lo, max(hi - lo, 1e-12)
        return self._range

    def region(self, region: Region) -> np.ndarray:
        """The field on ``region``."""
        y0, y1, x0, x1 = region
        lo, ptp = self._min_ptp()
        return (self._raw(np.arange(y0, y1), np.arange(x0, x1)) - lo) / ptp

    def at(self, iy: np.ndarray, ix: np.ndarray) -> np.ndarray:
        """The field at integer pixels ``(iy[k], ix[k])``."""
        lo, ptp = self._min_ptp()
        (r0, fr), (c0, fc) = self._axis(0, np.asarray(iy)), self._axis(1, np.asarray(ix))
        top = self.coarse[r0, c0] * (1 - fc) + self.coarse[r0, c0 + 1] * fc
        bottom = self.coarse[r0 + 1, c0] * (1 - fc) + self.coarse[r0 + 1, c0 + 1] * fc
        return (top * (1 - fr) + bottom * fr - lo) / ptp


class TopValues:
    """The exact ``np.percentile(a, q)`` (linear method) of an array of ``n`` values seen in blocks.

    Only the values that can be the percentile's neighbours are kept: the largest
    ``n - floor(q / 100 * (n - 1))`` of each block, and of all blocks so far.
    """

    def __init__(self, n: int, q: float):
        self.n, self.q = n, q
        self.keep = n - int(np.floor(q / 100 * (n - 1)))
        self.top = np.empty(0)
        self.max = -np.inf

    def add(self, block: np.ndarray) -> None:
        flat = np.asarray(block, np.float64).ravel()
        if flat.size:
            self.max = max(self.max, float(flat.max()))
        if flat.size > self.keep:
            flat = np.partition(flat, flat.size - self.keep)[flat.size - self.keep :]
        both = np.concatenate([self.top, flat])
        self.top = (
            np.partition(both, both.size - self.keep)[both.size - self.keep :]
            if both.size > self.keep
            else both
        )

    def percentile(self) -> float:
        """The percentile of everything added (the ``n`` values must all have been added)."""
        ordered, offset = np.sort(self.top), self.n - self.top.size  # ordered[i] is rank offset + i
        pos = self.q / 100 * (self.n - 1)
        lo = int(np.floor(pos))
        a, b, t = ordered[lo - offset], ordered[min(lo + 1, self.n - 1) - offset], pos - lo
        return float(b - (b - a) * (1 - t) if t >= 0.5 else a + (b - a) * t)  # numpy's interpolation


class Walks:
    """Smooth curves with a slowly varying curvature (one per start point), made in pieces.

    Parameters
    ----------
    starts : (C, 2) start positions (y, x) in px; angles : (C,) initial headings (rad).
    n_steps : points per curve, spaced ``STEP`` px.
    curvature_std : std of the curvature (rad per px); curvature_corr : its correlation length (px).

    The random draws happen here; :meth:`chunks` computes the positions of a few curves at a time.
    """

    def __init__(self, rng, starts, angles, n_steps: int, curvature_std: float, curvature_corr: float):
        c = len(starts)
        # curvature: smoothed noise on knots every corr/4 px, linearly interpolated to every step
        knot_px = max(curvature_corr / 4.0, STEP)
        n_knots = int(np.ceil(n_steps * STEP / knot_px)) + 2
        self.knots = ndimage.gaussian_filter1d(rng.normal(size=(c, n_knots)), 4.0, axis=1, mode="wrap")
        pos = np.arange(n_steps) * STEP / knot_px
        self.i0 = pos.astype(np.int64)
        self.frac = pos - self.i0
        self.starts, self.angles, self.std = starts, angles, curvature_std

    def _kappa(self, rows: slice) -> np.ndarray:
        k = self.knots[rows]
        return k[:, self.i0] * (1 - self.frac) + k[:, self.i0 + 1] * self.frac

    def _scale(self, rows: int) -> float:
        c = len(self.starts)
        if c * len(self.i0) <= WALK_CHUNK:
            return self.std / max(self._kappa(slice(None)).std(), 1e-12)
        parts = [slice(i, i + rows) for i in range(0, c, rows)]  # two passes: mean, then variance
        mean = sum(float(self._kappa(p).sum()) for p in parts) / (c * len(self.i0))
        var = sum(float(((self._kappa(p) - mean) ** 2).sum()) for p in parts) / (c * len(self.i0))
        return self.std / max(float(np.sqrt(var)), 1e-12)

    def chunks(self) -> Iterator[tuple[slice, np.ndarray]]:
        """``(rows, positions)`` pieces covering every curve; positions are (rows, n_steps, 2)."""
        c = len(self.starts)
        rows = c if c * len(self.i0) <= WALK_CHUNK else max(1, WALK_CHUNK // len(self.i0))
        factor = self._scale(rows)
        for i in range(0, c, rows):
            part = slice(i, i + rows)
            kappa = self._kappa(part)
            kappa *= factor
            theta = self.angles[part, None] + np.cumsum(kappa * STEP, axis=1)
            steps = STEP * np.stack([np.sin(theta), np.cos(theta)], axis=-1)
            yield part, self.starts[part, None, :] + np.cumsum(steps, axis=1)


def random_walks(
    rng: np.random.Generator,
    starts: np.ndarray,
    angles: np.ndarray,
    n_steps: int,
    curvature_std: float,
    curvature_corr: float,
) -> np.ndarray:
    """Smooth curves with a slowly varying curvature (see :class:`Walks`); (C, n_steps, 2) positions."""
    walks = Walks(rng, starts, angles, n_steps, curvature_std, curvature_corr)
    return np.concatenate([p for _, p in walks.chunks()]) if len(starts) else np.zeros((0, n_steps, 2))
