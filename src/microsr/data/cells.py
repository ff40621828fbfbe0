"""Simulated leukocyte-like images with parsing maps (background / cytoplasm / nucleus).

The geometry-prior seed (Hua et al. 2020) trains on leukocyte images with hand-drawn parsing maps;
this module makes data of that kind so the ``geometry-prior*`` models can be trained and ablated
without inventing masks for real data. It is a fluorescence-like rendering (nucleus brightest), not
a bright-field stain model.

One image (``size`` HR px square, HR pixel ``HR_PIXEL_UM``) holds a few cells placed without
overlap (cells may be cut by the border). Each cell has

* a roundish **cytoplasm**: radius ``R(theta) = R0 (1 + sum_k a_k cos(k theta + phi_k))``, k = 2..4,
  R0 drawn in ``RADIUS_PX``, smooth texture (Gaussian random field, correlation ~3 HR px);
* a **nucleus** of one of four kinds -- round (lymphocyte-like), kidney-shaped (monocyte-like:
  ellipse minus an off-centre disc), bilobed (eosinophil-like) or segmented with 3-5 lobes joined by
  thin chromatin bridges (neutrophil-like) -- kept inside ``0.85 R(theta)``; brighter than the
  cytoplasm and textured with fine chromatin clumps (correlation ~1 HR px, visible in the HR only).

Pipeline: labels and intensities on a fine grid (``FINE`` x HR, with a ``MARGIN`` so blurs see
real structure at the border) -> area average to the HR grid = ground truth; HR = GT through a
Gaussian of ``HR_SIGMA_PX`` HR px; LR = GT through a wider Gaussian (``LR_SIGMA_PER_SCALE * scale``
HR px), area-downsampled by ``scale``, Poisson noise at ``photons`` expected photo-electrons at the
brightest LR pixel plus Gaussian read noise (``READ_NOISE`` e-) and an offset ``BASELINE``.
Mask = per HR pixel the class covering most of its fine sub-pixels (uint8: 0 background,
1 cytoplasm, 2 nucleus; readable by :func:`microsr.data.masks.read_mask`). HR units as in
:mod:`microsr.data.simulate`: the brightest HR pixel is ``HR_PEAK`` (20000). Everything random comes
from ``np.random.default_rng([seed, CELLS_ID])`` (noise: ``[seed, CELLS_ID, 1]``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import ndimage

from microsr.data.degrade import add_poisson_gaussian, area_downsample
from microsr.data.simulate import record_header

CELLS_ID = 17  # rng stream id (the four structure classes of simulate.py use 0..3)
HR_PIXEL_UM = 0.25  # leukocytes of 8-13 um diameter are 32-52 HR px across
FINE = 2
MARGIN = 8  # HR px rendered beyond each border
RADIUS_PX = (16.0, 26.0)  # cytoplasm mean radius, HR px
HR_SIGMA_PX = 0.6
LR_SIGMA_PER_SCALE = 0.85  # FWHM of 2 LR px, as `microsr degrade`
HR_PEAK = 20000.0
READ_NOISE = 2.0
BASELINE = 100.0
NUCLEUS_KINDS = ("round", "kidney", "bilobed", "segmented")
LEVELS: dict[str, Any] = {
    "background": 0.04,
    "cytoplasm": (0.25, 0.40),
    "nucleus": (0.75, 1.0),
}  # level or range


def _field(rng: np.random.Generator, shape: tuple[int, int], corr: float) -> np.ndarray:
    """Gaussian random field with unit std and correlation length ``corr`` px."""
    f = ndimage.gaussian_filter(rng.normal(size=shape), corr, mode="wrap")
    return (f - f.mean()) / max(float(f.std()), 1e-12)


def _polar(yy: np.ndarray, xx: np.ndarray, cy: float, cx: float, angle: float):
    """Distance and angle of every grid point from (cy, cx), the angle relative to ``angle``."""
    dy, dx = yy - cy, xx - cx
    return np.hypot(dy, dx), np.arctan2(dy, dx) - angle


def _cell_radius(rng: np.random.Generator, r0: float):
    """Random smooth radius function R(theta) of a roundish cell."""
    amps = rng.uniform(0.0, [0.08, 0.05, 0.03])
    phases = rng.uniform(0, 2 * np.pi, 3)
    return lambda t: r0 * (1 + sum(a * np.cos(k * t + p) for k, a, p in zip((2, 3, 4), amps, phases)))


def _nucleus(rng: np.random.Generator, kind: str, yy, xx, cy, cx, r0, angle) -> np.ndarray:
    """Boolean nucleus region (before clipping to the cell) of the given kind, radius scale ``r0``."""

    def disc(y, x, r):
        return (yy - y) ** 2 + (xx - x) ** 2 <= r * r

    ca, sa = np.cos(angle), np.sin(angle)
    u = (xx - cx) * ca + (yy - cy) * sa  # cell-aligned coordinates
    v = -(xx - cx) * sa + (yy - cy) * ca

    def at(pu, pv):
        return cy + pu * sa + pv * ca, cx + pu * ca - pv * sa

    if kind == "round":
        ecc = rng.uniform(0.85, 1.0)
        r = rng.uniform(0.6, 0.75) * r0
        off = rng.uniform(0, 0.1) * r0
        return (u - off) ** 2 / r**2 + v**2 / (ecc * r) ** 2 <= 1
    if kind == "kidney":
        a, b = rng.uniform(0.62, 0.75) * r0, rng.uniform(0.42, 0.52) * r0
        body = u**2 / a**2 + v**2 / b**2 <= 1
        bite = (u**2 + (v - 1.1 * b) ** 2) <= (rng.uniform(0.4, 0.55) * a) ** 2
        return body & ~bite
    n = 2 if kind == "bilobed" else int(rng.integers(3, 6))
    arc_r = rng.uniform(0.4, 0.5) * r0
    span = rng.uniform(0.6, 1.0) * np.pi * (n - 1) / n
    thetas = np.linspace(-span / 2, span / 2, n) + rng.normal(0, 0.08, n)
    lobe_r = rng.uniform(0.26, 0.33, n) * r0 * (1.25 if n == 2 else 1.0)
    centres = [at(arc_r * np.cos(t) - 0.3 * arc_r, arc_r * np.sin(t)) for t in thetas]
    region = np.zeros(yy.shape, bool)
    for (y, x), r in zip(centres, lobe_r):
        region |= disc(y, x, r)
    width = rng.uniform(0.06, 0.1) * r0  # thin chromatin bridges between neighbouring lobes
    for (y0, x0), (y1, x1) in zip(centres[:-1], centres[1:]):
        d = np.array([y1 - y0, x1 - x0])
        t = np.clip(((yy - y0) * d[0] + (xx - x0) * d[1]) / max(d @ d, 1e-12), 0, 1)
        region |= (yy - y0 - t * d[0]) ** 2 + (xx - x0 - t * d[1]) ** 2 <= width**2
    return region


def _place(rng: np.random.Generator, n_max: int, extent: float, lo: float) -> list[tuple]:
    """Up to ``n_max`` non-overlapping (cy, cx, r0) in fine px inside [lo, lo + extent)."""
    cells: list[tuple] = []
    for _ in range(40 * n_max):
        if len(cells) == n_max:
            break
        r0 = rng.uniform(*RADIUS_PX) * FINE
        cy, cx = rng.uniform(lo, lo + extent, 2)
        if all(np.hypot(cy - y, cx - x) > 1.25 * (r0 + r) + 2 * FINE for y, x, r in cells):
            cells.append((cy, cx, r0))
    return cells


def render_cells(rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Ground truth and labels on the fine grid including the margin.

    Returns
    -------
    gt : np.ndarray
        (n, n) float64 fluorophore density, n = FINE * (size + 2 MARGIN); background 0.04, cytoplasm
        ~0.25-0.4, nucleus ~0.75-1 (before texture).
    labels : np.ndarray
        (n, n) uint8 0 background, 1 cytoplasm, 2 nucleus.
    """
    n = FINE * (size + 2 * MARGIN)
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float64)
    labels = np.zeros((n, n), np.uint8)
    gt = LEVELS["background"] * (1 + 0.3 * _field(rng, (n, n), 8.0 * FINE))
    n_cells = max(1, int(round(size * size / 128**2 * rng.uniform(1.5, 3.0))))
    cyto_tex = _field(rng, (n, n), 3.0 * FINE)
    chromatin = _field(rng, (n, n), 1.0 * FINE)
    coarse = _field(rng, (n, n), 4.0 * FINE)
    for cy, cx, r0 in _place(rng, n_cells, FINE * size, FINE * MARGIN):
        box = tuple(slice(max(0, int(c - 1.3 * r0)), min(n, int(c + 1.3 * r0) + 1)) for c in (cy, cx))
        y, x = yy[box], xx[box]
        angle = rng.uniform(0, 2 * np.pi)
        radius = _cell_radius(rng, r0)
        dist, theta = _polar(y, x, cy, cx, angle)
        cell = dist <= radius(theta)
        kind = NUCLEUS_KINDS[int(rng.integers(len(NUCLEUS_KINDS)))]
        nucleus = _nucleus(rng, kind, y, x, cy, cx, r0, angle) & (dist <= 0.85 * radius(theta))
        cyto = cell & ~nucleus
        c_level = rng.uniform(*LEVELS["cytoplasm"])
        n_level = rng.uniform(*LEVELS["nucleus"])
        g, lab = gt[box], labels[box]  # views: writing them writes gt and labels
        g[cyto] = c_level * (1 + 0.12 * cyto_tex[box][cyto])
        clumps = np.clip(0.75 + 0.25 * chromatin[box][nucleus] + 0.1 * coarse[box][nucleus], 0.35, 1.3)
        g[nucleus] = n_level * clumps
        lab[cyto] = 1
        lab[nucleus] = 2
    return np.clip(gt, 0, None), labels


def _majority_labels(labels: np.ndarray, factor: int) -> np.ndarray:
    """Per ``factor`` x ``factor`` block, the class covering most sub-pixels (ties: higher class)."""
    cover = np.stack([area_downsample((labels == c).astype(np.float64), factor) for c in range(3)])
    return (2 - np.argmax(cover[::-1], axis=0)).astype(np.uint8)


def simulate_cell_pair(
    *, size: int = 128, scale: int = 4, photons: float = 200.0, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Simulate one leukocyte-like LR/HR pair with its parsing map.

    Parameters
    ----------
    size : int
        HR image size in px (square), divisible by ``scale`` and at least 16.
    scale : int
        LR pixel / HR pixel (the seed uses 4 and 8).
    photons : float
        Expected photo-electrons at the brightest LR pixel (lower = noisier).
    seed : int
        Same seed, same images (bit for bit).

    Returns
    -------
    lr : np.ndarray
        (size/scale, size/scale) float32 camera counts (photo-electrons + 100 offset, >= 0).
    hr : np.ndarray
        (size, size) float32, brightest pixel 20000.
    mask : np.ndarray
        (size, size) uint8 labels: 0 background, 1 cytoplasm, 2 nucleus.
    """
    if scale < 1 or size < 16 or size % scale:
        raise ValueError(f"HR size {size} must be >= 16 and divisible by the scale {scale}")
    if photons <= 0:
        raise ValueError(f"photons must be positive, got {photons}")
    rng = np.random.default_rng([seed, CELLS_ID])
    gt_fine, labels_fine = render_cells(rng, size)
    gt = area_downsample(gt_fine, FINE)
    crop = (slice(MARGIN, MARGIN + size),) * 2
    mask = _majority_labels(labels_fine, FINE)[crop]
    hr = ndimage.gaussian_filter(gt, HR_SIGMA_PX, mode="reflect")[crop]
    wide = ndimage.gaussian_filter(gt, LR_SIGMA_PER_SCALE * scale, mode="reflect")[crop]
    k = HR_PEAK / max(float(hr.max()), 1e-12)
    lr_clean = area_downsample(wide * k, scale)
    noise_rng = np.random.default_rng([seed, CELLS_ID, 1])
    gain = photons / float(lr_clean.max())
    lr = add_poisson_gaussian(lr_clean, photons=photons, read_noise=READ_NOISE, rng=noise_rng)
    lr = np.clip(lr * gain + BASELINE, 0, None).astype(np.float32)
    return lr, (hr * k).astype(np.float32), mask


def cells_record(*, size: int, scale: int, seed: int, count: int, photons: float) -> dict:
    """JSON-ready description of a leukocyte simulation run (written as simulation.json)."""
    return {
        **record_header(
            "leukocytes", size=size, scale=scale, seed=seed, count=count, hr_pixel_nm=HR_PIXEL_UM * 1000
        ),
        "optics": {
            "hr_gaussian_sigma_hr_px": HR_SIGMA_PX,
            "lr_gaussian_sigma_hr_px": LR_SIGMA_PER_SCALE * scale,
            "photons": photons,
            "read_noise": READ_NOISE,
            "baseline": BASELINE,
        },
        "masks": "mask/NAME.tif: uint8 labels 0 background, 1 cytoplasm, 2 nucleus (HR grid)",
        "units": {"lr": "camera counts (photo-electrons + baseline)", "hr": f"max = {HR_PEAK:g}"},
    }
