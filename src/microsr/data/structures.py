"""Ground-truth fluorophore maps of the four BioSR structure classes, rendered fast.

All geometry is built in continuous coordinates on a *fine* grid and rasterised by bilinear
splatting of densely sampled points (spacing 0.5 fine px) with ``np.bincount``; a thin Gaussian
then gives each structure its physical width. Splatting is written here because no library draws
thousands of anti-aliased curves into one array in a single vectorised call (``skimage.draw``
draws one line at a time). Intensities are relative (a single filament is ~1 before blurs).

Sizes below are in nanometres and converted with ``fine_nm`` (the fine grid's pixel size):

``ccps``          clathrin-coated pits: rings (diameter 100-150 nm) and filled puncta inside a
                  smooth cell footprint, 1-3 per um^2, log-normal brightness.
``microtubules``  long smooth curves (curvature a smoothed random process, radius of curvature a
                  few um), 25 nm wide, 15-35 per field.
``er``            tubular network: edges of a Voronoi tessellation (three-way junctions) drawn as
                  slightly bent 70 nm tubules with a few gaps, plus a few filled sheets.
``f-actin``       dense, crossing, nearly straight filaments (two dominant stress-fibre
                  orientations plus random ones), 10 nm wide, strongly varying brightness.
Every class gets a faint smooth cytosolic haze (~3 % of a filament).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage, spatial
from skimage import draw

STRUCTURES = ("ccps", "microtubules", "er", "f-actin")
STEP = 0.5  # fine px between splatted points


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
    h, w = shape
    pts = np.asarray(points, np.float64).reshape(-1, 2)
    wts = np.broadcast_to(np.asarray(weights, np.float64), (len(pts),))
    keep = (wts != 0) & (pts[:, 0] >= 0) & (pts[:, 0] < h - 1) & (pts[:, 1] >= 0) & (pts[:, 1] < w - 1)
    pts, wts = pts[keep], wts[keep]
    y0 = np.floor(pts[:, 0]).astype(np.int64)
    x0 = np.floor(pts[:, 1]).astype(np.int64)
    fy, fx = pts[:, 0] - y0, pts[:, 1] - x0
    base = y0 * w + x0
    idx = np.concatenate([base, base + 1, base + w, base + w + 1])
    val = np.concatenate([wts * (1 - fy) * (1 - fx), wts * (1 - fy) * fx, wts * fy * (1 - fx), wts * fy * fx])
    return np.bincount(idx, val, minlength=h * w).reshape(h, w)


def random_walks(
    rng: np.random.Generator,
    starts: np.ndarray,
    angles: np.ndarray,
    n_steps: int,
    curvature_std: float,
    curvature_corr: float,
) -> np.ndarray:
    """Smooth curves with a slowly varying curvature (one per start point).

    Parameters
    ----------
    starts : (C, 2) start positions (y, x) in px; angles : (C,) initial headings (rad).
    n_steps : points per curve, spaced ``STEP`` px.
    curvature_std : std of the curvature (rad per px); curvature_corr : its correlation length (px).

    Returns
    -------
    np.ndarray
        (C, n_steps, 2) positions.
    """
    c = len(starts)
    # curvature: smoothed noise on knots every corr/4 px, linearly interpolated to every step
    knot_px = max(curvature_corr / 4.0, STEP)
    n_knots = int(np.ceil(n_steps * STEP / knot_px)) + 2
    knots = ndimage.gaussian_filter1d(rng.normal(size=(c, n_knots)), 4.0, axis=1, mode="wrap")
    pos = np.arange(n_steps) * STEP / knot_px
    i0 = pos.astype(np.int64)
    frac = pos - i0
    kappa = knots[:, i0] * (1 - frac) + knots[:, i0 + 1] * frac
    kappa *= curvature_std / max(kappa.std(), 1e-12)
    theta = angles[:, None] + np.cumsum(kappa * STEP, axis=1)
    steps = STEP * np.stack([np.sin(theta), np.cos(theta)], axis=-1)
    return starts[:, None, :] + np.cumsum(steps, axis=1)


def _haze(rng: np.random.Generator, shape: tuple[int, int], corr: float) -> np.ndarray:
    """Smooth random field in [0, 1] with correlation length ``corr`` px (made on a coarse grid)."""
    f = max(1, int(corr // 4))
    coarse = (shape[0] // f + 3, shape[1] // f + 3)
    field = ndimage.gaussian_filter(rng.normal(size=coarse), corr / f, mode="wrap")
    field = ndimage.zoom(field, f, order=1)[: shape[0], : shape[1]]
    return (field - field.min()) / max(np.ptp(field), 1e-12)


def _ccps(rng, shape, fine_nm):
    h, w = shape
    area_um2 = h * w * (fine_nm / 1000) ** 2
    footprint = _haze(rng, shape, 400.0 / fine_nm * 4) > rng.uniform(0.25, 0.45)
    footprint = ndimage.gaussian_filter(footprint.astype(float), 150.0 / fine_nm)
    n = int(area_um2 * rng.uniform(1.5, 3.0))
    cand = rng.uniform([0, 0], [h, w], size=(n * 3, 2))
    inside = footprint[cand[:, 0].astype(int), cand[:, 1].astype(int)] > rng.random(len(cand))
    centres = cand[inside][:n]
    radius = rng.uniform(50, 75, size=len(centres)) / fine_nm
    bright = np.minimum(rng.lognormal(0.0, 0.5, size=len(centres)), 2.5)
    ring = rng.random(len(centres)) < 0.6
    phi = np.linspace(0, 2 * np.pi, 48, endpoint=False)
    img = np.zeros(shape)
    # rings: points on circles; puncta: points filling discs (uniform in area)
    rr = np.where(ring[:, None], radius[:, None], radius[:, None] * np.sqrt(rng.random((len(centres), 48))))
    pts = centres[:, None, :] + rr[..., None] * np.stack([np.sin(phi), np.cos(phi)], -1)[None]
    img += splat(pts.reshape(-1, 2), np.repeat(bright / 48 * 25, 48), shape)
    img = ndimage.gaussian_filter(img, 20.0 / fine_nm)
    return img, footprint


def _microtubules(rng, shape, fine_nm):
    h, w = shape
    n = int(rng.integers(20, 40))
    n_steps = int(0.9 * max(h, w) / STEP)
    through = rng.uniform([0.05 * h, 0.05 * w], [0.95 * h, 0.95 * w], size=(n, 2))
    centre = np.array([h, w]) * rng.uniform(0.2, 0.8, 2)
    # roughly radial from a centrosome-like point, as microtubules are; each curve is grown both
    # ways from a point inside the field so that it crosses the image
    radial = np.arctan2(through[:, 0] - centre[0], through[:, 1] - centre[1])
    angles = radial + rng.normal(0, 0.6, n)
    both = random_walks(
        rng,
        np.concatenate([through, through]),
        np.concatenate([angles, angles + np.pi]),
        n_steps,
        fine_nm / 6000.0,
        2500.0 / fine_nm,
    )
    bright = np.tile(rng.uniform(0.7, 1.3, n), 2)
    img = splat(both.reshape(-1, 2), np.repeat(bright * STEP, n_steps), shape)
    return ndimage.gaussian_filter(img, 12.0 / fine_nm), None


def _bent_segments(rng, a, b, bend):
    """Quadratic Bezier curves from a (E,2) to b (E,2) bent sideways by bend*length; list of points."""
    length = np.linalg.norm(b - a, axis=1)
    normal = np.stack([-(b - a)[:, 1], (b - a)[:, 0]], 1) / np.maximum(length, 1e-9)[:, None]
    ctrl = (a + b) / 2 + normal * (rng.normal(0, bend, len(a)) * length)[:, None]
    m = int(np.ceil(length.max() / STEP)) + 1
    t = np.linspace(0, 1, m)[None, :, None]
    pts = (1 - t) ** 2 * a[:, None] + 2 * (1 - t) * t * ctrl[:, None] + t**2 * b[:, None]
    wts = np.repeat((length / (m - 1))[:, None], m, 1)  # mass per point keeps density per length
    return pts.reshape(-1, 2), wts.reshape(-1)


def _er(rng, shape, fine_nm):
    h, w = shape
    spacing = rng.uniform(700, 1100) / fine_nm
    n = max(int(h * w / spacing**2 * 1.3), 16)  # Qhull needs a few points even for tiny images
    cand = rng.uniform([-spacing, -spacing], [h + spacing, w + spacing], size=(3 * n, 2))
    density = _haze(rng, (h, w), 3 * spacing)
    iy = np.clip(cand[:, 0], 0, h - 1).astype(int)
    ix = np.clip(cand[:, 1], 0, w - 1).astype(int)
    seeds = cand[rng.random(3 * n) < 0.15 + 0.85 * density[iy, ix]][:n]
    if len(seeds) < 16:
        seeds = cand[:n]
    vor = spatial.Voronoi(seeds)
    ridges = np.array([r for r in vor.ridge_vertices if -1 not in r])
    a, b = vor.vertices[ridges[:, 0]], vor.vertices[ridges[:, 1]]
    keep = (rng.random(len(a)) > 0.25) & (np.linalg.norm(b - a, axis=1) < 4 * spacing)
    img = np.zeros(shape)
    if keep.any():
        pts, wts = _bent_segments(rng, a[keep], b[keep], 0.12)
        edge_bright = np.repeat(rng.uniform(0.6, 1.2, keep.sum()), len(pts) // keep.sum())
        img = splat(pts, wts * edge_bright, shape)
    img = ndimage.gaussian_filter(img, 30.0 / fine_nm) * (30.0 / fine_nm) * 2.5
    sheets = np.zeros(shape)
    for region in rng.choice(len(vor.regions), size=max(1, n // 25), replace=False):
        verts = vor.regions[region]
        if len(verts) < 3 or -1 in verts:
            continue
        poly = vor.vertices[verts]
        rr, cc = draw.polygon(poly[:, 0], poly[:, 1], shape)
        sheets[rr, cc] = rng.uniform(0.25, 0.45)
    return img + ndimage.gaussian_filter(sheets, 40.0 / fine_nm), None


def _f_actin(rng, shape, fine_nm):
    h, w = shape
    n = int(rng.integers(350, 600))
    dominant = rng.uniform(0, np.pi, 2)
    which = rng.integers(0, 2, n)
    stress = rng.random(n) < 0.6
    angles = np.where(stress, dominant[which] + rng.normal(0, 0.12, n), rng.uniform(0, np.pi, n))
    n_steps = int(1.3 * max(h, w) / STEP)
    starts = rng.uniform([-0.1 * h, -0.1 * w], [1.1 * h, 1.1 * w], size=(n, 2))
    curves = random_walks(rng, starts, angles, n_steps, fine_nm / 20000.0, 2000.0 / fine_nm)
    # each filament visible over a random sub-length (1-8 um)
    lengths = (rng.uniform(1000, 8000, n) / fine_nm / STEP).astype(int)
    first = rng.integers(0, n_steps, n)
    k = np.arange(n_steps)[None, :]
    visible = (k >= first[:, None]) & (k < first[:, None] + lengths[:, None])
    bright = rng.lognormal(-0.3, 0.6, n)
    wts = (visible * bright[:, None] * STEP).reshape(-1)
    img = splat(curves.reshape(-1, 2), wts, shape)
    return ndimage.gaussian_filter(img, 8.0 / fine_nm), None


_RENDER = {"ccps": _ccps, "microtubules": _microtubules, "er": _er, "f-actin": _f_actin}


def render_ground_truth(
    structure: str, shape: tuple[int, int], fine_nm: float, rng: np.random.Generator
) -> np.ndarray:
    """Render one ground-truth fluorophore density on the fine grid.

    Parameters
    ----------
    structure : {"ccps", "microtubules", "er", "f-actin"}
    shape : (H, W) fine-grid shape in px.
    fine_nm : float
        Fine-grid pixel size in nm (e.g. 15.65 for half of BioSR's 31.3 nm SIM pixel).
    rng : np.random.Generator

    Returns
    -------
    np.ndarray
        (H, W) float64, >= 0, relative intensity (peak of a single structure ~ 0.3-3).
    """
    if structure not in _RENDER:
        raise ValueError(f"unknown structure {structure!r}; choose from {', '.join(STRUCTURES)}")
    img, footprint = _RENDER[structure](rng, shape, fine_nm)
    haze = _haze(rng, shape, 600.0 / fine_nm)
    if footprint is not None:
        haze = haze * footprint
    ref = np.percentile(img, 99.9) if img.max() > 0 else 1.0
    return img + 0.03 * ref * (0.5 + haze)
