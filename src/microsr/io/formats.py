"""The table of image formats: which extensions, which reader, which writer.

Each :class:`ImageFormat` names its reader and writer as ``"module:function"`` and imports them on
first use, so reading a PNG never imports tifffile or mrcfile. Readers take a path and return an
:class:`~microsr.io.types.ImageData`; writers take ``(tmp_path, array, axes, pixel_size, metadata)``
and write the file (a format that cannot hold the pixel size or metadata ignores them, as PNG
does). To add a format, write its module under ``microsr/io/`` and register it here; the tests in
``tests/io/test_formats.py`` run every registered format through a round trip.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import Any

from microsr.errors import InputError
from microsr.registry import Registry


def _load(target: str) -> Callable[..., Any]:
    module, _, name = target.partition(":")
    return getattr(import_module(module), name)


@dataclass(frozen=True)
class ImageFormat:
    """One file format.

    Attributes
    ----------
    name : str
        Registry name (``"tiff"``).
    extensions : tuple of str
        Lower-case file extensions with the dot.
    reader : str
        ``"module:function"`` of ``read(path) -> ImageData``.
    writer : str or None
        ``"module:function"`` of ``write(tmp, array, axes, pixel_size, metadata)``, ``None`` when
        microsr does not write the format.
    why_not_written : str
        Said when asked to write a format with no writer (``"JPEG is lossy"``).
    keeps_int16 : bool
        The format stores int16 as is (MRC mode 1) instead of widening it.
    """

    name: str
    extensions: tuple[str, ...]
    reader: str
    writer: str | None = None
    why_not_written: str = ""
    keeps_int16: bool = False

    def read(self, path: Path):
        return _load(self.reader)(path)

    def write(self, tmp: Path, array, axes: str, pixel_size: float | None, metadata: dict[str, Any]) -> None:
        if self.writer is None:
            raise ValueError(f"microsr does not write {self.name} files")
        _load(self.writer)(tmp, array, axes, pixel_size, metadata)


FORMATS: Registry[ImageFormat] = Registry("image format")
FORMATS.register(
    "tiff",
    ImageFormat(
        "tiff", (".tif", ".tiff"), "microsr.io.tiff:read_tiff", "microsr.io.tiff_write:write_tiff_image"
    ),
)
FORMATS.register(
    "png", ImageFormat("png", (".png",), "microsr.io.raster:read_raster", "microsr.io.raster:write_png")
)
FORMATS.register(
    "jpeg", ImageFormat("jpeg", (".jpg", ".jpeg"), "microsr.io.raster:read_raster", None, "JPEG is lossy")
)
FORMATS.register(
    "mrc",
    ImageFormat("mrc", (".mrc",), "microsr.io.mrc:read_mrc", "microsr.io.mrc:write_mrc", keeps_int16=True),
)

SUPPORTED_EXTENSIONS: tuple[str, ...] = tuple(e for _, f in FORMATS.items() for e in f.extensions)


def format_of(path: Path, *, writing: bool = False) -> ImageFormat:
    """The format of ``path`` by its extension (case-insensitive).

    Raises
    ------
    InputError
        No registered format has the extension, or (``writing``) microsr does not write it.
    """
    ext = path.suffix.lower()
    found = [f for _, f in FORMATS.items() if ext in f.extensions]
    writable = [e for _, f in FORMATS.items() if f.writer is not None for e in f.extensions]
    if not found:
        if writing:
            raise InputError(path, f"cannot write {path.suffix!r} files; use {', '.join(writable)}")
        raise InputError(
            path, f"unsupported file type {path.suffix!r}; use {', '.join(SUPPORTED_EXTENSIONS)}"
        )
    fmt = found[0]
    if writing and fmt.writer is None:
        why = f" ({fmt.why_not_written})" if fmt.why_not_written else ""
        raise InputError(path, f"cannot write {path.suffix!r} files{why}; use {', '.join(writable)}")
    return fmt
