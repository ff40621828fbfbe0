"""Layer geometry and checks shared by the reader, the sample data and the widgets.

napari places pixel *centres* at ``translate + index * scale``. An image up-sampled ``s`` times
covers the same field as its input when its pixels are ``s`` times smaller and its first centre
sits ``(s - 1) / (2 s)`` input pixels before the input's first centre (the same convention as
OME-Zarr's multiscale translations). Bad layers raise :class:`~microsr.errors.InputError`, which
the widgets show as one-line notifications.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from microsr.errors import InputError, MicrosrError


def upsampled_placement(scale, translate, s: int) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """``(scale, translate)`` of an ``s``-times up-sampled copy of a layer (last two axes only)."""
    scale = tuple(float(v) for v in scale)
    translate = tuple(float(v) for v in translate)
    n = len(scale)
    new_scale = tuple(v / s if i >= n - 2 else v for i, v in enumerate(scale))
    shift = (s - 1) / (2 * s)
    new_translate = tuple(
        t - shift * v if i >= n - 2 else t for i, (t, v) in enumerate(zip(translate, scale))
    )
    return new_scale, new_translate


def physical_kwargs(pixel_size: float | None, ndim: int) -> dict[str, Any]:
    """Layer keyword arguments for an image of ``ndim`` axes whose Y/X pixel size is known (µm)."""
    if pixel_size is None:
        return {}
    return {"scale": (1.0,) * (ndim - 2) + (pixel_size, pixel_size), "units": "µm"}


def pixel_size_of(layer) -> float | None:
    """The layer's X pixel size in micrometres when its units say so, else ``None``."""
    units = getattr(layer, "units", None)
    unit = str(units[-1]) if units else "pixel"
    if unit in ("micrometer", "µm", "um"):
        return float(layer.scale[-1])
    return None


def plane_of(layer, what: str) -> np.ndarray:
    """The 2-D grey data of ``layer`` or an :class:`InputError` naming the layer and the problem."""
    if layer is None:
        raise InputError(None, f"no {what} layer chosen: open an image and pick it in the list")
    if getattr(layer, "rgb", False):
        raise InputError(
            None, f"layer {layer.name!r} is RGB; microsr models take grey images (split the channels)"
        )
    data = np.asarray(layer.data)
    if data.ndim != 2:
        raise InputError(
            None,
            f"layer {layer.name!r} is {data.ndim}-D {data.shape}; the model takes 2-D (YX) images: "
            "pick one plane (Layers > Convert > Split stack) first",
        )
    return data


def one_line(exc: BaseException) -> str:
    """The message a notification shows: microsr's own errors as they are, others with their type."""
    text = str(exc) if isinstance(exc, MicrosrError) else f"{type(exc).__name__}: {exc}"
    return text.splitlines()[0] if text else type(exc).__name__


def notify_error(message: str) -> None:
    """Show ``message`` as a napari error notification (one line, no traceback)."""
    from napari.utils.notifications import show_error

    show_error(message)
