"""Ground-truth fluorophore maps of the four BioSR structure classes, rendered fast.

All geometry is built in continuous coordinates on a *fine* grid (a :class:`Scene`: points,
curves, polygons, smooth fields, every random draw made when it is built) and rasterised by
bilinear splatting of densely sampled points (spacing 0.5 fine px, :mod:`microsr.data.fields`); a
thin Gaussian then gives each structure its physical width. A scene renders the whole grid or any
region of it (:meth:`Scene.render`), so large fields are drawn block by block. Intensities are
relative (a single filament is ~1 before blurs).

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

from abc import ABC, abstractmethod

import numpy as np
from scipy import ndimage, spatial
from skimage import draw

from microsr.data.fields import (
    STEP,
    HazeField,
    Region,
    Walks,
    bands,
    crop,
    filtered_region,
    grow,
    random_walks,
    splat,
    splat_region,
)

__all__ = ["STRUCTURES", "STEP", "Scene", "make_scene", "random_walks", "render_ground_truth", "splat"]

STRUCTURES = ("ccps", "microtubules", "er", "f-actin")


class Scene(ABC):
    """One field of view of a structure on a fine grid: its geometry, rendered on any region.

    ``whole=True`` evaluates smooth fields on the whole grid while building (the simulator's
    original, bit-exact way); ``whole=False`` evaluates them band by band (bounded memory).
    """

    sigmas: tuple[float, ...] = ()  # Gaussian blurs (nm) applied after splatting

    def __init__(self, rng: np.random.Generator, shape: tuple[int, int], fine_nm: float, whole: bool):
        self.shape, self.fine_nm, self.whole = shape, fine_nm, whole
        self.build(rng)
        self.haze = HazeField(rng, shape, 600.0 / fine_nm)  # the last draw, after the structure's
        self.halo = int(4.0 * max(self.sigmas) / fine_nm + 0.5) + 2

    @abstractmethod
    def build(self, rng: np.random.Generator) -> None:
        """Make the geometry (every random draw of the structure, in a fixed order)."""

    @abstractmethod
    def draw(self, outer: Region) -> np.ndarray:
        """The structure on ``outer``, exact except within :attr:`halo` px of an inner edge."""

    def footprint(self, region: Region) -> np.ndarray | None:
        """Where the cell is (multiplies the haze), or None for the whole field."""
        return None

    def structure(self, region: Region) -> np.ndarray:
        """The structure image (before haze) on ``region``."""
        outer = grow(region, self.halo, self.shape)
        return crop(self.draw(outer), outer, region)

    def haze_on(self, region: Region) -> np.ndarray:
        """The haze field (times the footprint) on ``region``."""
        full = region == (0, self.shape[0], 0, self.shape[1])
        haze = self.haze.whole() if full else self.haze.region(region)
        fp = self.footprint(region)
        return haze if fp is None else haze * fp


class CCPs(Scene):
    sigmas = (20.0,)  # the footprint (150 nm blur) widens its own regions

    def build(self, rng):
        (h, w), fine_nm = self.shape, self.fine_nm
        area_um2 = h * w * (fine_nm / 1000) ** 2
        self.cell = HazeField(rng, self.shape, 400.0 / fine_nm * 4)
        self.threshold = rng.uniform(0.25, 0.45)
        self._whole_fp = self._footprint_whole() if self.whole else None
        n = int(area_um2 * rng.uniform(1.5, 3.0))
        cand = rng.uniform([0, 0], [h, w], size=(n * 3, 2))
        inside = self._footprint_at(cand[:, 0].astype(int), cand[:, 1].astype(int)) > rng.random(len(cand))
        centres = cand[inside][:n]
        radius = rng.uniform(50, 75, size=len(centres)) / fine_nm
        bright = np.minimum(rng.lognormal(0.0, 0.5, size=len(centres)), 2.5)
        ring = rng.random(len(centres)) < 0.6
        phi = np.linspace(0, 2 * np.pi, 48, endpoint=False)
        # rings: points on circles; puncta: points filling discs (uniform in area)
        rr = np.where(
            ring[:, None], radius[:, None], radius[:, None] * np.sqrt(rng.random((len(centres), 48)))
        )
        pts = centres[:, None, :] + rr[..., None] * np.stack([np.sin(phi), np.cos(phi)], -1)[None]
        self.points, self.weights = pts.reshape(-1, 2), np.repeat(bright / 48 * 25, 48)

    def _footprint_whole(self) -> np.ndarray:
        cell = self.cell.whole() > self.threshold
        return ndimage.gaussian_filter(cell.astype(float), 150.0 / self.fine_nm)

    def footprint(self, region):
        if self._whole_fp is not None:
            return crop(self._whole_fp, (0, self.shape[0], 0, self.shape[1]), region)
        cell = lambda r: (self.cell.region(r) > self.threshold).astype(float)  # noqa: E731
        return filtered_region(cell, 150.0 / self.fine_nm, region, self.shape)

    def _footprint_at(self, iy: np.ndarray, ix: np.ndarray) -> np.ndarray:
        if self._whole_fp is not None:
            return self._whole_fp[iy, ix]
        out = np.empty(len(iy))
        for band in bands(self.shape):
            sel = (iy >= band[0]) & (iy < band[1])
            out[sel] = self.footprint(band)[iy[sel] - band[0], ix[sel]]
        return out

    def draw(self, outer):
        img = np.zeros((outer[1] - outer[0], outer[3] - outer[2]))
        img += splat_region(self.points, self.weights, outer, self.shape)
        return ndimage.gaussian_filter(img, 20.0 / self.fine_nm)


class Microtubules(Scene):
    sigmas = (12.0,)

    def build(self, rng):
        h, w = self.shape
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
            self.fine_nm / 6000.0,
            2500.0 / self.fine_nm,
        )
        bright = np.tile(rng.uniform(0.7, 1.3, n), 2)
        self.points, self.weights = both.reshape(-1, 2), np.repeat(bright * STEP, n_steps)

    def draw(self, outer):
        img = splat_region(self.points, self.weights, outer, self.shape)
        return ndimage.gaussian_filter(img, 12.0 / self.fine_nm)


class ER(Scene):
    sigmas = (30.0, 40.0)

    def build(self, rng):
        (h, w), fine_nm = self.shape, self.fine_nm
        spacing = rng.uniform(700, 1100) / fine_nm
        n = max(int(h * w / spacing**2 * 1.3), 16)  # Qhull needs a few points even for tiny images
        cand = rng.uniform([-spacing, -spacing], [h + spacing, w + spacing], size=(3 * n, 2))
        density = HazeField(rng, (h, w), 3 * spacing)
        iy = np.clip(cand[:, 0], 0, h - 1).astype(int)
        ix = np.clip(cand[:, 1], 0, w - 1).astype(int)
        at = density.whole()[iy, ix] if self.whole else density.at(iy, ix)
        seeds = cand[rng.random(3 * n) < 0.15 + 0.85 * at][:n]
        if len(seeds) < 16:
            seeds = cand[:n]
        vor = spatial.Voronoi(seeds)
        ridges = np.array([r for r in vor.ridge_vertices if -1 not in r])
        a, b = vor.vertices[ridges[:, 0]], vor.vertices[ridges[:, 1]]
        keep = (rng.random(len(a)) > 0.25) & (np.linalg.norm(b - a, axis=1) < 4 * spacing)
        self.edges = None
        if keep.any():  # slightly bent tubules: quadratic Bezier curves bent sideways by 0.12 x length
            a, b = a[keep], b[keep]
            length = np.linalg.norm(b - a, axis=1)
            normal = np.stack([-(b - a)[:, 1], (b - a)[:, 0]], 1) / np.maximum(length, 1e-9)[:, None]
            ctrl = (a + b) / 2 + normal * (rng.normal(0, 0.12, len(a)) * length)[:, None]
            bright = rng.uniform(0.6, 1.2, keep.sum())
            corners = np.stack([a, ctrl, b])
            self.edges = (a, ctrl, b, length, bright, corners.min(0), corners.max(0))
            self.m = int(np.ceil(length.max() / STEP)) + 1
        self.sheets = []
        for region in rng.choice(len(vor.regions), size=max(1, n // 25), replace=False):
            verts = vor.regions[region]
            if len(verts) < 3 or -1 in verts:
                continue
            self.sheets.append((vor.vertices[verts], rng.uniform(0.25, 0.45)))

    def _segments(self, outer: Region) -> tuple[np.ndarray, np.ndarray]:
        a, ctrl, b, length, bright, lo, hi = self.edges
        y0, y1, x0, x1 = outer
        if outer != (0, self.shape[0], 0, self.shape[1]):
            sel = (hi[:, 0] >= y0) & (lo[:, 0] < y1) & (hi[:, 1] >= x0) & (lo[:, 1] < x1)
            a, ctrl, b, length, bright = a[sel], ctrl[sel], b[sel], length[sel], bright[sel]
        t = np.linspace(0, 1, self.m)[None, :, None]
        pts = (1 - t) ** 2 * a[:, None] + 2 * (1 - t) * t * ctrl[:, None] + t**2 * b[:, None]
        wts = np.repeat((length / (self.m - 1))[:, None], self.m, 1)  # mass per point: density per length
        return pts.reshape(-1, 2), wts.reshape(-1) * np.repeat(bright, self.m)

    def draw(self, outer):
        shape = (outer[1] - outer[0], outer[3] - outer[2])
        img = np.zeros(shape)
        if self.edges is not None:
            img = splat_region(*self._segments(outer), outer, self.shape)
        img = ndimage.gaussian_filter(img, 30.0 / self.fine_nm) * (30.0 / self.fine_nm) * 2.5
        sheets = np.zeros(shape)
        for poly, value in self.sheets:
            if poly[:, 0].max() < outer[0] or poly[:, 0].min() >= outer[1]:
                continue
            if poly[:, 1].max() < outer[2] or poly[:, 1].min() >= outer[3]:
                continue
            rr, cc = draw.polygon(poly[:, 0] - outer[0], poly[:, 1] - outer[2], shape)
            sheets[rr, cc] = value
        return img + ndimage.gaussian_filter(sheets, 40.0 / self.fine_nm)


class FActin(Scene):
    sigmas = (8.0,)

    def build(self, rng):
        (h, w), fine_nm = self.shape, self.fine_nm
        n = int(rng.integers(350, 600))
        dominant = rng.uniform(0, np.pi, 2)
        which = rng.integers(0, 2, n)
        stress = rng.random(n) < 0.6
        angles = np.where(stress, dominant[which] + rng.normal(0, 0.12, n), rng.uniform(0, np.pi, n))
        n_steps = int(1.3 * max(h, w) / STEP)
        starts = rng.uniform([-0.1 * h, -0.1 * w], [1.1 * h, 1.1 * w], size=(n, 2))
        walks = Walks(rng, starts, angles, n_steps, fine_nm / 20000.0, 2000.0 / fine_nm)
        # each filament visible over a random sub-length (1-8 um)
        lengths = (rng.uniform(1000, 8000, n) / fine_nm / STEP).astype(int)
        first = rng.integers(0, n_steps, n)
        bright = rng.lognormal(-0.3, 0.6, n)
        k = np.arange(n_steps)[None, :]
        points, weights = [], []
        for rows, curves in walks.chunks():  # only the visible points are kept
            visible = (k >= first[rows, None]) & (k < first[rows, None] + lengths[rows, None])
            wts = (visible * bright[rows, None] * STEP).reshape(-1)
            points.append(curves.reshape(-1, 2)[wts != 0])
            weights.append(wts[wts != 0])
        self.points, self.weights = np.concatenate(points), np.concatenate(weights)

    def draw(self, outer):
        img = splat_region(self.points, self.weights, outer, self.shape)
        return ndimage.gaussian_filter(img, 8.0 / self.fine_nm)


_SCENES: dict[str, type[Scene]] = {"ccps": CCPs, "microtubules": Microtubules, "er": ER, "f-actin": FActin}


def make_scene(
    structure: str, shape: tuple[int, int], fine_nm: float, rng: np.random.Generator, *, whole: bool = True
) -> Scene:
    """Build the geometry of one field of view (every random draw happens here)."""
    if structure not in _SCENES:
        raise ValueError(f"unknown structure {structure!r}; choose from {', '.join(STRUCTURES)}")
    return _SCENES[structure](rng, shape, fine_nm, whole)


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
        (H, W) float64, >= 0, relative intensity (peak of a single structure ~ 0.3-3): the
        structure plus a faint haze of 3 % of its 99.9th percentile.
    """
    scene = make_scene(structure, shape, fine_nm, rng)
    whole = (0, shape[0], 0, shape[1])
    img = scene.structure(whole)
    ref = np.percentile(img, 99.9) if img.max() > 0 else 1.0
    return img + 0.03 * ref * (0.5 + scene.haze_on(whole))
