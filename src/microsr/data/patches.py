"""Aligned LR/HR patch sampling with background rejection, and non-overlapping tiling.

An LR patch of ``p`` px at (y, x) corresponds to the HR patch of ``s*p`` px at (s*y, s*x).
Background rejection follows CSBDeep's ``no_background_patches`` idea: a patch is foreground when
a high percentile of its HR pixels rises above ``threshold`` of the image's own dynamic range,
``bg + threshold * (P_99.9 - bg)`` with ``bg`` the image's 1st percentile. Sampling retries a
bounded number of times and then accepts the last draw, so sparse images never stall training.
Written here (not taken from CSBDeep) because CSBDeep depends on TensorFlow and samples single
images, not LR/HR pairs on two grids.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from microsr.errors import InputError


class BlockwisePlane(Protocol):
    """An image plane read on demand (:class:`~microsr.data.lazy_planes.LazyPlane`) that computes
    its percentiles block by block, equal to ``np.percentile`` of the whole plane."""

    def percentiles(self, qs: list[float]) -> np.ndarray: ...


@dataclass(frozen=True)
class Foreground:
    """Background-patch rejection settings.

    Attributes
    ----------
    threshold : float
        Fraction (0..1) of the image's dynamic range the patch must reach; 0 disables rejection.
    patch_percentile : float
        Percentile of the HR patch compared with the threshold (99 tolerates hot pixels).
    retries : int
        Draws before accepting a patch anyway.
    """

    threshold: float = 0.2
    patch_percentile: float = 99.0
    retries: int = 10


def foreground_level(hr: np.ndarray | BlockwisePlane, fg: Foreground | None) -> float | None:
    """Intensity an HR patch must reach to count as foreground (``None``: accept everything).

    Parameters
    ----------
    hr : np.ndarray or BlockwisePlane
        (H, W) float image (any units), or a plane read on demand that gives the same percentiles.
    """
    if fg is None or fg.threshold <= 0:
        return None
    qs = [1.0, 99.9]
    bg, top = np.percentile(hr, qs) if isinstance(hr, np.ndarray) else hr.percentiles(qs)
    if not top > bg:
        return None  # flat image: nothing to reject against
    return float(bg + fg.threshold * (top - bg))


def check_patch_fits(shape: tuple[int, int], patch: int, name: str | None) -> None:
    """Raise InputError when an LR image of ``shape`` (H, W) is smaller than ``patch`` px."""
    if shape[0] < patch or shape[1] < patch:
        raise InputError(
            name,
            f"LR image is {shape[0]}x{shape[1]} px, smaller than the patch size {patch}x{patch} px"
            " (use a smaller patch size)",
        )


def sample_patch(
    lr: np.ndarray,
    hr: np.ndarray,
    *,
    patch: int,
    scale: int,
    rng: np.random.Generator,
    mask: np.ndarray | None = None,
    level: float | None = None,
    fg: Foreground | None = None,
    name: str | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Cut one aligned random patch.

    Parameters
    ----------
    lr : np.ndarray
        (h, w) LR image.
    hr : np.ndarray
        (s*h, s*w) HR image.
    patch : int
        LR patch size ``p``; the HR patch is ``s*p``.
    scale : int
        ``s``.
    rng : np.random.Generator
        Source of all randomness (positions).
    mask : np.ndarray, optional
        (3, s*h, s*w) one-hot parsing map, cut like the HR.
    level : float, optional
        Foreground level from :func:`foreground_level`; ``None`` disables rejection.
    fg : Foreground, optional
        Percentile and retries used with ``level``.
    name : str, optional
        File name used in error messages.

    Returns
    -------
    lr_patch (p, p), hr_patch (s*p, s*p), mask_patch (3, s*p, s*p) or None: views of in-memory
    arrays, or arrays read from :class:`~microsr.data.lazy_planes.LazyPlane` images.
    """
    check_patch_fits(lr.shape, patch, name)
    fg = fg or Foreground()
    tries = 1 if level is None else max(1, fg.retries)
    hp = patch * scale
    for _ in range(tries):
        y = int(rng.integers(0, lr.shape[0] - patch + 1))
        x = int(rng.integers(0, lr.shape[1] - patch + 1))
        hr_p = np.asarray(hr[scale * y : scale * y + hp, scale * x : scale * x + hp])
        if level is None or np.percentile(hr_p, fg.patch_percentile) >= level:
            break
    lr_p = np.asarray(lr[y : y + patch, x : x + patch])
    mask_p = None if mask is None else mask[:, scale * y : scale * y + hp, scale * x : scale * x + hp]
    return lr_p, hr_p, mask_p
