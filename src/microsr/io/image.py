"""The image container, format dispatch and input checks shared by all readers.

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

TIFF_EXTENSIONS = (".tif", ".tiff")
RASTER_EXTENSIONS = (".png", ".jpg", ".jpeg")
MRC_EXTENSIONS = (".mrc",)
SUPPORTED_EXTENSIONS = TIFF_EXTENSIONS + RASTER_EXTENSIONS + MRC_EXTENSIONS
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


def read_image(path: str | PathLike[str], *, allow_nonfinite: bool = False) -> ImageData:
    """Read a microscopy image (TIFF incl. ImageJ/OME, PNG, JPEG, MRC).

    Parameters
    ----------
    path : path-like
        The file. The format is chosen by extension (case-insensitive).
    allow_nonfinite : bool
        If False (default), float images containing NaN or Inf raise :class:`InputError`.

    Returns
    -------
    ImageData
        Native dtype, explicit axes, pixel size in micrometres (or None).

    Raises
    ------
    InputError
        Missing file, unsupported extension, unreadable/corrupt/truncated file, empty image,
        unsupported dimensions, NaN/Inf values.
    """
    p = Path(path)
    if not p.exists():
        raise InputError(p, "file not found")
    if not p.is_file():
        raise InputError(p, "not a file")
    ext = p.suffix.lower()
    if ext in TIFF_EXTENSIONS:
        from microsr.io.tiff import read_tiff as reader
    elif ext in RASTER_EXTENSIONS:
        from microsr.io.raster import read_raster as reader
    elif ext in MRC_EXTENSIONS:
        from microsr.io.mrc import read_mrc as reader
    else:
        raise InputError(p, f"unsupported file type {p.suffix!r}; use {', '.join(SUPPORTED_EXTENSIONS)}")
    if p.stat().st_size == 0:
        raise InputError(p, "empty file (0 bytes)")
    image = reader(p)
    check_array(image.array, p)
    image.axes = check_axes(image.axes, image.array.ndim, p)
    if image.pixel_size is not None and not (np.isfinite(image.pixel_size) and image.pixel_size > 0):
        image.pixel_size = None
    if not allow_nonfinite:
        check_finite(image.array, p)
        check_float_range(image.array, p)
    image.path = p
    return image


def list_images(folder: str | PathLike[str]) -> list[Path]:
    """Sorted image files (supported extensions only, hidden files skipped) directly in ``folder``.

    Raises
    ------
    InputError
        If the folder does not exist, is not a folder or holds no supported image.
    """
    d = Path(folder)
    if not d.exists():
        raise InputError(d, "folder not found")
    if not d.is_dir():
        raise InputError(d, "not a folder")
    files = sorted(
        f
        for f in d.iterdir()
        if f.is_file() and not f.name.startswith(".") and f.suffix.lower() in SUPPORTED_EXTENSIONS
    )
    if not files:
        raise InputError(d, f"no images found (looked for {', '.join(SUPPORTED_EXTENSIONS)})")
    return files


def one_line(exc: BaseException) -> str:
    """An exception as one short line, for wrapping library errors into :class:`InputError`."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200]
