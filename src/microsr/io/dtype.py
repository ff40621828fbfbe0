"""Going from float predictions back to the bit depth of the input, and storable dtypes.

Policy: nothing is ever converted to 8 bit unless the caller asks for uint8 explicitly. Float to
integer conversion rounds half to even (``np.rint``) and clips to the dtype's range (or refuses with
``clip=False``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

WRITE_DTYPES = (np.dtype(np.uint8), np.dtype(np.uint16), np.dtype(np.float32))
_FLOAT32_EXACT = 2**24  # integers up to this magnitude are exact in float32


def to_dtype(array_float: np.ndarray, dtype: Any, *, clip: bool = True) -> np.ndarray:
    """Convert an array (typically float predictions) to uint8, uint16 or float32.

    Parameters
    ----------
    array_float : np.ndarray
        Values in the target intensity scale, e.g. 0..65535 for uint16. Any shape.
    dtype : dtype-like
        ``uint8``, ``uint16`` or ``float32``; there is no default on purpose.
    clip : bool
        For integer targets: clip values outside the dtype's range (True) or raise ``ValueError``.

    Returns
    -------
    np.ndarray
        Same shape, requested dtype; integer results are rounded half to even.

    Raises
    ------
    ValueError
        Unsupported dtype, NaN/Inf values, or out-of-range values with ``clip=False``.
    """
    target = np.dtype(dtype)
    if target not in WRITE_DTYPES:
        raise ValueError(f"to_dtype supports uint8, uint16 and float32, not {target}")
    a = np.asarray(array_float)
    if a.dtype == target:
        return a
    if a.dtype.kind == "f" and not np.all(np.isfinite(a)):
        raise ValueError("array contains NaN or infinite values")
    if target.kind == "f":
        return a.astype(np.float32)
    info = np.iinfo(target)
    r = np.rint(a) if a.dtype.kind == "f" else a
    if not clip and r.size and (r.min() < info.min or r.max() > info.max):
        raise ValueError(f"values {r.min()}..{r.max()} do not fit {target} ({info.min}..{info.max})")
    return np.clip(r, info.min, info.max).astype(target)


def _mapping_value(mapping: Any, key: str, default: float) -> float:
    if mapping is None:
        return default
    if isinstance(mapping, dict):
        return float(mapping.get(key, default))
    return float(getattr(mapping, key, default))


def to_output_dtype(
    array_float: np.ndarray, like_dtype: Any, mapping: Any = None, *, clip: bool = True
) -> np.ndarray:
    """Undo an intensity mapping and return to the bit depth of an input image.

    Parameters
    ----------
    array_float : np.ndarray
        Normalised values (e.g. network output, roughly [0, 1]).
    like_dtype : dtype-like
        The input image's dtype. uint8 and uint16 are reproduced; every other dtype gives float32
        (ImageJ TIFF cannot store them, and float32 holds all int16 values exactly).
    mapping : dict or object or None
        Anything with ``offset`` and ``scale`` (keys or attributes, e.g. ``NormParams``); the
        output is ``array_float * scale + offset``. ``None`` means identity.
    clip : bool
        See :func:`to_dtype`.

    Returns
    -------
    np.ndarray
        Same shape, dtype uint8, uint16 or float32.
    """
    like = np.dtype(like_dtype)
    scale = _mapping_value(mapping, "scale", 1.0)
    offset = _mapping_value(mapping, "offset", 0.0)
    values = np.asarray(array_float, dtype=np.float64) * scale + offset
    target = like if like in (np.dtype(np.uint8), np.dtype(np.uint16)) else np.dtype(np.float32)
    return to_dtype(values, target, clip=clip)


def storable_dtype(array: np.ndarray) -> np.ndarray:
    """Return ``array`` in uint8, uint16 or float32 without changing any value.

    bool -> uint8; float16/float64 -> float32 (float64 loses precision beyond ~7 digits, which
    image data does not carry); other integers -> uint16 when all values lie in 0..65535, else
    float32 when all are exactly representable (|v| <= 2**24).

    Raises
    ------
    ValueError
        When no lossless storable dtype exists (e.g. uint32 values above 2**24).
    """
    a = np.asarray(array)
    if a.dtype in WRITE_DTYPES:
        return a
    if a.dtype.kind == "b":
        return a.astype(np.uint8)
    if a.dtype.kind == "f":
        return a.astype(np.float32)
    if a.dtype.kind in "iu":
        lo, hi = (int(a.min()), int(a.max())) if a.size else (0, 0)
        if lo >= 0 and hi <= 65535:
            return a.astype(np.uint16)
        if max(abs(lo), abs(hi)) <= _FLOAT32_EXACT:
            return a.astype(np.float32)
        raise ValueError(f"{a.dtype} values {lo}..{hi} cannot be stored losslessly; pass dtype=")
    raise ValueError(f"cannot store pixel type {a.dtype}")
