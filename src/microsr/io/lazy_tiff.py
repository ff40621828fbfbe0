"""TIFF pieces of lazy reading (:mod:`microsr.io.lazy`): header checks before anything is decoded,
tifffile's warnings kept off the terminal, and pixels as a Dask array.

An uncompressed TIFF stored in one piece is one chunk to tifffile's Zarr view (any region read
through it reads the whole image), so it is read as memory-mapped blocks of ``MAPPED_BLOCK`` px
(:class:`MappedPixels`); other TIFFs go through that view, tiles or strips decoded on demand.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from microsr.errors import InputError
from microsr.io.formats import FORMATS

MAPPED_BLOCK = 1024  # px per chunk side of an uncompressed TIFF read through a memory map


@contextmanager
def tiff_warnings(path: Path) -> Iterator[list[str]]:
    """Keep tifffile's warnings about ``path`` off the terminal; :class:`InputError` when one says
    the file is corrupt (as :func:`microsr.io.tiff.read_tiff` does)."""
    from microsr.io.tiff import _CORRUPT_PHRASES, _Capture

    capture = _Capture()
    logger = logging.getLogger("tifffile")
    logger.addHandler(capture)
    propagate, logger.propagate = logger.propagate, False
    try:
        yield capture.messages
    finally:
        logger.removeHandler(capture)
        logger.propagate = propagate
    bad = [m for m in capture.messages if any(w in m.lower() for w in _CORRUPT_PHRASES)]
    if bad:
        raise InputError(
            path, f"cannot read TIFF: corrupt or truncated file ({' '.join(bad[0].split())[:160]})"
        )


def check_chunks(path: Path, page: Any) -> None:
    """A page that declares more tiles or strips than it holds (a decompression bomb, a truncated
    file) is refused before anything is allocated for it."""
    declared, held = int(np.prod(page.chunked, dtype=np.int64)), len(page.dataoffsets)
    if declared != held:
        raise InputError(
            path,
            f"corrupt TIFF: the header declares {page.shape} px in {declared} tiles or strips but the "
            f"file holds {held}",
        )


def tiff_header(path: Path) -> tuple[tuple[int, ...], str] | None:
    """Shape and tifffile axes of a TIFF's first series from its header (nothing decoded); ``None``
    for a file that is not a readable, consistent TIFF (the in-memory reader names its problem)."""
    import tifffile

    if path.suffix.lower() not in FORMATS.get("tiff").extensions:
        return None
    try:
        with tiff_warnings(path), tifffile.TiffFile(path) as tif:
            check_chunks(path, tif.pages.first)
            return tuple(int(n) for n in tif.series[0].shape), str(tif.series[0].axes)
    except Exception:
        return None


@dataclass(frozen=True)
class MappedPixels:
    """The pixels of an uncompressed TIFF stored in one piece, read region by region.

    tifffile's Zarr view sees such a file as one chunk, so any region read through it reads the
    whole image; here each read memory-maps the pixels, copies the region and unmaps them again
    (their pages do not stay in the process). Picklable, so Dask workers can read it.
    """

    path: str
    offset: int
    shape: tuple[int, ...]
    dtype: str

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __getitem__(self, index: Any) -> np.ndarray:
        mapped = np.memmap(
            self.path, dtype=np.dtype(self.dtype), mode="r", offset=self.offset, shape=self.shape
        )
        try:
            return np.array(mapped[index], dtype=np.dtype(self.dtype).newbyteorder("="))
        finally:
            del mapped


def tiff_pixels(p: Path, tif: Any, series: Any) -> Any:
    """The series as a Dask array: memory-mapped blocks of ``MAPPED_BLOCK`` px for an uncompressed
    TIFF in one piece (:class:`MappedPixels`), else tifffile's Zarr view (tiles/strips as chunks)."""
    import dask.array as da
    import tifffile
    import zarr

    if series.dataoffset is not None:
        shape = tuple(int(n) for n in series.shape)
        pixels = MappedPixels(
            str(p), int(series.dataoffset), shape, series.dtype.newbyteorder(tif.byteorder).str
        )
        chunks = tuple(min(MAPPED_BLOCK, n) if i >= len(shape) - 2 else 1 for i, n in enumerate(shape))
        meta = np.empty((0,) * len(shape), np.dtype(pixels.dtype).newbyteorder("="))
        return da.from_array(pixels, chunks=chunks, meta=meta)
    store = tifffile.imread(p, aszarr=True, series=0, level=0)
    return da.from_zarr(zarr.open_array(store, mode="r"))
