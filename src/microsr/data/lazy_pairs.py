"""Training pairs opened lazily: the :class:`~microsr.data.loading.PairArrays` of files never loaded whole.

:func:`open_pairs_lazy` gives the same items :func:`~microsr.data.loading.load_pair_arrays`
gives (names, shapes, normalisation numbers, percentile jitter drawn in the same order), with
:class:`~microsr.data.lazy_planes.LazyPlane` in place of arrays. Normalisation statistics are
those of the whole file, gathered block by block (:mod:`microsr.data.lazy_stats`): exact
percentiles and min/max for 8/16-bit files, percentiles on a regular sample of at most
2048 x 2048 px per plane for other types (exact up to that size), mean and standard deviation
exact up to float rounding (summed per block). Non-finite values are refused as the in-memory
reader refuses them.

:func:`use_lazy` decides: ``data.lazy = "always"`` / ``"never"``, or ``"auto"``: lazily when a
training or validation image is an OME-Zarr store or any HR file holds more than
:data:`LAZY_ABOVE_PX` pixels.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from microsr.data.lazy_planes import LazyPlane, LazySource, TileCache, open_source
from microsr.data.lazy_stats import Distribution
from microsr.data.loading import PairArrays, _norm_cfg
from microsr.data.normalize import NormConfig, NormParams, compute_params
from microsr.data.pairs import ImagePair, check_pair_shapes
from microsr.errors import InputError
from microsr.io.lazy import is_zarr_path
from microsr.io.lazy_tiff import tiff_header

LAZY_ABOVE_PX = 8192 * 8192  # data.lazy "auto": files with more HR pixels are read on demand


def _hr_pixels(path) -> int:
    """Pixel count of a TIFF from its header (nothing decoded); 0 for other or unreadable files,
    which are read whole (and their problems named) by the in-memory reader."""
    header = tiff_header(path)
    return 0 if header is None else int(np.prod(header[0], dtype=np.int64))


def use_lazy(mode: str, pairs: Sequence[ImagePair]) -> bool:
    """Whether training reads these pairs on demand (see the module docstring)."""
    if mode != "auto":
        return mode == "always"
    if any(is_zarr_path(p.lr) or is_zarr_path(p.hr) for p in pairs):
        return True
    return any(_hr_pixels(p.hr) > LAZY_ABOVE_PX for p in pairs)


def file_params(cache: TileCache, key: int, cfg: NormConfig) -> NormParams:
    """Normalisation numbers of every plane of source ``key`` together, block by block."""
    src = cache.sources[key]
    if cfg.kind in ("none", "fixed") and src.dtype.kind != "f":
        return compute_params(np.empty(0), cfg)
    dist = Distribution(src.dtype, (src.height, src.width))
    cache.scan(key, range(src.planes), (0, src.height, 0, src.width), dist, moments=cfg.kind == "meanstd")
    if not dist.finite or not (math.isfinite(dist.lo) and math.isfinite(dist.hi)):
        raise InputError(src.path, "image contains NaN or infinite values")
    if cfg.kind in ("none", "fixed"):
        return compute_params(np.empty(0), cfg)
    if cfg.kind == "percentile":
        lo, hi = dist.percentiles([cfg.low, cfg.high])
        offset, scale = float(lo), float(hi - lo)
    elif cfg.kind == "minmax":
        offset, scale = dist.lo, dist.hi - dist.lo
    else:
        offset, scale = dist.mean, math.sqrt(dist.m2 / dist.count)
    return NormParams(offset=offset, scale=scale if scale > 0.0 else 1.0)


def _labels(src: LazySource) -> list[str]:
    """Plane labels as :func:`~microsr.data.loading.image_planes` writes them (NGFF axes order)."""
    if src.planes == 1:
        return [""]
    return [
        ",".join(f"{a.lower()}={i}" for a, i in zip(src.lead_axes, src.index(k)) if a != "C")
        for k in range(src.planes)
    ]


def open_pairs_lazy(
    pairs: Sequence[ImagePair],
    norm: NormConfig,
    cache: TileCache,
    *,
    scale: int,
    percentile_rng: np.random.Generator | None = None,
) -> list[PairArrays]:
    """:func:`~microsr.data.loading.load_pair_arrays` with every plane read on demand through ``cache``.

    Raises
    ------
    InputError
        Unreadable files, shapes that do not fit ``scale``, several channels, NaN/Inf, masks.
    """
    items: list[PairArrays] = []
    clip = norm.clip and norm.kind in ("minmax", "percentile", "fixed")
    for pair in pairs:
        if pair.mask is not None:
            raise InputError(pair.mask, "parsing masks need the images in memory: set data.lazy to never")
        for path in (pair.lr, pair.hr):
            if not is_zarr_path(path) and path.suffix.lower() not in (".tif", ".tiff"):
                raise InputError(
                    path, "only TIFF and OME-Zarr are read on demand: set data.lazy to auto or never"
                )
        (lr_src, lr_arr), (hr_src, hr_arr) = open_source(pair.lr), open_source(pair.hr)
        lr_shape = (*lr_src.lead_shape, lr_src.height, lr_src.width)
        hr_shape = (*hr_src.lead_shape, hr_src.height, hr_src.width)
        if len(lr_shape) != len(hr_shape):
            raise InputError(pair.hr, f"{pair.lr.name} (LR) and {pair.hr.name} (HR) have different axes")
        axes = "Z" * (len(lr_shape) - 2) + "YX"
        check_pair_shapes(pair.lr, lr_shape, axes, pair.hr, hr_shape, axes, scale)
        lr_key, hr_key = cache.add(lr_src, lr_arr), cache.add(hr_src, hr_arr)
        lr_p = file_params(cache, lr_key, _norm_cfg(norm, percentile_rng))
        hr_p = file_params(cache, hr_key, _norm_cfg(norm, percentile_rng))
        for k, label in enumerate(_labels(lr_src)):
            lr = LazyPlane(cache, lr_key, k, (0, lr_src.height, 0, lr_src.width), lr_p, clip)
            hr = LazyPlane(cache, hr_key, k, (0, hr_src.height, 0, hr_src.width), hr_p, clip)
            items.append(PairArrays.plane(pair, label, lr, hr, (lr_p, hr_p), pixel_size=lr_src.pixel_size))
    return items
