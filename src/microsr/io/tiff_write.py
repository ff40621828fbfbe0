"""ImageJ-compatible TIFF writing via tifffile: a whole array, or a stack plane by plane.

The ``microsr`` JSON entry of the ImageJ description carries the exact pixel size and any extra
metadata; :func:`microsr.io.tiff.read_tiff` reads both back.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import tifffile

from microsr.io.types import imagej_order

WIDEST_FLOAT = -1.7976931348623157e308  # repr() is 24 characters; no float's repr is longer


def _json_default(value: Any) -> Any:
    """numpy scalars/arrays and paths in metadata become plain JSON values."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"metadata value {value!r} of type {type(value).__name__} is not JSON-serialisable")


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
