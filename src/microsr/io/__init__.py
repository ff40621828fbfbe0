"""Image input/output for microscopy data (no torch).

Reads TIFF (plain, ImageJ, OME), PNG, JPEG and MRC into :class:`ImageData` (native dtype, explicit
axes, pixel size in micrometres); writes ImageJ-compatible TIFF, PNG or MRC atomically. See
``docs/io.md`` for the user-facing description of formats, axes and bit-depth policy. The formats
are a table (:mod:`microsr.io.formats`); the container and checks live in :mod:`microsr.io.types`.
"""

from microsr.io._atomic import atomic_path, write_text_atomic
from microsr.io.dtype import storable_dtype, to_dtype, to_output_dtype
from microsr.io.formats import FORMATS, SUPPORTED_EXTENSIONS, ImageFormat
from microsr.io.image import list_images, read_image
from microsr.io.types import ImageData, check_axes, check_finite, imagej_order
from microsr.io.write import write_image, write_tiff_stack

__all__ = [
    "ImageData",
    "read_image",
    "write_image",
    "write_tiff_stack",
    "imagej_order",
    "list_images",
    "check_finite",
    "check_axes",
    "to_dtype",
    "to_output_dtype",
    "storable_dtype",
    "atomic_path",
    "write_text_atomic",
    "SUPPORTED_EXTENSIONS",
    "FORMATS",
    "ImageFormat",
]
