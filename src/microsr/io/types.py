"""The image container and the input checks shared by every reader and writer.

Axes convention
---------------
``ImageData.axes`` names every array dimension with letters from ``T`` (time), ``Z`` (depth),
``C`` (channel), ``Y``, ``X``, in the order of the array. Stacks from microscopes put channels before
Y and X (``"CYX"``, ``"ZCYX"``); colour (RGB/RGBA) images from PNG/JPEG or RGB TIFFs keep the
samples last (``"YXC"``), exactly as they are stored, so pixel values are never reordered on read.
A plain 3-D TIFF without ImageJ/OME metadata is read as ``"ZYX"`` (a z-stack); an MRC image stack
(space group 0, e.g. BioSR raw SIM frames) as ``"TYX"`` and an MRC volume as ``"ZYX"``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from microsr.errors import InputError

AXIS_ORDER = "TZCYX"


@dataclass
class ImageData:
    """An image as read from disk.

    Attributes
    ----------
    array : np.ndarray
        Pixel values in the file's own dtype (uint8, uint16, int16, uint32, float32, ...); never
        rescaled or converted to 8 bit. Shape matches ``axes``, e.g. (Z, Y, X) for ``"ZYX"``.
    axes : str
        One letter per array dimension from ``TZCYX`` (see module docstring); ends in ``YX`` or
        ``YXC``.
    pixel_size : float or None
        Pixel size in X/Y in micrometres, or ``None`` when the file does not record one.
    path : Path or None
        The file it was read from.
    metadata : dict
        Format-specific extras, e.g. ``{"format": "tiff", "imagej": {...}, "microsr": {...}}``.
    """

    array: np.ndarray
    axes: str
    pixel_size: float | None = None
    path: Path | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of :attr:`array`."""
        return tuple(self.array.shape)


def check_axes(axes: str, ndim: int, path: str | PathLike[str] | None) -> str:
    """Validate an axes string for an array of ``ndim`` dimensions; returns it upper-cased.

    Raises
    ------
    InputError
        If letters repeat, are not from ``TZCYX``, do not match ``ndim`` or do not end in ``YX``
        / ``YXC``.
    """
    axes = axes.upper()
    if len(axes) != ndim:
        raise InputError(path, f"axes {axes!r} do not match a {ndim}-D image")
    if len(set(axes)) != len(axes) or any(a not in AXIS_ORDER for a in axes):
        raise InputError(path, f"unsupported axes {axes!r}; use letters from T, Z, C, Y, X once each")
    if not (axes.endswith("YX") or axes.endswith("YXC")):
        raise InputError(path, f"unsupported axes {axes!r}; images must end in YX (or YXC for colour)")
    return axes


def check_finite(array: np.ndarray, path: str | PathLike[str] | None) -> np.ndarray:
    """Raise :class:`InputError` if ``array`` holds NaN or infinite values; returns it unchanged.

    Integer arrays are always finite and pass without a scan.
    """
    if np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.complexfloating):
        bad = array.size - int(np.count_nonzero(np.isfinite(array)))
        if bad:
            n_nan = int(np.count_nonzero(np.isnan(array)))
            raise InputError(path, f"image contains {n_nan} NaN and {bad - n_nan} infinite values")
    return array


FLOAT32_MAX = float(np.finfo(np.float32).max)


def check_float_range(array: np.ndarray, path: str | PathLike[str] | None) -> np.ndarray:
    """Refuse float64 values beyond float32's range (about 3.4e38), which microsr computes in.

    Such values (e.g. 1e300) would overflow to infinity in the first float32 copy or in squared
    errors. ``array`` must be finite (:func:`check_finite`); it is returned unchanged.
    """
    if array.dtype.kind == "f" and array.dtype.itemsize > 4 and array.size:
        top = max(abs(float(array.max())), abs(float(array.min())))
        if top > FLOAT32_MAX:
            raise InputError(
                path,
                f"values up to {top:.3g} exceed the 32-bit float range (3.4e38) microsr computes "
                "in; rescale the image (e.g. divide by its maximum) first",
            )
    return array


def check_array(array: np.ndarray, path: str | PathLike[str] | None) -> np.ndarray:
    """Reject empty images, complex or object data and fewer than 2 dimensions."""
    if array.size == 0 or 0 in array.shape:
        raise InputError(path, f"empty image (shape {tuple(array.shape)})")
    if array.ndim < 2:
        raise InputError(path, f"unsupported {array.ndim}-D data; an image needs at least Y and X")
    if array.dtype.kind not in "buif":
        raise InputError(path, f"unsupported pixel type {array.dtype}")
    return array


def one_line(exc: BaseException) -> str:
    """An exception as one short line, for wrapping library errors into :class:`InputError`."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200]


def imagej_order(axes: str) -> list[int]:
    """Permutation of ``axes`` (letters from ``TZCYX``) into ImageJ's T, Z, C, Y, X order.

    ``np.transpose(array, imagej_order(axes))`` is how TIFF output is laid out; e.g.
    ``imagej_order("CZYX") == [1, 0, 2, 3]``.
    """
    return sorted(range(len(axes)), key=lambda i: AXIS_ORDER.index(axes[i]))
