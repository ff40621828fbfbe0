"""Intensity profiles along a line, scaled to the ground truth (as MHTCUN, Fig. 13).

A line ``(x0, y0, x1, y1)`` is given in ground-truth pixel coordinates (pixel centres at integer
positions, x = column, y = row). Every image on the ground-truth grid is sampled along it with
cubic-spline interpolation (:func:`scipy.ndimage.map_coordinates`, order 3); the LR image is
sampled at the same physical positions, ``(x + 0.5) / s - 0.5`` for a factor ``s`` (the pixel-centre
convention of ``align_corners=False`` bicubic up-sampling), so it needs no up-sampling first.
Each profile except the ground truth is then scaled by least squares (``a * p + b``) to the
ground-truth profile, so that shapes, not brightness, are compared; the fitted coefficients and
the remaining mean squared error are returned with each profile.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import map_coordinates

from microsr.metrics import fit_affine


@dataclass
class Profile:
    """One sampled intensity profile.

    Attributes
    ----------
    name : str
        Label (e.g. ``"GT"``, ``"LR (bicubic)"``, a model name).
    values : np.ndarray, shape (n,)
        Intensities after scaling to the ground truth (ground truth: raw).
    raw : np.ndarray, shape (n,)
        Intensities before scaling.
    a, b : float
        Least-squares gain and offset applied (1, 0 for the ground truth).
    mse : float
        Mean squared difference to the ground-truth profile after scaling (0 for the ground truth).
    """

    name: str
    values: np.ndarray
    raw: np.ndarray
    a: float
    b: float
    mse: float


def parse_line(text: str) -> tuple[float, float, float, float]:
    """Parse ``"x0,y0,x1,y1"`` (ground-truth pixels). Raises ``ValueError`` with the problem."""
    parts = [p.strip() for p in str(text).split(",")]
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        raise ValueError(f"--line must be four numbers x0,y0,x1,y1, got {text!r}") from None
    if len(values) != 4 or not all(np.isfinite(values)):
        raise ValueError(f"--line must be four numbers x0,y0,x1,y1, got {text!r}")
    if values[:2] == values[2:]:
        raise ValueError(f"--line start and end are the same point: {text!r}")
    return values


def line_coords(
    line: tuple[float, float, float, float], shape: tuple[int, int], n: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sample positions along a line.

    Parameters
    ----------
    line : (x0, y0, x1, y1)
        Ground-truth pixel coordinates; both ends must lie inside ``shape``.
    shape : (H, W)
        Ground-truth shape.
    n : int, optional
        Number of samples; default one per pixel of length, at least 2.

    Returns
    -------
    xs, ys : np.ndarray, shape (n,)
        Sample positions (GT pixels).
    dist : np.ndarray, shape (n,)
        Distance from the start, GT pixels.
    """
    x0, y0, x1, y1 = line
    h, w = shape
    for x, y in ((x0, y0), (x1, y1)):
        if not (0 <= x <= w - 1 and 0 <= y <= h - 1):
            raise ValueError(f"line end ({x:g}, {y:g}) is outside the {w}x{h} ground-truth image")
    length = float(np.hypot(x1 - x0, y1 - y0))
    n = max(int(np.ceil(length)) + 1, 2) if n is None else n
    t = np.linspace(0.0, 1.0, n)
    return x0 + t * (x1 - x0), y0 + t * (y1 - y0), t * length


def sample(image: np.ndarray, xs: np.ndarray, ys: np.ndarray, scale: int = 1) -> np.ndarray:
    """Cubic-spline samples of a 2-D image at GT positions (``scale`` > 1 for an LR image)."""
    img = np.asarray(image, dtype=np.float64)
    if img.ndim != 2:
        raise ValueError(f"profiles need 2-D images, got shape {img.shape}")
    cx, cy = (xs + 0.5) / scale - 0.5, (ys + 0.5) / scale - 0.5
    return map_coordinates(img, np.stack([cy, cx]), order=3, mode="nearest")


def line_profiles(
    gt: np.ndarray,
    preds: Mapping[str, np.ndarray],
    line: tuple[float, float, float, float],
    *,
    lr: np.ndarray | None = None,
) -> tuple[np.ndarray, list[Profile]]:
    """Profiles of the ground truth, the LR image and each prediction along one line.

    Parameters
    ----------
    gt : np.ndarray, shape (H, W)
    preds : mapping name -> np.ndarray, shape (H, W)
    line : (x0, y0, x1, y1)
        GT pixel coordinates.
    lr : np.ndarray, shape (H/s, W/s), optional
        Low-resolution input, ``s`` an integer factor.

    Returns
    -------
    dist : np.ndarray, shape (n,)
        Distance along the line in GT pixels.
    profiles : list of Profile
        Ground truth first, then LR (if given), then predictions in the mapping's order.
    """
    g = np.asarray(gt, dtype=np.float64)
    xs, ys, dist = line_coords(line, g.shape)
    ref = sample(g, xs, ys)
    out = [Profile("GT", ref, ref, 1.0, 0.0, 0.0)]
    items: list[tuple[str, np.ndarray, int]] = []
    if lr is not None:
        s = g.shape[0] // lr.shape[0]
        if s < 1 or lr.shape[0] * s != g.shape[0] or lr.shape[1] * s != g.shape[1]:
            raise ValueError(f"LR shape {lr.shape} is not the ground truth's {g.shape} / an integer")
        items.append((f"LR (x{s}, cubic)", lr, s))
    for name, p in preds.items():
        if np.shape(p) != g.shape:
            raise ValueError(f"prediction {name!r} has shape {np.shape(p)}, ground truth {g.shape}")
        items.append((name, p, 1))
    for name, img, s in items:
        raw = sample(img, xs, ys, s)
        scaled, (a, b) = fit_affine(raw, ref)
        out.append(Profile(name, scaled, raw, a, b, float(np.mean((scaled - ref) ** 2))))
    return dist, out


def plot_profiles(
    dist: np.ndarray,
    profiles: list[Profile],
    *,
    pixel_size: float | None = None,
    ax=None,
    title: str | None = None,
):
    """Plot scaled profiles (GT in black); returns the matplotlib Axes.

    ``pixel_size`` (micrometres per GT pixel) switches the x axis to micrometres.
    """
    from microsr.evaluation.figures import new_figure

    if ax is None:
        ax = new_figure((8, 3.2))[1][0, 0]
    x = dist * pixel_size if pixel_size else dist
    for p in profiles:
        style = {"color": "black", "lw": 2.0} if p.name == "GT" else {"lw": 1.3}
        label = p.name if p.name == "GT" else f"{p.name} (MSE {p.mse:.3g})"
        ax.plot(x, p.values, label=label, **style)
    ax.set_xlabel("distance along line (µm)" if pixel_size else "distance along line (GT px)")
    ax.set_ylabel("intensity, scaled to GT")
    ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    if title:
        ax.set_title(title, fontsize=9)
    return ax
