"""PNG and JPEG via Pillow (already a dependency; imageio would only add a layer over it).

Grayscale PNG/JPEG are read as ``"YX"`` in their own bit depth (8 or 16 bit; 16-bit PNGs that
Pillow opens in 32-bit mode ``"I"`` are brought back to uint16 when the values fit). Colour images
are ``"YXC"`` uint8 with 3 (RGB) or 4 (RGBA) samples last; palette images are expanded to RGB(A);
an alpha channel that is fully opaque is dropped. PNG stores no physical pixel size we trust
(``pHYs`` is usually screen DPI), so ``pixel_size`` is ``None``.

Only PNG is written: JPEG is lossy and would silently change intensities.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from microsr.errors import InputError
from microsr.io.image import ImageData, one_line


def read_raster(path: Path) -> ImageData:
    """Read a PNG or JPEG file (see module docstring for axes and dtypes)."""
    try:
        with Image.open(path) as im:
            im.load()
            mode = im.mode
            if mode == "P":
                im = im.convert("RGBA" if "transparency" in im.info else "RGB")
            elif mode == "1":
                im = im.convert("L")
            elif mode in ("CMYK", "YCbCr", "LAB", "HSV"):
                im = im.convert("RGB")
            array = np.array(im)
            mode = im.mode
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise InputError(path, f"cannot read image: corrupt or truncated file ({one_line(exc)})") from exc
    if mode == "I" and array.size and array.min() >= 0 and array.max() <= 65535:
        array = array.astype(np.uint16)
    if array.ndim == 3:
        if array.shape[-1] in (2, 4) and np.all(array[..., -1] == np.iinfo(array.dtype).max):
            array = array[..., :-1]
        if array.shape[-1] == 1:
            array = array[..., 0]
    axes = "YX" if array.ndim == 2 else "YXC"
    fmt = "png" if path.suffix.lower() == ".png" else "jpeg"
    return ImageData(array, axes, None, path, {"format": fmt, "mode": mode})


def write_png(tmp: Path, array: np.ndarray, axes: str) -> None:
    """Write a lossless PNG: ``"YX"`` uint8/uint16, or ``"YXC"`` uint8 with 3 or 4 samples.

    Raises
    ------
    InputError
        If the data cannot be stored in a PNG without loss (other dtypes, stacks).
    """
    if axes == "YX" and array.dtype in (np.uint8, np.uint16):
        im = Image.fromarray(np.ascontiguousarray(array))
    elif axes == "YXC" and array.dtype == np.uint8 and array.shape[-1] in (3, 4):
        im = Image.fromarray(np.ascontiguousarray(array))
    else:
        raise InputError(tmp.name.split(".tmp")[0].lstrip(".") + tmp.suffix,
                         f"PNG can hold only 2-D 8/16-bit grayscale or 8-bit RGB(A), not {axes} {array.dtype};"
                         " write a .tif instead")
    im.save(tmp, format="PNG")
