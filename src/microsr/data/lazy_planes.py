"""Training images read on demand: normalised planes backed by a file, and a bounded tile cache.

A :class:`LazyPlane` stands where an in-memory plane (a 2-D float32 array) stands in training:
it has a ``shape``, slicing it gives another :class:`LazyPlane` (a window, nothing read), and
``np.asarray`` reads its pixels and normalises them exactly as
:func:`microsr.data.normalize.apply_params` normalises an array in memory, so patches, validation
crops and region splits are the same numbers either way.

Files are opened with :func:`microsr.io.lazy.open_lazy`: OME-Zarr (any NGFF level 0 store) and
TIFF through tifffile's Zarr interface, decoded tile by tile or strip by strip. Pixels are read in
tiles of ``TILE`` px (or the file's own chunks when those are between a quarter and twice that
size, so that a chunk is decoded once), kept raw (the file's dtype) in one least-recently-used
cache per process, :class:`TileCache`, of at most ``data.cache_mb`` MiB. ``functools.lru_cache``
does the bookkeeping: the bound on the number of tiles is the cache's bytes over the largest
tile's.

Processes: a DataLoader worker (:mod:`microsr.engine.prefetch`) that receives the batcher, by
``fork`` or by pickling, starts with an empty cache of its own and opens the files again itself
(a file handle shared across a ``fork`` would share its read position); the cache limit therefore
holds per process, and the training process plus ``W`` workers hold up to ``W + 1`` caches.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from microsr.data.lazy_stats import Distribution
from microsr.data.normalize import NormParams, apply_params

SCAN = 2048  # px per block side when a file is scanned for its statistics (not cached)
TILE = 512  # px per cached tile side (at most; smaller when the file's chunks are smaller)
Region = tuple[int, int, int, int]  # y0, y1, x0, x1


@dataclass(frozen=True)
class LazySource:
    """One image file seen as ``planes`` 2-D planes of ``(height, width)`` (leading axes flattened)."""

    path: Path
    lead_axes: str
    lead_shape: tuple[int, ...]
    height: int
    width: int
    dtype: np.dtype
    tile: tuple[int, int]
    pixel_size: float | None

    @property
    def planes(self) -> int:
        return int(np.prod(self.lead_shape, dtype=np.int64))

    def index(self, plane: int) -> tuple[int, ...]:
        """Index of ``plane`` into the leading axes (C order)."""
        return tuple(int(i) for i in np.unravel_index(plane, self.lead_shape)) if self.lead_shape else ()


def open_source(path: Path) -> tuple[LazySource, Any]:
    """Open ``path`` lazily: its :class:`LazySource` and its Dask array (axes ``...YX``).

    Raises
    ------
    InputError
        As :func:`microsr.io.lazy.open_lazy`, and for images with several channels.
    """
    from microsr.errors import InputError
    from microsr.io.lazy import open_lazy

    image = open_lazy(path)
    arr, axes = image.array, image.axes
    if "C" in axes and arr.shape[axes.index("C")] > 1:
        raise InputError(
            path,
            f"image has {arr.shape[axes.index('C')]} channels (axes {axes}); save each channel as its "
            "own file and train one model per channel",
        )
    chunks = tuple(int(c[0]) for c in arr.chunks[-2:])
    tile = (_side(chunks[0]), _side(chunks[1]))
    h, w = int(arr.shape[-2]), int(arr.shape[-1])
    lead = tuple(int(n) for n in arr.shape[:-2])
    src = LazySource(
        Path(path),
        axes[:-2],
        lead,
        h,
        w,
        np.dtype(arr.dtype).newbyteorder("="),
        tile,
        image.pixel_size,
    )
    return src, arr


def _side(chunk: int) -> int:
    """A cached tile's side: the file's chunk when it is near ``TILE`` (decoded once), else ``TILE``."""
    return chunk if TILE // 4 <= chunk <= 2 * TILE else TILE


def read_pixels(array: Any, index: tuple) -> np.ndarray:
    """``array[index]`` (a Dask array from :func:`microsr.io.lazy.open_lazy`) as a NumPy array."""
    return np.asarray(array[index].compute(scheduler="synchronous"))


class TileCache:
    """Raw tiles of every :class:`LazySource` of a training run, least recently used dropped first.

    Parameters
    ----------
    max_bytes : int
        Bound on the pixels kept (per process; see the module docstring).
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = int(max_bytes)
        self.sources: list[LazySource] = []
        self._pid: int | None = None
        self._arrays: dict[int, Any] = {}
        self._get: Any = None

    def __getstate__(self) -> dict[str, Any]:
        return {"max_bytes": self.max_bytes, "sources": self.sources}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["max_bytes"])  # type: ignore[misc]
        self.sources = state["sources"]

    def add(self, source: LazySource, array: Any = None) -> int:
        """Register ``source`` (and its open array, for this process); its number in the cache.

        The tile count is set again from the widest dtype registered (cached tiles are dropped:
        sources are added while training data is prepared, before patches are read)."""
        self._fresh()
        self.sources.append(source)
        self._get = self._lru()
        if array is not None:
            self._arrays[len(self.sources) - 1] = array
        return len(self.sources) - 1

    def _lru(self) -> Any:
        largest = max(
            (s.dtype.itemsize * s.tile[0] * s.tile[1] for s in self.sources), default=8 * TILE * TILE
        )
        tiles = max(1, self.max_bytes // largest)
        return functools.lru_cache(maxsize=tiles)(self._read_tile)

    def _fresh(self) -> None:
        """A new process (a DataLoader worker) starts with no tiles and opens its own files."""
        if self._pid == os.getpid() and self._get is not None:
            return
        self._pid, self._arrays, self._get = os.getpid(), {}, self._lru()

    def array(self, key: int) -> Any:
        """The open Dask array of source ``key`` in this process."""
        self._fresh()
        if key not in self._arrays:
            self._arrays[key] = open_source(self.sources[key].path)[1]
        return self._arrays[key]

    def read_region(self, key: int, plane: int, region: Region) -> np.ndarray:
        """Raw pixels of ``region`` of ``plane``, straight from the file (not cached)."""
        y0, y1, x0, x1 = region
        src = self.sources[key]
        return read_pixels(self.array(key), (*src.index(plane), slice(y0, y1), slice(x0, x1)))

    def _read_tile(self, key: int, plane: int, ty: int, tx: int) -> np.ndarray:
        src = self.sources[key]
        (th, tw) = src.tile
        region = (ty * th, min(src.height, (ty + 1) * th), tx * tw, min(src.width, (tx + 1) * tw))
        return self.read_region(key, plane, region)

    def read(self, key: int, plane: int, region: Region) -> np.ndarray:
        """Raw pixels of ``region`` of ``plane``, assembled from cached tiles."""
        self._fresh()
        src, (y0, y1, x0, x1) = self.sources[key], region
        th, tw = src.tile
        out = np.empty((y1 - y0, x1 - x0), src.dtype)
        for ty in range(y0 // th, (y1 - 1) // th + 1):
            for tx in range(x0 // tw, (x1 - 1) // tw + 1):
                tile = self._get(key, plane, ty, tx)
                ay, ax = max(y0, ty * th), max(x0, tx * tw)
                by, bx = min(y1, (ty + 1) * th), min(x1, (tx + 1) * tw)
                out[ay - y0 : by - y0, ax - x0 : bx - x0] = tile[
                    ay - ty * th : by - ty * th, ax - tx * tw : bx - tx * tw
                ]
        return out

    def scan(
        self, key: int, planes: range, region: Region, dist: Distribution, *, moments: bool = False
    ) -> None:
        """Add ``region`` of every plane in ``planes`` to ``dist``, ``SCAN`` px blocks at a time."""
        y0, y1, x0, x1 = region
        for p in planes:
            for by in range(y0, y1, SCAN):
                for bx in range(x0, x1, SCAN):
                    block = (by, min(y1, by + SCAN), bx, min(x1, bx + SCAN))
                    dist.add(self.read_region(key, p, block), (by - y0, bx - x0), moments=moments)

    def info(self) -> Any:
        """``functools`` cache statistics of this process (hits, misses, maxsize, currsize)."""
        self._fresh()
        return self._get.cache_info()


def _window(key: Any, shape: tuple[int, int]) -> Region:
    """The region ``key`` (slices, optionally after ``...``) selects from an array of ``shape``."""
    parts = list(key) if isinstance(key, tuple) else [key]
    if parts and parts[0] is Ellipsis:
        parts = parts[1:]
    if len(parts) > 2 or any(not isinstance(p, slice) or p.step not in (None, 1) for p in parts):
        raise IndexError(f"a lazy plane takes up to two slices without step, got {key!r}")
    parts += [slice(None)] * (2 - len(parts))
    (y0, y1, _), (x0, x1, _) = (p.indices(n) for p, n in zip(parts, shape))
    return y0, max(y0, y1), x0, max(x0, x1)


@dataclass(frozen=True)
class LazyPlane:
    """A normalised window of one plane of a file (see the module docstring).

    Attributes
    ----------
    cache : TileCache
    key : int
        The source's number in ``cache``.
    plane : int
        Plane of the source (leading axes flattened).
    region : (y0, y1, x0, x1)
        The window, in the plane's pixels.
    params : NormParams
        Normalisation of the whole file (``(x - offset) / scale``).
    clip : bool
        Clip normalised values to [0, 1].
    """

    cache: TileCache
    key: int
    plane: int
    region: Region
    params: NormParams
    clip: bool = False

    @property
    def shape(self) -> tuple[int, int]:
        y0, y1, x0, x1 = self.region
        return (y1 - y0, x1 - x0)

    @property
    def ndim(self) -> int:
        return 2

    def __getitem__(self, key: Any) -> LazyPlane:
        y0, y1, x0, x1 = _window(key, self.shape)
        oy, ox = self.region[0], self.region[2]
        return replace(self, region=(oy + y0, oy + y1, ox + x0, ox + x1))

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        raw = self.cache.read(self.key, self.plane, self.region)
        out = apply_params(raw, self.params, clip=self.clip)
        return out if dtype is None else out.astype(dtype)

    def percentiles(self, qs: list[float]) -> np.ndarray:
        """``np.percentile(np.asarray(self), qs)``, computed block by block (exact; see
        :mod:`microsr.data.lazy_stats` for non-integer files larger than its sample)."""
        dist = Distribution(self.cache.sources[self.key].dtype, self.shape)
        self.cache.scan(self.key, range(self.plane, self.plane + 1), self.region, dist)
        return dist.percentiles(qs, transform=self.normalize_value, dtype=np.float32)

    def normalize_value(self, value: float) -> float:
        """What a raw pixel value becomes in this plane (float32, as :meth:`__array__` gives)."""
        return float(apply_params(np.array([value]), self.params, clip=self.clip)[0])
