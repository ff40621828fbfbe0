"""Writing a super-resolved image as an OME-Zarr multiscale pyramid, block by block.

Layout: one image group with arrays ``s0`` (full resolution), ``s1`` (2x smaller in Y and X), ...
down to a level that fits in one chunk (at most 8 levels). Arrays are created with zarr (Zarr v2
with ``/`` chunk keys for NGFF 0.4, Zarr v3 for 0.5); the NGFF ``multiscales`` and ``omero``
metadata are written by ome-zarr-py's :func:`ome_zarr.writer.write_multiscales_metadata`, last, so
a store without them is visibly unfinished.

Geometry (NGFF ``coordinateTransformations`` refer to pixel centres): for an s-fold up-sampling of
an input with pixel spacing ``p`` and translation ``t``, level 0 has spacing ``p / s`` and
translation ``t - (s - 1) / (2 s) * p``, so every output pixel centre lies where it is in the input.
Level ``k`` averages 2^k x 2^k level-0 pixels: spacing ``2^k p / s``, translation shifted by
``(2^k - 1) / 2 * p / s``. The pyramid is built with :func:`dask.array.coarsen` from the level
above, so memory stays bounded by a few chunks.

The display window (``omero``) is taken from the coarsest level (0.1 and 99.9 percentiles per
channel), which holds at most one chunk.
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

MAX_LEVELS = 8


def level_shapes(shape: tuple[int, ...], chunks: tuple[int, ...]) -> list[tuple[int, ...]]:
    """Shapes of the pyramid levels: Y/X halved (rounded down) until one chunk holds a level."""
    shapes = [tuple(shape)]
    while len(shapes) < MAX_LEVELS:
        *lead, h, w = shapes[-1]
        if (h <= chunks[-2] and w <= chunks[-1]) or min(h, w) < 2:
            break
        shapes.append((*lead, h // 2, w // 2))
    return shapes


def level_transforms(
    scale: list[float], translation: list[float], s: int, n_levels: int
) -> list[list[dict[str, Any]]]:
    """NGFF ``coordinateTransformations`` of each level (see the module docstring)."""
    out = []
    for k in range(n_levels):
        f = 2**k
        sc, tr = list(scale), list(translation)
        for i in (-2, -1):
            p0 = scale[i] / s
            sc[i] = f * p0
            tr[i] = translation[i] - (s - 1) / (2 * s) * scale[i] + (f - 1) / 2 * p0
        out.append([{"type": "scale", "scale": sc}, {"type": "translation", "translation": tr}])
    return out


def create_pyramid(
    path: str | PathLike[str],
    *,
    shape: tuple[int, ...],
    chunks: tuple[int, ...],
    dtype: Any,
    axes: str,
    ngff_version: str = "0.5",
    attrs: dict[str, Any] | None = None,
) -> list[tuple[int, ...]]:
    """Create the (empty) group and level arrays at ``path``; returns the level shapes.

    NGFF 0.5 arrays carry the axis names as Zarr v3 ``dimension_names``.
    """
    import zarr

    v2 = ngff_version == "0.4"
    group = zarr.open_group(str(path), mode="w-", zarr_format=2 if v2 else 3)
    shapes = level_shapes(shape, chunks)
    kw: dict[str, Any] = {"chunk_key_encoding": {"name": "v2", "separator": "/"}}
    if not v2:
        kw = {"dimension_names": [a.lower() for a in axes]}
    for k, shp in enumerate(shapes):
        ch = tuple(min(c, n) for c, n in zip(chunks, shp))
        group.create_array(f"s{k}", shape=shp, chunks=ch, dtype=dtype, fill_value=0, **kw)
    if attrs:
        group.attrs.update(attrs)
    return shapes


def open_level(path: str | PathLike[str], level: int, mode: str = "r+") -> Any:
    """The zarr array of one level of a store made by :func:`create_pyramid`."""
    import zarr

    return zarr.open_array(str(Path(path) / f"s{level}"), mode=mode)


def build_levels(path: str | PathLike[str], scheduler: Any = "sync") -> None:
    """Fill levels 1, 2, ... by 2 x 2 averaging of the level above (bounded memory)."""
    import dask
    import dask.array as da

    k = 1
    while (Path(path) / f"s{k}").exists():
        src = da.from_zarr(open_level(path, k - 1, "r"))
        dst = open_level(path, k)
        axes = {src.ndim - 2: 2, src.ndim - 1: 2}
        small = da.coarsen(np.mean, src.astype(np.float64), axes, trim_excess=True)
        if np.issubdtype(dst.dtype, np.integer):
            info = np.iinfo(dst.dtype)
            small = da.clip(da.round(small), info.min, info.max)
        small = small.astype(dst.dtype).rechunk(dst.chunks)
        with dask.config.set(scheduler=scheduler):
            da.store(small, dst, lock=False)
        k += 1


def display_window(path: str | PathLike[str], n_levels: int, c_axis: int | None) -> dict[str, Any]:
    """``omero`` metadata: one grey channel per C with a 0.1-99.9 percentile window."""
    small = np.asarray(open_level(path, n_levels - 1, "r")[...], dtype=np.float64)
    planes = (
        [small] if c_axis is None else [np.take(small, i, axis=c_axis) for i in range(small.shape[c_axis])]
    )
    channels = []
    for i, plane in enumerate(planes):
        lo, hi = (float(v) for v in np.percentile(plane, [0.1, 99.9]))
        window = {"min": float(plane.min()), "max": float(plane.max()), "start": lo, "end": max(hi, lo)}
        channels.append({"label": f"channel {i}", "color": "FFFFFF", "active": True, "window": window})
    return {"channels": channels, "rdefs": {"model": "greyscale"}}


def finish_metadata(
    path: str | PathLike[str],
    *,
    axes: str,
    units: dict[str, str],
    transforms: list[list[dict[str, Any]]],
    ngff_version: str,
    name: str,
) -> None:
    """Write ``multiscales`` and ``omero`` with ome-zarr-py once all levels hold their pixels."""
    import zarr
    from ome_zarr.format import FormatV04, FormatV05
    from ome_zarr.writer import write_multiscales_metadata

    fmt = FormatV04() if ngff_version == "0.4" else FormatV05()
    group = zarr.open_group(str(path), mode="r+")
    c_axis = axes.index("C") if "C" in axes else None
    omero = display_window(path, len(transforms), c_axis)
    datasets = [{"path": f"s{k}", "coordinateTransformations": t} for k, t in enumerate(transforms)]
    axes_units = {a.lower(): u for a, u in units.items()}
    write_multiscales_metadata(
        group,
        datasets,
        fmt=fmt,
        axes=[a.lower() for a in axes],
        axes_units=axes_units or None,
        name=name,
        metadata={"omero": omero},
    )
