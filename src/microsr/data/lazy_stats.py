"""Percentiles of images too large to hold in memory, gathered block by block.

``np.percentile`` needs the whole array; here the values are seen one block at a time and only
what the percentiles need is kept:

* 8/16-bit integers: the exact histogram (``np.bincount``; 0.5 MB for 16 bits), whose cumulative
  counts give every order statistic, hence exact percentiles;
* other types: every k-th row and column (in image coordinates, so the sample does not depend on
  the blocks), with k chosen so that at most ``max_sample`` values per plane are kept; k = 1, and
  the percentiles exact, for planes up to that size.

:func:`lerp_percentiles` then interpolates between order statistics exactly as NumPy's default
(``method="linear"``) does, in the same dtype, so a percentile of the whole image read in memory
and the one gathered here are the same number (tests compare them bit for bit). A monotone map of
the values (normalisation) commutes with taking order statistics, so percentiles of normalised
values are computed from the raw distribution without normalising the image
(:meth:`Distribution.percentiles` with ``transform``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

MAX_SAMPLE = 2048 * 2048  # values kept per plane for non-integer images (exact up to this size)


def exact_counts(dtype: np.dtype) -> bool:
    """Whether values of ``dtype`` are gathered as an exact histogram (8/16-bit integers)."""
    return dtype.kind in "ui" and dtype.itemsize <= 2


def lerp_percentiles(
    order_stat: Callable[[int], float], n: int, qs: Sequence[float], dtype: np.dtype | type
) -> np.ndarray:
    """``np.percentile(values, qs)`` of ``n`` values given by their order statistics.

    ``order_stat(i)`` is the ``i``-th smallest value; ``dtype`` is the dtype of the values the
    result must match (NumPy interpolates in it). Mirrors NumPy's ``_quantile`` / ``_lerp``.
    """
    q = np.true_divide(np.asanyarray(qs, dtype=np.float64), 100)
    virtual = (n - 1) * q
    prev = np.floor(virtual).astype(np.intp)
    nxt = np.minimum(prev + 1, n - 1)
    gamma = virtual - prev
    a = np.array([order_stat(int(i)) for i in prev], dtype=dtype)
    b = np.array([order_stat(int(i)) for i in nxt], dtype=dtype)
    diff = b - a
    out = np.add(a, diff * gamma)
    np.subtract(b, diff * (1 - gamma), out=out, where=gamma >= 0.5, casting="unsafe")
    return out


class Distribution:
    """The values of one or more planes, gathered block by block (see the module docstring).

    Parameters
    ----------
    dtype : np.dtype
        dtype of the image.
    plane_shape : (H, W)
        Shape of the region gathered per plane (sets the sampling step of non-integer images).
    max_sample : int
        Values kept per plane for non-integer images.
    """

    def __init__(self, dtype: np.dtype, plane_shape: tuple[int, int], max_sample: int = MAX_SAMPLE):
        self.dtype = np.dtype(dtype)
        self.exact = exact_counts(self.dtype)
        self.step = max(1, math.ceil(math.sqrt(plane_shape[0] * plane_shape[1] / max_sample)))
        if self.exact:
            self.low = int(np.iinfo(self.dtype).min)
            self.counts = np.zeros(2 ** (8 * self.dtype.itemsize), np.int64)
        self.samples: list[np.ndarray] = []
        self.finite = True
        self.lo, self.hi = math.inf, -math.inf  # exact minimum and maximum
        self.count, self.mean, self.m2 = 0, 0.0, 0.0  # exact moments (Chan et al.'s pairwise update)
        self._sorted: np.ndarray | None = None
        self._cum: np.ndarray | None = None

    def add(self, block: np.ndarray, origin: tuple[int, int] = (0, 0), *, moments: bool = False) -> None:
        """Add a 2-D block whose first pixel is at ``origin`` (y, x) of its plane's region.

        ``moments``: also update the mean and variance (for ``meanstd`` normalisation).
        """
        if block.size == 0:
            return
        self.lo, self.hi = min(self.lo, float(block.min())), max(self.hi, float(block.max()))
        if moments:
            x = block.astype(np.float64)
            n, mean = x.size, float(x.mean())
            m2 = float(((x - mean) ** 2).sum())
            total = self.count + n
            delta = mean - self.mean
            self.m2 += m2 + delta * delta * self.count * n / total
            self.mean += delta * n / total
            self.count = total
        if self.exact:
            self.counts += np.bincount(
                (block.astype(np.int64) - self.low).ravel(), minlength=len(self.counts)
            )
            return
        k, (y0, x0) = self.step, origin
        kept = block[(-y0) % k :: k, (-x0) % k :: k].astype(np.float64)
        if block.dtype.kind == "f" and not np.isfinite(block).all():
            self.finite = False
        self.samples.append(kept.ravel())

    @property
    def n(self) -> int:
        """How many values (or samples) were gathered."""
        if self.exact:
            return int(self.counts.sum())
        return int(sum(s.size for s in self.samples))

    def order_stat(self, i: int) -> float:
        """The ``i``-th smallest gathered value (input units)."""
        if self.exact:
            if self._cum is None:
                self._cum = np.cumsum(self.counts)
            return float(np.searchsorted(self._cum, i, side="right") + self.low)
        if self._sorted is None:
            self._sorted = np.sort(np.concatenate(self.samples))
        return float(self._sorted[i])

    def percentiles(
        self,
        qs: Sequence[float],
        *,
        transform: Callable[[float], float] | None = None,
        dtype: np.dtype | type = np.float64,
    ) -> np.ndarray:
        """``np.percentile`` of the gathered values (mapped by the monotone ``transform``).

        ``dtype`` is the dtype of the array ``np.percentile`` would see: float64 for raw values
        converted as :func:`microsr.data.normalize.compute_params` does, float32 for normalised
        images.
        """
        if self.n == 0:
            raise ValueError("cannot take percentiles of an empty image")

        def stat(i: int) -> float:
            v = self.order_stat(i)
            return v if transform is None else transform(v)

        return lerp_percentiles(stat, self.n, qs, dtype)
