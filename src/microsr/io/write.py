"""``write_image``: atomic, lossless, ImageJ-compatible output; ``write_tiff_stack`` for stacks
produced plane by plane (only one plane in memory at a time)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from microsr.errors import InputError
from microsr.io._atomic import atomic_path, check_not_protected
from microsr.io.dtype import WRITE_DTYPES, storable_dtype, to_dtype
from microsr.io.formats import FORMATS, format_of
from microsr.io.types import check_array, check_axes, check_finite, imagej_order

__all__ = ["imagej_order", "write_image", "write_tiff_stack"]


def _check_pixel_size(target: Path, pixel_size: float | None) -> None:
    if pixel_size is not None and not (np.isfinite(pixel_size) and pixel_size > 0):
        raise InputError(target, f"pixel size must be a positive number of micrometres, not {pixel_size}")


def write_image(
    path: str | PathLike[str],
    array: np.ndarray,
    axes: str = "YX",
    pixel_size: float | None = None,
    *,
    dtype: Any = None,
    metadata: dict[str, Any] | None = None,
    protect: Iterable[str | PathLike[str]] = (),
) -> Path:
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
    fmt = format_of(target, writing=True)
    a = check_array(np.asarray(array), target)
    axes = check_axes(axes, a.ndim, target)
    check_finite(a, target)
    try:
        a = (
            to_dtype(a, dtype)
            if dtype is not None
            else (a if fmt.keeps_int16 and a.dtype == np.int16 else storable_dtype(a))
        )
    except ValueError as exc:
        raise InputError(target, str(exc)) from exc
    _check_pixel_size(target, pixel_size)
    with atomic_path(target, protect) as tmp:
        fmt.write(tmp, a, axes, pixel_size, dict(metadata or {}))
    return target


def _check_stack(
    target: Path, shape: tuple[int, ...], axes: str, dtype: Any, pixel_size: float | None
) -> tuple[tuple[int, ...], str, np.dtype]:
    """What :func:`write_tiff_stack` checks before the first plane: name, axes, shape, dtype, pixel size."""
    if target.suffix.lower() not in FORMATS.get("tiff").extensions:
        raise InputError(target, f"stacks are written as TIFF, not {target.suffix!r}; use .tif")
    shape = tuple(int(n) for n in shape)
    axes = check_axes(axes, len(shape), target)
    if not axes.endswith("YX") or imagej_order(axes) != list(range(len(axes))):
        raise ValueError(f"axes {axes!r} are not in ImageJ order (T, Z, C, Y, X)")
    if 0 in shape:
        raise InputError(target, f"empty image (shape {shape})")
    dt = np.dtype(dtype)
    if dt not in WRITE_DTYPES:
        raise ValueError(f"stacks are written as uint8, uint16 or float32, not {dt}")
    _check_pixel_size(target, pixel_size)
    return shape, axes, dt


def write_tiff_stack(
    path: str | PathLike[str],
    planes: Iterable[np.ndarray],
    shape: tuple[int, ...],
    axes: str,
    pixel_size: float | None = None,
    *,
    dtype: Any,
    metadata: dict[str, Any] | Callable[[], dict[str, Any]] | None = None,
    reserve: dict[str, Any] | None = None,
    protect: Iterable[str | PathLike[str]] = (),
) -> Path:
    """Write a stack to an ImageJ TIFF as its planes arrive, holding one plane at a time.

    The file reads back exactly as ``write_image(path, stack, axes, pixel_size,
    metadata=metadata)`` of the assembled stack would (same pixels, axes, dtype, pixel size, ImageJ
    description and ``microsr`` metadata). Everything that can be checked before the first plane
    is checked first; the file appears only when complete (temporary name, then rename), and an
    exception while producing the planes (or a NaN/Inf in one) leaves neither it nor a temporary
    file behind.

    Parameters
    ----------
    path : path-like
        Output file, ``.tif`` / ``.tiff``.
    planes : iterable of np.ndarray
        The stack in C order in consecutive pieces of shape ``shape[k:]`` (the same ``k`` for all,
        usually one (Y, X) plane, or (C, Y, X) when channels are produced together); consumed
        lazily, one piece at a time.
    shape : tuple of int
        Shape of the whole stack.
    axes : str
        Axes of ``shape`` in ImageJ order (a subset of ``TZCYX`` in that order, ending in ``YX``);
        use :func:`imagej_order` to produce planes in that order.
    pixel_size : float or None
        Micrometres per pixel in X/Y.
    dtype : dtype-like
        ``uint8``, ``uint16`` or ``float32``; every plane must already have it.
    metadata : dict, callable or None
        JSON-serialisable extras stored under ``microsr``; a callable is called after the last
        plane (for values known only then, e.g. per-plane normalisation numbers).
    reserve : dict or None
        With a callable ``metadata``: a dict shaped like its result (same keys, strings and list
        lengths; numbers may be anything) from which room for the description is reserved at
        the start of the file. Needed for stacks over 4 GB (an ImageJ TIFF is a classic TIFF and
        cannot point past 4 GB), harmless otherwise; see :func:`microsr.io.tiff_write.write_tiff_planes`.
    protect : iterable of path-like
        Input files that must not be overwritten.

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    InputError
        Not a TIFF name, bad axes or pixel size, protected path, NaN/Inf in a plane.
    ValueError
        Axes not in ImageJ order, unsupported dtype, planes not matching ``shape``/``dtype``.
    """
    target = check_not_protected(path, protect)
    shape, axes, dtype = _check_stack(target, shape, axes, dtype, pixel_size)

    def checked() -> Iterator[np.ndarray]:
        for plane in planes:
            yield check_finite(np.asarray(plane), target)
            del plane  # a generator expression would keep it alive while the next one is made

    with atomic_path(target, protect) as tmp:
        from microsr.io.tiff_write import write_tiff_planes

        write_tiff_planes(
            tmp, checked(), shape, axes, dtype, pixel_size, metadata if metadata is not None else {}, reserve
        )
    return target
