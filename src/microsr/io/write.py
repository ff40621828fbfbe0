"""``write_image``: atomic, lossless, ImageJ-compatible output."""

from __future__ import annotations

from collections.abc import Iterable
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from microsr.errors import InputError
from microsr.io._atomic import atomic_path, check_not_protected
from microsr.io.dtype import storable_dtype, to_dtype
from microsr.io.image import (
    AXIS_ORDER, MRC_EXTENSIONS, TIFF_EXTENSIONS, check_array, check_axes, check_finite,
)


def _imagej_order(array: np.ndarray, axes: str) -> tuple[np.ndarray, str]:
    """Reorder to ImageJ's T, Z, C, Y, X order; 8-bit YXC with 3 samples stays RGB."""
    if axes.endswith("YXC") and array.dtype == np.uint8 and array.shape[-1] == 3:
        lead = axes[:-3]
        order = sorted(range(len(lead)), key=lambda i: AXIS_ORDER.index(lead[i]))
        return np.transpose(array, order + [len(lead), len(lead) + 1, len(lead) + 2]), \
            "".join(lead[i] for i in order) + "YXC"
    order = sorted(range(len(axes)), key=lambda i: AXIS_ORDER.index(axes[i]))
    return np.transpose(array, order), "".join(axes[i] for i in order)


def write_image(path: str | PathLike[str], array: np.ndarray, axes: str = "YX",
                pixel_size: float | None = None, *, dtype: Any = None,
                metadata: dict[str, Any] | None = None,
                protect: Iterable[str | PathLike[str]] = ()) -> Path:
    """Write an image atomically; the format follows the extension (.tif/.tiff, .png, .mrc).

    Parameters
    ----------
    path : path-like
        Output file. Parent folders are created. The file appears only when complete.
    array : np.ndarray
        Pixel values, shape matching ``axes``.
    axes : str
        Letters from ``TZCYX`` (``"YXC"`` for colour). TIFF axes are reordered to ImageJ's
        T, Z, C, Y, X order (an 8-bit ``"YXC"`` RGB image stays RGB; other ``YXC`` become ``CYX``).
    pixel_size : float or None
        Micrometres per pixel in X/Y (for an SR output: input pixel size / scale). Stored as TIFF
        resolution with unit ``um`` or as MRC voxel size (Å). PNG cannot carry it.
    dtype : dtype-like or None
        ``uint8``, ``uint16`` or ``float32``: values are rounded and clipped with
        :func:`~microsr.io.dtype.to_dtype`. ``None`` keeps the values exactly
        (:func:`~microsr.io.dtype.storable_dtype`).
    metadata : dict or None
        JSON-serialisable extras (e.g. ``{"intensity_mapping": {"offset": 0, "scale": 65535}}``),
        stored in the TIFF's ImageJ description under ``microsr`` and returned on read.
    protect : iterable of path-like
        Input files that must not be overwritten; writing onto one raises :class:`InputError`.

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    InputError
        Unsupported extension, NaN/Inf values, data the format cannot hold, protected path.
    """
    target = check_not_protected(path, protect)
    ext = target.suffix.lower()
    if ext not in TIFF_EXTENSIONS + (".png",) + MRC_EXTENSIONS:
        hint = " (JPEG is lossy)" if ext in (".jpg", ".jpeg") else ""
        raise InputError(target, f"cannot write {target.suffix!r} files{hint}; use .tif, .png or .mrc")
    a = check_array(np.asarray(array), target)
    axes = check_axes(axes, a.ndim, target)
    check_finite(a, target)
    try:
        a = to_dtype(a, dtype) if dtype is not None else (a if ext in MRC_EXTENSIONS and a.dtype == np.int16
                                                          else storable_dtype(a))
    except ValueError as exc:
        raise InputError(target, str(exc)) from exc
    if pixel_size is not None and not (np.isfinite(pixel_size) and pixel_size > 0):
        raise InputError(target, f"pixel size must be a positive number of micrometres, not {pixel_size}")
    with atomic_path(target, protect) as tmp:
        if ext in TIFF_EXTENSIONS:
            from microsr.io.tiff import write_tiff

            a, axes = _imagej_order(a, axes)
            write_tiff(tmp, a, axes, pixel_size, dict(metadata or {}))
        elif ext == ".png":
            from microsr.io.raster import write_png

            write_png(tmp, a, axes)
        else:
            from microsr.io.mrc import write_mrc

            write_mrc(tmp, a, axes, pixel_size)
    return target
