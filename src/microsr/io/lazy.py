"""Lazy (Dask) reading of large images: OME-Zarr (NGFF 0.4 / 0.5) and TIFF through its Zarr view.

Nothing is read at open time except metadata: pixels stay on disk until a block of the returned
Dask array is computed. OME-Zarr metadata is parsed by ome-zarr-py (:mod:`ome_zarr.reader`), which
understands NGFF 0.4 on Zarr v2 and 0.5 on Zarr v3; the pixel arrays of the chosen level are opened
with zarr (paths taken from the multiscales metadata: levels may be called ``s0``, ``s1``...). A TIFF
is opened through tifffile's Zarr interface (``series.aszarr``), so tiles/strips are decoded on
demand, or, when it is uncompressed and stored in one piece (which that interface sees as one
chunk), as memory-mapped blocks (:class:`microsr.io.lazy_tiff.MappedPixels`); its axes and pixel
size are read as :func:`microsr.io.tiff.read_tiff` reads them.

Axes are upper-case letters from ``TCZYX`` in NGFF order (time, channel, then space); a TIFF's
ImageJ-order axes (``TZCYX``) are transposed lazily into it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

from microsr.errors import InputError
from microsr.io.formats import FORMATS
from microsr.io.lazy_tiff import check_chunks, tiff_pixels, tiff_warnings
from microsr.io.types import check_axes, one_line

NGFF_ORDER = "TCZYX"
ZARR_SUFFIXES = (".zarr",)
# micrometres per unit, for the NGFF / UDUNITS space units microscopy uses
UNIT_UM = {"nanometer": 1e-3, "micrometer": 1.0, "millimeter": 1e3, "centimeter": 1e4, "meter": 1e6}


@dataclass
class LazyImage:
    """An image whose pixels are read on demand.

    Attributes
    ----------
    array : dask.array.Array
        Pixels in the file's dtype, axes in NGFF order (see :attr:`axes`).
    axes : str
        Letters from ``TCZYX`` in that order, ending in ``YX``.
    scale, translation : list of float
        Per-axis physical pixel spacing and offset (NGFF ``coordinateTransformations``, pixel
        centres), in :attr:`units`; 1 and 0 when the file records none.
    units : dict
        Axis letter -> NGFF unit name (e.g. ``{"Y": "micrometer"}``) where the file records one.
    pixel_size : float or None
        X pixel size in micrometres, when the unit is a known length unit.
    path : Path
    level : int
        The multiscale level that was opened (0 for TIFF).
    ngff_version : str or None
        ``"0.4"`` / ``"0.5"`` for OME-Zarr input, ``None`` for TIFF.
    """

    array: Any
    axes: str
    scale: list[float]
    translation: list[float]
    units: dict[str, str] = field(default_factory=dict)
    pixel_size: float | None = None
    path: Path | None = None
    level: int = 0
    ngff_version: str | None = None


def is_zarr_path(path: str | PathLike[str]) -> bool:
    """True for a ``.zarr`` / ``.ome.zarr`` name (a folder store)."""
    return Path(path).name.lower().endswith(ZARR_SUFFIXES)


def open_lazy(path: str | PathLike[str], level: int = 0) -> LazyImage:
    """Open an OME-Zarr image or a TIFF lazily; see the module docstring.

    Raises
    ------
    InputError
        Missing path, unsupported type, not an OME-Zarr image, no multiscales metadata, a level
        that does not exist, unsupported axes.
    """
    p = Path(path)
    if not p.exists():
        raise InputError(p, "input not found")
    if is_zarr_path(p) or (p.is_dir() and any((p / n).exists() for n in (".zgroup", "zarr.json"))):
        return open_ome_zarr(p, level)
    if p.suffix.lower() in FORMATS.get("tiff").extensions:
        if level != 0:
            raise InputError(p, f"level {level} does not exist (TIFF input has level 0 only)")
        return open_tiff_lazy(p)
    raise InputError(p, "block-wise prediction reads OME-Zarr (.ome.zarr) or TIFF input")


def _pixel_size(axes: str, scale: list[float], units: dict[str, str]) -> float | None:
    factor = UNIT_UM.get(units.get("X", ""))
    if factor is None:
        return None
    return float(scale[axes.index("X")]) * factor


def _ome_node(p: Path) -> Any:
    """The ome-zarr-py image node at ``p``; :class:`InputError` when there is none."""
    from ome_zarr.io import parse_url
    from ome_zarr.reader import Multiscales, Reader

    try:
        location = parse_url(str(p), mode="r")
    except Exception as exc:  # zarr raises various errors on malformed metadata
        raise InputError(p, f"cannot open as Zarr ({one_line(exc)})") from None
    if location is None:
        raise InputError(p, "not a Zarr store (no .zgroup / zarr.json)")
    attrs = _raw_attrs(p)
    if any(k in attrs for k in ("plate", "well", "bioformats2raw.layout")):
        raise InputError(p, "not an image group (a plate, well or collection); open one image inside it")
    try:
        nodes = list(Reader(location)())
    except Exception as exc:
        raise InputError(p, f"cannot read OME-Zarr metadata ({one_line(exc)})") from None
    for node in nodes[:1]:
        if any(isinstance(s, Multiscales) for s in node.specs):
            return node
    raise InputError(p, "no multiscales metadata: not an OME-Zarr image")


def _raw_attrs(p: Path) -> dict[str, Any]:
    import zarr

    try:
        attrs = dict(zarr.open_group(str(p), mode="r").attrs)
    except Exception as exc:  # e.g. a Zarr array where a group should be
        raise InputError(p, f"not an image group ({one_line(exc)})") from None
    ome = attrs.get("ome", attrs)
    return dict(ome) if isinstance(ome, Mapping) else {}


def open_ome_zarr(path: str | PathLike[str], level: int = 0) -> LazyImage:
    """Open level ``level`` of an OME-Zarr image (NGFF 0.4 or 0.5) as a Dask array."""
    p = Path(path)
    node = _ome_node(p)
    meta = node.metadata
    levels = list(node.data)
    if not 0 <= level < len(levels):
        raise InputError(p, f"level {level} does not exist; the image has levels 0 to {len(levels) - 1}")
    axes_meta = meta.get("axes") or []
    names = [str(a["name"] if isinstance(a, dict) else a).upper() for a in axes_meta]
    array = levels[level]
    if not names:  # NGFF < 0.4 has no axes: TCZYX trailing
        names = list(NGFF_ORDER[-array.ndim :])
    axes = check_axes("".join(names), array.ndim, p)
    if axes.endswith("YXC") or [a for a in NGFF_ORDER if a in axes] != list(axes):
        raise InputError(p, f"axes {axes} are not in NGFF order (t, c, z, y, x)")
    units = {n: str(a["unit"]) for n, a in zip(names, axes_meta) if isinstance(a, dict) and a.get("unit")}
    scale, translation = [1.0] * array.ndim, [0.0] * array.ndim
    transforms = meta.get("coordinateTransformations") or []
    for t in transforms[level] if level < len(transforms) else []:
        if t.get("type") == "scale" and "scale" in t:
            scale = [float(v) for v in t["scale"]]
        elif t.get("type") == "translation" and "translation" in t:
            translation = [float(v) for v in t["translation"]]
    version = str(node.zarr.version) if getattr(node.zarr, "version", None) else None
    return LazyImage(
        array, axes, scale, translation, units, _pixel_size(axes, scale, units), p, level, version
    )


def open_tiff_lazy(path: str | PathLike[str]) -> LazyImage:
    """Open the first series of a TIFF through tifffile's Zarr interface (decoded on demand)."""
    p = Path(path)
    with tiff_warnings(p):
        return _open_tiff_lazy(p)


def _open_tiff_lazy(p: Path) -> LazyImage:
    import tifffile

    from microsr.io.tiff import map_axes, ome_pixel_size, tag_pixel_size

    try:
        with tifffile.TiffFile(p) as tif:
            check_chunks(p, tif.pages.first)
            series = tif.series[0]
            raw_axes = series.axes
            ij = dict(tif.imagej_metadata or {})
            px = ome_pixel_size(tif.ome_metadata) if tif.is_ome and tif.ome_metadata else None
            if px is None:
                px = tag_pixel_size(tif.pages[0], ij.get("unit"))
            array = tiff_pixels(p, tif, series)
    except InputError:
        raise
    except Exception as exc:
        raise InputError(p, f"cannot read TIFF: corrupt or truncated file ({one_line(exc)})") from None
    axes = check_axes(map_axes(raw_axes, p), array.ndim, p)
    if axes.endswith("YXC"):
        raise InputError(p, "colour (RGB) TIFFs are predicted in memory; leave out the .ome.zarr output")
    order = [axes.index(a) for a in NGFF_ORDER if a in axes]
    array = array.transpose(order)
    axes = "".join(axes[i] for i in order)
    scale = [1.0] * array.ndim
    units: dict[str, str] = {}
    if px is not None:
        scale[-2] = scale[-1] = float(px)
        units = {"Y": "micrometer", "X": "micrometer"}
    return LazyImage(array, axes, scale, [0.0] * array.ndim, units, px, p, 0, None)
