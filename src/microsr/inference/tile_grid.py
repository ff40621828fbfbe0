"""Where the tiles of a tiled prediction lie and how their outputs are blended (numpy only).

See :mod:`microsr.inference.tiling` for the method; this module holds its geometry: tile sizes
rounded to FFT-friendly numbers, tile start offsets and the raised-cosine blending weights.
"""

from __future__ import annotations

import numpy as np

from microsr.errors import InputError

MIN_TILE = 16
#: Default tile edge and overlap (LR px) of every way of predicting: the Python API, the CLI, the
#: napari widget and block-wise OME-Zarr prediction.
TILE, OVERLAP = 256, 32


def fft_friendly(n: int) -> int:
    """The largest 5-smooth integer (only prime factors 2, 3, 5) that is <= ``n`` (``n >= 1``)."""
    for m in range(max(int(n), 1), 0, -1):
        k = m
        for p in (2, 3, 5):
            while k % p == 0:
                k //= p
        if k == 1:
            return m
    return 1


def choose_tile(tile: int) -> int:
    """Round a requested tile edge down to a multiple of 16 whose quotient is 5-smooth.

    Such sizes (16, 32, 48, 64, 80, 96, 128, 144, 160, 192, 240, 256, ...) keep FFT-based models
    fast and satisfy models that down-sample internally by up to 16; the result is >= 16.
    """
    return MIN_TILE * fft_friendly(max(int(tile), MIN_TILE) // MIN_TILE)


def check_tiling(tile: int, overlap: int) -> int:
    """The tile edge :func:`predict_tiled` will use for ``tile``, after checking both options.

    Raises
    ------
    InputError
        ``tile`` below 16 px, a negative ``overlap``, or an ``overlap`` above half the (rounded)
        tile: neighbouring tiles would then advance by less than the blending ramp.
    """
    if tile < MIN_TILE:
        raise InputError(None, f"--tile must be at least {MIN_TILE} pixels, got {tile}")
    if overlap < 0:
        raise InputError(None, f"--overlap must be >= 0, got {overlap}")
    used = choose_tile(tile)
    if overlap > used // 2:
        raise InputError(
            None,
            f"--overlap {overlap} is more than half the tile ({used} px"
            + (f", --tile {tile} rounded down" if used != tile else "")
            + f"): give --overlap {used // 2} or less, or a larger --tile",
        )
    return used


def tile_starts(length: int, tile: int, overlap: int) -> list[int]:
    """Start offsets of tiles of size ``tile`` covering ``range(length)`` with ``overlap``.

    The last tile is shifted inward to end exactly at ``length``; a single tile of size
    ``length`` is used when ``length <= tile``.
    """
    if length <= tile:
        return [0]
    stride = tile - overlap
    starts = list(range(0, length - tile, stride))
    starts.append(length - tile)
    return starts


def edge_weight(size: int, lo_inner: bool, hi_inner: bool, overlap: int) -> np.ndarray:
    """1-D blending weight of a tile, shape (size,), values in [0, 1].

    ``lo_inner`` / ``hi_inner`` tell whether the low / high edge touches another tile; image-border
    edges get weight one. At inner edges: ``overlap // 4`` zeros, a raised-cosine ramp over the next
    ``overlap - 2 * (overlap // 4)`` pixels, then ones.
    """
    w = np.ones(size, dtype=np.float64)
    dead = overlap // 4
    ramp = overlap - 2 * dead
    t = (np.arange(ramp) + 0.5) / max(ramp, 1)
    rise = 0.5 - 0.5 * np.cos(np.pi * t)
    prof = np.concatenate([np.zeros(dead), rise])[: size // 2]
    if lo_inner and overlap > 0:
        w[: prof.size] = np.minimum(w[: prof.size], prof)
    if hi_inner and overlap > 0:
        w[size - prof.size :] = np.minimum(w[size - prof.size :], prof[::-1])
    return w


def axis_weights(length: int, tile: int, overlap: int) -> tuple[list[int], list[np.ndarray], np.ndarray]:
    """Along one axis: the tile starts, each tile's :func:`edge_weight` and their sum per pixel."""
    starts = tile_starts(length, tile, overlap)
    size = min(tile, length)
    ws = [edge_weight(size, i > 0, i < len(starts) - 1, overlap) for i in range(len(starts))]
    total = np.zeros(length, dtype=np.float64)
    for s, w in zip(starts, ws):
        total[s : s + size] += w
    return starts, ws, total
