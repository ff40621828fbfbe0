"""Reading images: :func:`read_image` picks the format from the table in :mod:`microsr.io.formats`.

The container and the checks live in :mod:`microsr.io.types` (re-exported here); the axes
convention is described there.
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path

import numpy as np

from microsr.errors import InputError
from microsr.io.formats import FORMATS, SUPPORTED_EXTENSIONS, format_of
from microsr.io.types import (
    AXIS_ORDER,
    ImageData,
    check_array,
    check_axes,
    check_finite,
    check_float_range,
    one_line,
)

__all__ = [
    "AXIS_ORDER",
    "FORMATS",
    "SUPPORTED_EXTENSIONS",
    "ImageData",
    "check_array",
    "check_axes",
    "check_finite",
    "check_float_range",
    "list_images",
    "one_line",
    "read_image",
]


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
    fmt = format_of(p)
    if p.stat().st_size == 0:
        raise InputError(p, "empty file (0 bytes)")
    image = fmt.read(p)
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
