"""TIFF reading (plain, ImageJ, OME) and ImageJ-compatible TIFF writing, via tifffile.

Reading takes the first image series. Axes come from ImageJ/OME metadata as reported by tifffile;
tifffile's generic stack letters (``I``, ``Q``) become ``Z`` (so a plain 3-D TIFF is ``"ZYX"``), and
samples (``S``, e.g. RGB) become ``C``. Pixel size (micrometres) comes, in this order of preference,
from OME ``PhysicalSizeX`` (+ unit), ImageJ's ``XResolution`` tag with the ``unit=`` entry of the
ImageJ description, or ``XResolution`` with ``ResolutionUnit`` = centimetre. TIFF stores resolution
as a rational number, so a pixel size may come back rounded in the 7th digit; files written here also
carry the exact value in the ``microsr`` JSON entry, which is used when it agrees with the tag.

tifffile reads truncated multi-page files partially and only logs a warning; we capture those log
records and treat them as corruption so that a cut-off download is never analysed as half an image.
"""

from __future__ import annotations

import json
import logging
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import tifffile

from microsr.errors import InputError
from microsr.io.guard import check_pixels
from microsr.io.types import ImageData, imagej_order, one_line

_UNIT_TO_UM = {
    "micron": 1.0,
    "microns": 1.0,
    "um": 1.0,
    "\u00b5m": 1.0,
    "\u03bcm": 1.0,
    "\\u00b5m": 1.0,
    "nm": 1e-3,
    "nanometer": 1e-3,
    "mm": 1e3,
    "cm": 1e4,
    "m": 1e6,
    "\u00c5": 1e-4,
    "a": 1e-4,
    "angstrom": 1e-4,
}
WIDEST_FLOAT = -1.7976931348623157e308  # repr() is 24 characters; no float's repr is longer
# tifffile log messages that mean pixel data or pages are missing (metadata-only complaints about
# vendor tags, LSM/Micro-Manager blocks etc. are ignored: the pixels are still complete).
_CORRUPT_PHRASES = (
    "page offset",
    "corrupted file",
    "corrupted tag list",
    "invalid next page",
    "missing data",
    "bytes, got",
    "frames, got",
    "is missing",
    "returning subset",
    "segments, got",
)


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _json_default(value: Any) -> Any:
    """numpy scalars/arrays and paths in metadata become plain JSON values."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"metadata value {value!r} of type {type(value).__name__} is not JSON-serialisable")


def _unit_factor(unit: str | None) -> float | None:
    if not unit:
        return None
    return _UNIT_TO_UM.get(str(unit).strip().lower())


def _ome_pixel_size(xml: str) -> float | None:
    try:
        root = ET.fromstring(xml)
    except ET.ParseError:
        return None
    for el in root.iter():
        if el.tag.rsplit("}", 1)[-1] == "Pixels" and "PhysicalSizeX" in el.attrib:
            factor = _unit_factor(el.attrib.get("PhysicalSizeXUnit", "\u00b5m"))
            try:
                return float(el.attrib["PhysicalSizeX"]) * factor if factor else None
            except ValueError:
                return None
    return None


def _tag_pixel_size(page: Any, ij_unit: str | None) -> float | None:
    tag = page.tags.get("XResolution")
    if tag is None:
        return None
    num, den = tag.value
    if not num or not den:
        return None
    per_unit = num / den
    factor = _unit_factor(ij_unit)
    if factor is None:
        unit_tag = page.tags.get("ResolutionUnit")
        if unit_tag is None or int(unit_tag.value) != 3:  # 3 = centimetre; inch (2) is DPI, not a scale
            return None
        factor = 1e4
    return factor / per_unit


def _map_axes(axes: str, path: Path) -> str:
    unnamed = sum(a in "IQ" for a in axes.upper())
    if unnamed > 2:
        raise InputError(
            path,
            f"TIFF has {unnamed} unnamed stack dimensions (axes {axes!r}) and microsr can name at most "
            "2 (Z, T); save it as an ImageJ hyperstack or OME-TIFF that names its axes (TZCYX)",
        )
    out = []
    for a in axes.upper():
        if a == "S":
            a = "C"
        elif a in "IQ":
            a = "T" if "Z" in axes.upper() or "Z" in out else "Z"
        if a not in "TZCYX":
            raise InputError(path, f"unsupported TIFF dimension {a!r} in axes {axes!r}")
        out.append(a)
    return "".join(out)


def read_tiff(path: Path) -> ImageData:
    """Read the first series of a TIFF file; see the module docstring for axes and pixel size."""
    capture = _Capture()
    logger = logging.getLogger("tifffile")
    logger.addHandler(capture)
    try:
        with tifffile.TiffFile(path) as tif:
            series = tif.series[0]
            check_pixels(path, series.shape, series.dtype)  # before decoding: compression bombs
            array = series.asarray()
            raw_axes = series.axes
            page = tif.pages.first if hasattr(tif.pages, "first") else tif.pages[0]
            ij = dict(tif.imagej_metadata or {})
            ome = tif.ome_metadata if tif.is_ome else None
            n_series = len(tif.series)
    except InputError:
        raise
    except Exception as exc:  # tifffile, imagecodecs and OS errors all mean "cannot use this file"
        raise InputError(path, f"cannot read TIFF: corrupt or truncated file ({one_line(exc)})") from exc
    finally:
        logger.removeHandler(capture)
    bad = [m for m in capture.messages if any(w in m.lower() for w in _CORRUPT_PHRASES)]
    if bad:
        raise InputError(
            path, f"cannot read TIFF: corrupt or truncated file ({' '.join(bad[0].split())[:160]})"
        )
    axes = _map_axes(raw_axes, path)
    extra: dict[str, Any] = {}
    if isinstance(ij.get("microsr"), str):
        try:
            extra = json.loads(ij["microsr"])
        except json.JSONDecodeError:
            extra = {}
    pixel_size = _ome_pixel_size(ome) if ome else None
    if pixel_size is None:
        pixel_size = _tag_pixel_size(page, ij.get("unit"))
    exact = extra.get("pixel_size_um") if isinstance(extra, dict) else None
    if pixel_size is not None and isinstance(exact, (int, float)) and abs(exact - pixel_size) <= 1e-5 * exact:
        pixel_size = float(exact)
    metadata: dict[str, Any] = {"format": "tiff", "series": n_series, "tiff_axes": raw_axes}
    if ij:
        metadata["imagej"] = {k: v for k, v in ij.items() if isinstance(v, (str, int, float, bool))}
    if ome:
        metadata["ome"] = True
    if extra:
        metadata["microsr"] = extra
    return ImageData(np.asarray(array), axes, pixel_size, path, metadata)


def _imagej_metadata(
    axes: str,
    dtype: np.dtype,
    pixel_size: float | None,
    metadata: dict[str, Any],
    value_range: tuple[float, float] | None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """ImageJ description entries and ``tifffile.write`` keywords shared by both TIFF writers.

    ``value_range`` (min, max) becomes ImageJ's display range (not for uint8 or RGB data).
    """
    rgb = axes.endswith("YXC")
    ij_meta: dict[str, Any] = {"axes": axes[:-1] + "S" if rgb else axes}
    kwargs: dict[str, Any] = {}
    extra = dict(metadata)
    if pixel_size is not None:
        ij_meta["unit"] = "um"
        kwargs["resolution"] = (1.0 / pixel_size, 1.0 / pixel_size)
        extra["pixel_size_um"] = float(pixel_size)
    if value_range is not None and dtype != np.uint8 and not rgb:
        ij_meta["min"], ij_meta["max"] = value_range  # ImageJ display range
    if extra:
        ij_meta["microsr"] = json.dumps(extra, separators=(",", ":"), default=_json_default)
    return ij_meta, kwargs


def write_tiff_image(
    tmp: Path, array: np.ndarray, axes: str, pixel_size: float | None, metadata: dict[str, Any]
) -> None:
    """Write any image as ImageJ TIFF: axes reordered to T, Z, C, Y, X (8-bit YXC RGB stays RGB)."""
    if axes.endswith("YXC") and array.dtype == np.uint8 and array.shape[-1] == 3:
        lead = axes[:-3]
        order = imagej_order(lead)
        array = np.transpose(array, order + [len(lead), len(lead) + 1, len(lead) + 2])
        axes = "".join(lead[i] for i in order) + "YXC"
    else:
        order = imagej_order(axes)
        array, axes = np.transpose(array, order), "".join(axes[i] for i in order)
    write_tiff(tmp, array, axes, pixel_size, dict(metadata))


def write_tiff(
    tmp: Path, array: np.ndarray, axes: str, pixel_size: float | None, metadata: dict[str, Any]
) -> None:
    """Write an ImageJ-compatible TIFF (uint8, uint16 or float32) to ``tmp``.

    Parameters
    ----------
    tmp : Path
        Destination (a temporary name; the caller renames it).
    array : np.ndarray
        Data in uint8, uint16 or float32, axes already in ImageJ order (``TZCYX`` subset) or
        ``"YXC"`` uint8 RGB with 3 samples.
    axes : str
        Axes of ``array``.
    pixel_size : float or None
        Micrometres per pixel, stored as ``XResolution``/``YResolution`` with ``unit=um``.
    metadata : dict
        JSON-serialisable extras, stored in the ImageJ description under ``microsr``.
    """
    rgb = axes.endswith("YXC")
    value_range = None if array.dtype == np.uint8 or rgb else (float(array.min()), float(array.max()))
    ij_meta, kwargs = _imagej_metadata(axes, array.dtype, pixel_size, metadata, value_range)
    tifffile.imwrite(
        tmp, array, imagej=True, photometric="rgb" if rgb else "minisblack", metadata=ij_meta, **kwargs
    )


def _widened(value: Any) -> Any:
    """``value`` with every float replaced by the float with the longest ``repr`` (24 characters)."""
    if isinstance(value, dict):
        return {k: _widened(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_widened(v) for v in value]
    return WIDEST_FLOAT if isinstance(value, (float, np.floating)) else value


def write_tiff_planes(
    tmp: Path,
    planes: Iterable[np.ndarray],
    shape: tuple[int, ...],
    axes: str,
    dtype: np.dtype,
    pixel_size: float | None,
    metadata: dict[str, Any] | Callable[[], dict[str, Any]],
    reserve: dict[str, Any] | None = None,
) -> None:
    """Write an ImageJ-compatible TIFF from planes produced one at a time (no whole-stack array).

    The file reads back as :func:`write_tiff` of the assembled array does. The ImageJ
    description (display range, ``microsr`` entry) is known only after the last plane, so it is
    first written with room to spare (from ``reserve``, every float at its longest, and the
    widest display range) and then replaced in place with tifffile's
    ``TiffWriter.overwrite_description``. In place matters: an ImageJ TIFF is a classic TIFF
    even above 4 GB (tifffile then writes only the first page's IFD), and a tag value appended
    past 4 GB could not be addressed. tifffile consumes ``planes`` while writing the pixel data,
    so one plane is held at a time.

    Parameters
    ----------
    tmp : Path
        Destination (a temporary name; the caller renames it).
    planes : iterable of np.ndarray
        The stack in C order, in consecutive pieces of shape ``shape[k:]`` (``k`` fixed,
        ``k <= len(shape) - 2``), dtype ``dtype``.
    shape : tuple of int
        Shape of the whole stack, axes in ImageJ order.
    axes : str
        Axes of the stack in ImageJ order, a subset of ``TZCYX`` ending in ``YX``.
    dtype : np.dtype
        uint8, uint16 or float32.
    pixel_size : float or None
        As for :func:`write_tiff`.
    metadata : dict or callable
        As for :func:`write_tiff`; a callable is called once, after the last plane.
    reserve : dict or None
        The final metadata's shape: same keys, strings and list lengths, any numbers. ``None``:
        ``metadata`` if it is a dict, else no room beyond tifffile's own 64 bytes (a longer final
        description is then appended to the file, which fails for files over 4 GB).

    Raises
    ------
    ValueError
        A plane of the wrong shape or dtype, or the wrong number of planes.
    """
    dtype = np.dtype(dtype)
    lo, hi = np.inf, -np.inf

    def checked() -> Iterator[np.ndarray]:
        nonlocal lo, hi
        for plane in planes:
            plane = np.asarray(plane)
            if plane.dtype != dtype or plane.ndim < 2 or plane.shape != tuple(shape[-plane.ndim :]):
                raise ValueError(
                    f"plane of shape {plane.shape} and dtype {plane.dtype} does not fit a "
                    f"{dtype} stack of shape {tuple(shape)}"
                )
            lo, hi = min(lo, float(plane.min())), max(hi, float(plane.max()))
            yield plane
            del plane  # do not hold it while the next one is made

    if reserve is None and not callable(metadata):
        reserve = metadata
    room = _widened(dict(reserve or {}))
    ij_meta, kwargs = _imagej_metadata(axes, dtype, pixel_size, room, (WIDEST_FLOAT, WIDEST_FLOAT))
    with tifffile.TiffWriter(tmp, imagej=True) as tif:
        tif.write(
            checked(), shape=tuple(shape), dtype=dtype, photometric="minisblack", metadata=ij_meta, **kwargs
        )
        extra = metadata() if callable(metadata) else metadata
        ij_meta, _ = _imagej_metadata(axes, dtype, pixel_size, dict(extra or {}), (lo, hi))
        tif.overwrite_description(
            tifffile.imagej_description(tuple(shape), rgb=False, colormapped=False, **ij_meta)
        )
