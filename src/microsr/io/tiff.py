"""TIFF reading (plain, ImageJ, OME), via tifffile; writing is in :mod:`microsr.io.tiff_write`.

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
from pathlib import Path
from typing import Any

import numpy as np
import tifffile

from microsr.errors import InputError
from microsr.io.guard import check_pixels
from microsr.io.types import ImageData, one_line

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


def _unit_factor(unit: str | None) -> float | None:
    if not unit:
        return None
    return _UNIT_TO_UM.get(str(unit).strip().lower())


def ome_pixel_size(xml: str) -> float | None:
    """Micrometres per pixel from OME-XML ``PhysicalSizeX`` (and its unit), or ``None``."""
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


def tag_pixel_size(page: Any, ij_unit: str | None) -> float | None:
    """Micrometres per pixel from a page's ``XResolution`` (ImageJ unit, or centimetres), or ``None``."""
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


def map_axes(axes: str, path: Path) -> str:
    """tifffile's axes as microsr's ``TZCYX`` letters (``I``/``Q`` become ``Z``/``T``, ``S`` becomes ``C``)."""
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
    axes = map_axes(raw_axes, path)
    extra: dict[str, Any] = {}
    if isinstance(ij.get("microsr"), str):
        try:
            extra = json.loads(ij["microsr"])
        except json.JSONDecodeError:
            extra = {}
    pixel_size = ome_pixel_size(ome) if ome else None
    if pixel_size is None:
        pixel_size = tag_pixel_size(page, ij.get("unit"))
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
