"""The eight dihedral transforms (rotations by 90 degrees and flips) and their inverses.

Transform ``k`` (0..7) rotates the last two axes by ``k % 4`` quarter turns (counter-clockwise,
``np.rot90`` convention) and, for ``k >= 4``, then flips the last axis. They need no interpolation,
so they are applied identically to LR, HR and mask arrays, and are exactly invertible; the
inverses are used for test-time augmentation. Works on numpy arrays and torch tensors whose last
two axes are (Y, X), e.g. (H, W), (3, H, W) or (B, C, H, W). Transforms with odd ``k % 4`` swap
height and width, so non-square inputs change shape.
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np
import torch

ArrayLike = TypeVar("ArrayLike", np.ndarray, torch.Tensor)

N_TRANSFORMS = 8


def _rot(x: ArrayLike, k: int) -> ArrayLike:
    if isinstance(x, torch.Tensor):
        return torch.rot90(x, k, dims=(-2, -1))
    return np.rot90(x, k, axes=(-2, -1))


def _flip(x: ArrayLike) -> ArrayLike:
    if isinstance(x, torch.Tensor):
        return torch.flip(x, dims=(-1,))
    return np.flip(x, axis=-1)


def _check(k: int) -> int:
    if not 0 <= int(k) < N_TRANSFORMS:
        raise ValueError(f"dihedral transform index must be 0..7, got {k}")
    return int(k)


def dihedral(x: ArrayLike, k: int) -> ArrayLike:
    """Apply dihedral transform ``k`` to the last two axes of ``x``.

    Parameters
    ----------
    x : np.ndarray or torch.Tensor
        Shape (..., H, W), any dtype.
    k : int
        0..7; 0 is the identity.

    Returns
    -------
    Same type, shape (..., H, W) or (..., W, H). numpy results are contiguous copies.
    """
    k = _check(k)
    y = _rot(x, k % 4)
    if k >= 4:
        y = _flip(y)
    return np.ascontiguousarray(y) if isinstance(y, np.ndarray) else y.contiguous()


def inverse_dihedral(y: ArrayLike, k: int) -> ArrayLike:
    """Undo :func:`dihedral`: ``inverse_dihedral(dihedral(x, k), k)`` equals ``x``."""
    k = _check(k)
    if k >= 4:
        y = _flip(y)
    x = _rot(y, -(k % 4))
    return np.ascontiguousarray(x) if isinstance(x, np.ndarray) else x.contiguous()
