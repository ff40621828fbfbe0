"""Normalisation statistics of a whole lazy (Dask) image, computed once before block-wise prediction.

Block-wise prediction must normalise every block with the numbers of its whole plane (as in-process
prediction does), never with the block's own. How each ``NormConfig`` kind gets them:

``percentile`` on 8/16-bit integers
    Exact: one histogram per plane (``np.bincount`` per block, summed in a tree), then the percentile is read
    off the cumulative counts with the same linear interpolation as ``np.percentile``. One pass
    over the data, 0.5 MB of counts per plane in flight.
``percentile`` on other types (float, 32-bit)
    On a regular sample: every k-th row and column with k chosen so that at most
    :data:`MAX_SAMPLE` pixels are read per plane (k = 1, exact, for planes up to 4096 x 4096).
``minmax`` / ``meanstd``
    Exact Dask reductions (``min``/``max``, ``mean``/``std`` in float64).
``fixed`` / ``none``
    Need no pass over the data.

A plane is one T/Z (and C for single-channel models) index: the key is the index into the leading
axes with a whole ``C`` axis (multi-channel models) counted as one.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from microsr.data.lazy_stats import lerp_percentiles
from microsr.data.normalize import NormConfig, NormParams

MAX_SAMPLE = 4096 * 4096


def _hist(block: np.ndarray, lo: int, n: int) -> np.ndarray:
    return np.bincount((block.astype(np.int64) - lo).ravel(), minlength=n)


def _plane_hist(plane, lo: int, n: int):
    """The histogram of a 2-D Dask array: one per block, summed as a tree (bounded memory)."""
    ny, nx = (len(c) for c in plane.chunks)
    per_block = plane.map_blocks(
        lambda b: _hist(b, lo, n)[None, None, :],
        chunks=((1,) * ny, (1,) * nx, (n,)),
        new_axis=2,
        dtype=np.int64,
    )
    return per_block.sum(axis=(0, 1))


def _from_hist(counts: np.ndarray, lo: int, qs: tuple[float, float]) -> tuple[float, float]:
    """``np.percentile(values, qs)`` (linear) of the values whose histogram is ``counts``."""
    cum = np.cumsum(counts)
    a, b = lerp_percentiles(
        lambda i: float(np.searchsorted(cum, i, side="right") + lo), int(cum[-1]), qs, np.float64
    )
    return float(a), float(b)


def _params(kind: str, offset: float, scale: float) -> dict[str, float]:
    if not scale > 0.0:  # constant plane, as compute_params does
        scale = 1.0
    return NormParams(offset=offset, scale=scale).model_dump()


def _plane_task(plane, cfg: NormConfig):
    """A Delayed giving the ``NormParams`` dump of one plane (a Dask array)."""
    import dask
    import dask.array as da

    dt = plane.dtype
    if cfg.kind == "percentile" and dt.kind in "ui" and dt.itemsize <= 2:
        lo, n = int(np.iinfo(dt).min), 2 ** (8 * dt.itemsize)
        counts = sum(_plane_hist(p, lo, n) for p in (plane if plane.ndim > 2 else [plane]))
        pair = dask.delayed(_from_hist)(counts, lo, (cfg.low, cfg.high))
        return dask.delayed(lambda p: _params("percentile", p[0], p[1] - p[0]))(pair)
    if cfg.kind == "percentile":
        k = max(1, math.ceil(math.sqrt(plane[0].size if plane.ndim > 2 else plane.size) / 4096))
        sample = plane[..., ::k, ::k].astype(np.float64)
        pair = dask.delayed(np.percentile)(sample, [cfg.low, cfg.high])
        return dask.delayed(lambda p: _params("percentile", float(p[0]), float(p[1] - p[0])))(pair)
    x = plane.astype(np.float64)
    if cfg.kind == "minmax":
        lo, hi = da.min(x), da.max(x)
        return dask.delayed(lambda a, b: _params("minmax", float(a), float(b - a)))(lo, hi)
    mean, std = da.mean(x), da.std(x)
    return dask.delayed(lambda a, b: _params("meanstd", float(a), float(b)))(mean, std)


def plane_keys(shape: tuple[int, ...], nlead: int, whole_c: int | None) -> list[tuple[int, ...]]:
    """Keys of all planes (see the module docstring) in C order of the leading axes."""
    ranges = [range(1 if i == whole_c else shape[i]) for i in range(nlead)]
    return list(itertools.product(*ranges))


def plane_stats(
    array, cfg: NormConfig, nlead: int, whole_c: int | None = None, scheduler=None
) -> dict[tuple[int, ...], dict[str, float]]:
    """``NormParams`` dumps of every plane of a Dask array whose last two axes are Y, X.

    Parameters
    ----------
    array : dask.array.Array
        The image; ``nlead`` leading axes (T/C/Z) before Y, X.
    cfg : NormConfig
        The model's normalisation.
    whole_c : int or None
        Index of a ``C`` axis that a multi-channel model takes whole (normalised jointly).
    scheduler
        Dask scheduler (a ``Client`` or a name) to compute on; ``None`` for Dask's default.
    """
    import dask

    keys = plane_keys(array.shape, nlead, whole_c)
    if cfg.kind in ("fixed", "none"):
        p = NormParams() if cfg.kind == "none" else NormParams(offset=cfg.vmin, scale=cfg.vmax - cfg.vmin)  # type: ignore[operator]
        return {k: p.model_dump() for k in keys}
    tasks = []
    for key in keys:
        idx = tuple(slice(None) if i == whole_c else key[i] for i in range(nlead))
        tasks.append(_plane_task(array[idx], cfg))
    values = dask.compute(*tasks, scheduler=scheduler) if scheduler is not None else dask.compute(*tasks)
    return dict(zip(keys, values))
