"""PNG and JPEG via Pillow (already a dependency; imageio would only add a layer over it).

Grayscale PNG/JPEG are read as ``"YX"`` in their own bit depth (8 or 16 bit; 16-bit PNGs that
Pillow opens in 32-bit mode ``"I"`` are brought back to uint16 when the values fit). Colour images
are ``"YXC"`` with 3 (RGB) or 4 (RGBA) samples last; palette images are expanded to RGB(A); an alpha
channel that is fully opaque is dropped. Pillow silently reduces 16-bit colour PNGs to 8 bit, so
those (bit depth 16, colour type 2 or 6 in the PNG header) are decoded and encoded with imagecodecs
instead, keeping uint16. PNG stores no physical pixel size we trust
(``pHYs`` is usually screen DPI), so ``pixel_size`` is ``None``.

Only PNG is written: JPEG is lossy and would silently change intensities.
"""

from __future__ import annotations

from pathlib import Path

import imagecodecs
import numpy as np
from PIL import Image, UnidentifiedImageError

from microsr.errors import InputError
from microsr.io.guard import check_pixels
from microsr.io.types import ImageData, one_line


def _is_16bit_colour_png(path: Path) -> bool:
    with open(path, "rb") as fh:
        head = fh.read(26)
    return (
        head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR" and head[24] == 16 and head[25] in (2, 6)
    )


def read_raster(path: Path) -> ImageData:
    """Read a PNG or JPEG file (see module docstring for axes and dtypes).

    The size in the header is checked against :func:`microsr.io.guard.max_pixels` before the
    pixels are decoded; that check replaces Pillow's own ``MAX_IMAGE_PIXELS`` (a fixed 89 MP
    warning and 179 MP error, below a legitimate 14000 x 13000 mosaic), which is lifted during
    the read.
    """
    limit, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
    try:
        return _read_raster(path)
    finally:
        Image.MAX_IMAGE_PIXELS = limit


def _read_raster(path: Path) -> ImageData:
    try:
        if path.suffix.lower() == ".png" and _is_16bit_colour_png(path):
            head = path.read_bytes()[:26]
            width, height = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
            check_pixels(path, (height, width, 4 if head[25] == 6 else 3), np.uint16)
            array = imagecodecs.png_decode(path.read_bytes())
            return ImageData(
                _drop_opaque_alpha(array), "YXC", None, path, {"format": "png", "mode": "RGB;16"}
            )
        with Image.open(path) as opened:
            im: Image.Image = opened
            bands = len(im.getbands())
            check_pixels(path, (im.size[1], im.size[0], bands) if bands > 1 else im.size[::-1], np.uint8)
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
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        IndexError,
        imagecodecs.PngError,
        Image.DecompressionBombError,
    ) as exc:
        raise InputError(path, f"cannot read image: corrupt or truncated file ({one_line(exc)})") from exc
    if mode == "I" and array.size and array.min() >= 0 and array.max() <= 65535:
        array = array.astype(np.uint16)
    array = _drop_opaque_alpha(array)
    axes = "YX" if array.ndim == 2 else "YXC"
    fmt = "png" if path.suffix.lower() == ".png" else "jpeg"
    return ImageData(array, axes, None, path, {"format": fmt, "mode": mode})


def _drop_opaque_alpha(array: np.ndarray) -> np.ndarray:
    if array.ndim == 3:
        if array.shape[-1] in (2, 4) and np.all(array[..., -1] == np.iinfo(array.dtype).max):
            array = array[..., :-1]
        if array.shape[-1] == 1:
            array = array[..., 0]
    return array


def write_png(
    tmp: Path, array: np.ndarray, axes: str, pixel_size: float | None = None, metadata=None
) -> None:
    """Write a lossless PNG: ``"YX"`` uint8/uint16, or ``"YXC"`` uint8/uint16 with 3 or 4 samples.

    PNG has no place for the pixel size or microsr's metadata; both are dropped.

    Raises
    ------
    InputError
        If the data cannot be stored in a PNG without loss (other dtypes, stacks).
    """
    if axes == "YX" and array.dtype in (np.uint8, np.uint16):
        im = Image.fromarray(np.ascontiguousarray(array))
    elif axes == "YXC" and array.dtype == np.uint8 and array.shape[-1] in (3, 4):
        im = Image.fromarray(np.ascontiguousarray(array))
    elif axes == "YXC" and array.dtype == np.uint16 and array.shape[-1] in (3, 4):
        tmp.write_bytes(imagecodecs.png_encode(np.ascontiguousarray(array)))
        return
    else:
        raise InputError(
            tmp.name.split(".tmp")[0].lstrip(".") + tmp.suffix,
            f"PNG can hold only 2-D 8/16-bit grayscale or RGB(A), not {axes} {array.dtype};"
            " write a .tif instead",
        )
    im.save(tmp, format="PNG")
