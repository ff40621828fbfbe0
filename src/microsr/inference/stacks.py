"""Plane-by-plane prediction of images and stacks, and streaming a predicted stack to a TIFF.

Every 2-D plane of an image (each T / Z / C plane of a stack; or the whole ``C`` axis at once for
models with several input channels) is normalised on its own with the model's ``NormConfig``,
super-resolved with :func:`~microsr.inference.tiling.predict_tiled` and, with ``keep_range``,
mapped back to the input's units and dtype. :func:`iter_planes` yields the planes one at a time in
ImageJ order (T, Z, C); :func:`predict_planes` assembles them into one array (what
:func:`~microsr.inference.predict.predict_image` returns) and :func:`predict_stack_file` writes
them to a TIFF as they are made (:func:`microsr.io.write_tiff_stack`), so that predicting a stack
holds one output plane at a time instead of the whole output stack.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from torch import nn

from microsr.data.normalize import NormConfig, NormParams, normalize
from microsr.errors import InputError
from microsr.inference.fusion import fold_batch_norm
from microsr.inference.tile_grid import OVERLAP, TILE
from microsr.inference.tiling import predict_tiled
from microsr.inference.tta import resolve_tta
from microsr.io import ImageData, imagej_order, to_output_dtype, write_tiff_stack
from microsr.modelcard import ModelInfo

MAX_RECORDED = 4096  # more planes than this: only the first plane's norm_params are stored


def norm_config(info: ModelInfo) -> NormConfig:
    """The model's stored normalisation; :class:`InputError` naming ``model.json`` if invalid."""
    try:
        return NormConfig(**info.normalization)
    except Exception as exc:  # pydantic ValidationError
        raise InputError(info.folder / "model.json", f"invalid normalization entry ({exc})") from None


def base_metadata(info: ModelInfo, *, tta: bool | str, precision: str, keep_range: bool) -> dict[str, Any]:
    """The ``microsr`` metadata of a prediction, before ``norm_params`` and ``source``."""
    return {
        "model": info.name,
        "scale": info.scale,
        "tta": tta,
        "precision": precision,
        "units": "input" if keep_range else "normalised",
        "normalization": norm_config(info).model_dump(),
    }


def recorded_params(params: list[dict]) -> list[dict]:
    """``norm_params`` as stored: one entry per plane, or the first only for huge stacks."""
    return params if len(params) <= MAX_RECORDED else params[:1]


def predict_plane(
    model: nn.Module, info: ModelInfo, plane: np.ndarray, path: Path | None, **kw: Any
) -> tuple[np.ndarray, NormParams]:
    """Normalise one LR plane (H, W) or (C, H, W) and super-resolve it.

    ``kw`` goes to :func:`predict_tiled` (``tile``, ``overlap``, ``tta``, ``cond``, ``on_tile``,
    ``precision``). Returns the float32 output (…, s*H, s*W) in normalised units and the
    ``NormParams`` that undo the normalisation.
    """
    try:
        x, params = normalize(plane, norm_config(info))
    except ValueError as exc:
        raise InputError(path, f"cannot normalise: {exc}") from None
    return predict_tiled(model, x, info.scale, **kw), params


def to_input_range(y: np.ndarray, dtype: np.dtype, params: NormParams, rows: int = 512) -> np.ndarray:
    """``to_output_dtype`` in blocks of rows, so the float64 intermediate stays small."""
    out = np.empty(y.shape, output_dtype(dtype, keep_range=True))
    for r in range(0, y.shape[-2], rows):
        out[..., r : r + rows, :] = to_output_dtype(y[..., r : r + rows, :], dtype, params)
    return out


def output_dtype(input_dtype: np.dtype, keep_range: bool) -> np.dtype:
    """float32, or with ``keep_range`` the dtype ``to_output_dtype`` gives for the input's dtype."""
    return to_output_dtype(np.zeros(1), input_dtype).dtype if keep_range else np.dtype(np.float32)


def plane_layout(info: ModelInfo, image: ImageData) -> tuple[np.ndarray, str, int]:
    """The array with a whole ``C`` axis moved before Y, X, its axes, and the number of lead axes.

    For a model with several input channels the ``C`` axis is taken whole: (…, C, H, W) with
    ``C`` just before ``YX`` (where ImageJ order puts it too). Otherwise every leading axis is
    iterated over and planes are (H, W).
    """
    a, axes = image.array, image.axes
    if info.in_channels > 1:
        ci = axes.index("C")
        a, axes = np.moveaxis(a, ci, -3), axes[:ci] + axes[ci + 1 : -2] + "CYX"
        return a, axes, a.ndim - 3
    return a, axes, a.ndim - 2


def iter_planes(
    model: nn.Module, info: ModelInfo, image: ImageData, *, keep_range: bool = False, **kw: Any
) -> Iterator[tuple[tuple[int, ...], int, np.ndarray, NormParams]]:
    """Predict the planes of an image one at a time, in ImageJ order of its leading axes.

    Parameters
    ----------
    model, info, image
        As for :func:`~microsr.inference.predict.predict_image` (image already checked).
    keep_range : bool
        Map each plane back to the input's units and dtype (:func:`to_input_range`).
    **kw
        For :func:`predict_tiled`.

    Yields
    ------
    (tuple of int, int, np.ndarray, NormParams)
        The plane's index into the leading axes of :func:`plane_layout`'s array (``()`` for a
        2-D image), its number in the input's plane order (where its ``norm_params`` go), its output (s*H, s*W) or (C, s*H, s*W) (float32, or the output dtype with
        ``keep_range``) and its normalisation numbers.
    """
    a, axes, nlead = plane_layout(info, image)
    order = imagej_order(axes[:nlead])
    model = fold_batch_norm(model)  # once for all planes: predict_tiled then finds nothing to fold
    for ij_idx in itertools.product(*[range(a.shape[i]) for i in order]):
        idx = [0] * nlead
        for pos, i in enumerate(order):
            idx[i] = ij_idx[pos]
        y, params = predict_plane(model, info, a[tuple(idx)], image.path, **kw)
        if keep_range:
            y = to_input_range(y, a.dtype, params)
        yield tuple(idx), int(np.ravel_multi_index(idx, a.shape[:nlead])) if nlead else 0, y, params
        del y  # not held while the next plane is predicted


def predict_planes(
    model: nn.Module, info: ModelInfo, image: ImageData, *, keep_range: bool = False, **kw: Any
) -> tuple[np.ndarray, list[dict]]:
    """All planes of an image in one array (axes and order as the input, Y/X times the scale).

    Returns the array and the planes' ``NormParams`` dumps in the input's plane order. A 2-D
    image needs no second output-size buffer; a stack needs the whole output stack in memory
    (:func:`predict_stack_file` does not).
    """
    a, axes, nlead = plane_layout(info, image)
    lead = a.shape[:nlead]
    out: np.ndarray | None = None
    recorded: list[dict] = [{}] * int(np.prod(lead))
    for idx, k, y, params in iter_planes(model, info, image, keep_range=keep_range, **kw):
        if not lead:  # a single 2-D plane: no second image-size buffer
            out = y
        else:
            if out is None:
                out = np.empty(lead + y.shape, y.dtype)
            out[idx] = y
        recorded[k] = params.model_dump()
    assert out is not None
    if info.in_channels > 1:
        out = np.moveaxis(out, -3, image.axes.index("C"))
    return out, recorded


def _stack_layout(info: ModelInfo, image: ImageData) -> tuple[np.ndarray, str, tuple[int, ...], int]:
    """The input array, the output's ImageJ axes and shape, and the number of planes of a stack."""
    a, axes, nlead = plane_layout(info, image)
    lead, s = a.shape[:nlead], info.scale
    order = imagej_order(axes[:nlead])
    whole = axes[nlead:-2]  # "C" when the channels go through the model together, else ""
    out_axes = "".join(axes[i] for i in order) + whole + "YX"
    shape = tuple(lead[i] for i in order) + a.shape[nlead:-2] + (s * a.shape[-2], s * a.shape[-1])
    return a, out_axes, shape, int(np.prod(lead))


def predict_stack_file(
    model: nn.Module,
    info: ModelInfo,
    image: ImageData,
    path: str | os.PathLike[str],
    *,
    tile: int = TILE,
    overlap: int = OVERLAP,
    tta: bool | str = "auto",
    keep_range: bool = False,
    on_tile: Callable[[int, int], None] | None = None,
    precision: str = "fp32",
    pixel_size: float | None = None,
    source: str | None = None,
    protect: Iterable[str | os.PathLike[str]] = (),
) -> Path:
    """Predict a stack plane by plane straight into an ImageJ TIFF (one output plane in memory).

    The file reads back as ``write_image(path, out, image.axes, pixel_size, metadata=meta)``
    with ``out, meta = predict_image(...)`` would: axes and dtype as the input, Y/X times the
    scale, and the same ``microsr`` metadata (``norm_params`` one entry per plane in the input's
    plane order, then ``source``). The file appears only when complete; an error on any plane
    leaves no file (and no temporary file).

    Parameters
    ----------
    model, info, image
        As for :func:`~microsr.inference.predict.predict_image`; ``image`` already checked with
        :func:`~microsr.inference.predict.check_image`, axes ending in ``YX`` (not RGB), no mask.
    path : path-like
        Output ``.tif``.
    tile, overlap, tta, keep_range, on_tile, precision
        See :func:`~microsr.inference.predict.predict_image`.
    pixel_size : float or None
        The output's pixel size (input pixel size / scale), micrometres.
    source : str or None
        Stored as ``source`` in the metadata (the input's file name).
    protect : iterable of path-like
        Input files that must not be overwritten.

    Returns
    -------
    Path
        The written file.
    """
    if image.axes.endswith("YXC"):
        raise ValueError("RGB images are not streamed; use predict_image and write_image")
    if info.needs_mask:
        raise InputError(image.path, "parsing maps are supported for 2-D images only, not stacks")
    tta = resolve_tta(tta, info)
    meta = base_metadata(info, tta=tta, precision=precision, keep_range=keep_range)
    a, out_axes, shape, n_planes = _stack_layout(info, image)
    recorded: list[dict] = [{}] * n_planes
    tail = {} if source is None else {"source": source}  # after norm_params, as predict_path had it
    # the final metadata's shape, so that the writer keeps room for it before the pixel data
    reserve = dict(meta, norm_params=recorded_params([NormParams().model_dump()] * len(recorded)), **tail)

    def planes() -> Iterator[np.ndarray]:
        kw = dict(tile=tile, overlap=overlap, tta=tta, on_tile=on_tile, precision=precision)
        for _, k, y, params in iter_planes(model, info, image, keep_range=keep_range, **kw):
            recorded[k] = params.model_dump()
            yield y
            del y

    def final_metadata() -> dict[str, Any]:  # called by the writer after the last plane
        return dict(meta, norm_params=recorded_params(recorded), **tail)

    return write_tiff_stack(
        path,
        planes(),
        shape,
        out_axes,
        pixel_size,
        dtype=output_dtype(a.dtype, keep_range),
        metadata=final_metadata,
        reserve=reserve,
        protect=protect,
    )
