"""Predict super-resolved images for a file or a folder with a trained model folder.

Each 2-D plane (a plain image, or every Z / T / C plane of a stack) is normalised with the model's
stored ``NormConfig`` on its own, super-resolved tile by tile (:mod:`microsr.inference.tiling`) and
written as an ImageJ-compatible TIFF named after the input (``<stem>.tif``):

* default: float32 in the model's normalised units (what the network outputs);
* ``keep_range=True``: mapped back with each plane's own ``NormParams`` into the input's intensity
  units and written in the input's bit depth (uint8 stays uint8, uint16 stays uint16; other types
  are written as float32), clipped to the dtype's range.

Axes are kept, the pixel size is divided by the scale, writes are atomic and an input file is never
overwritten; the output folder is checked to be writable before the model is loaded, and hidden
temporary files left in it by a killed run are removed. :func:`predict_path` writes stacks plane by plane as they are predicted
(:mod:`microsr.inference.stacks`), so the whole output stack is never in memory. RGB images
(``YXC`` with 3 colours) go through the Y channel with Cb/Cr up-scaled bicubically
(:func:`microsr.data.color.super_resolve_rgb`) when the model has one input channel.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from torch import nn

from microsr.errors import InputError
from microsr.inference.inputs import check_image, load_input, plan_inputs
from microsr.inference.precision import check_precision, resolve_device
from microsr.inference.progress import FileProgress
from microsr.inference.stacks import (
    base_metadata,
    plane_layout,
    predict_plane,
    predict_planes,
    predict_stack_file,
    recorded_params,
    to_input_range,
)
from microsr.inference.tile_grid import OVERLAP, TILE, check_tiling
from microsr.inference.tiling import model_device
from microsr.inference.tta import resolve_tta
from microsr.io import ImageData, to_output_dtype, write_image
from microsr.io._atomic import remove_stale_temporaries
from microsr.io.guard import check_writable
from microsr.modelcard import ModelInfo, load_model_folder

log = logging.getLogger("microsr.inference")

TileCallback = Callable[[int, int], None]


def predict_image(
    model: nn.Module,
    info: ModelInfo,
    image: ImageData,
    *,
    tile: int = TILE,
    overlap: int = OVERLAP,
    tta: bool | str = "auto",
    keep_range: bool = False,
    mask: np.ndarray | None = None,
    on_tile: TileCallback | None = None,
    precision: str = "fp32",
) -> tuple[np.ndarray, dict]:
    """Super-resolve one image (2-D, a stack, or RGB).

    Parameters
    ----------
    model, info
        From :func:`~microsr.modelcard.load_model_folder`.
    image : ImageData
        The LR image; axes end in ``YX`` (any leading T/Z/C) or ``YXC`` (RGB).
    tile, overlap, precision
        See :func:`~microsr.inference.tiling.predict_tiled`.
    tta : bool or str
        A test-time augmentation group (``none``, ``flips``, ``all``) or ``auto``: the group the
        run chose on its validation images (:mod:`microsr.inference.tta`; ``none`` if it has none).
    keep_range : bool
        Map each plane back to the input's intensity units and dtype (see module docstring).
    mask : np.ndarray or None
        One-hot parsing map (3, s*H, s*W) for models that need one (2-D images only).
    on_tile : callable or None
        Progress callback ``on_tile(done, total)`` per plane.

    Returns
    -------
    (np.ndarray, dict)
        The output (axes as the input, Y and X multiplied by ``info.scale``; float32, or the
        input's dtype with ``keep_range``) and metadata to store with it. For a stack this is the
        whole output stack in memory; :func:`predict_path` streams stacks to their file instead
        (:func:`~microsr.inference.stacks.predict_stack_file`).
    """
    check_tiling(tile, overlap)  # the same check and message as ``microsr predict``
    tta = resolve_tta(tta, info)
    meta = base_metadata(info, tta=tta, precision=precision, keep_range=keep_range)
    if info.needs_mask and mask is None:
        raise InputError(
            image.path,
            f"model {info.name!r} needs a parsing map per image (give "
            "--masks DIR with a mask of the same file name drawn on the HR grid)",
        )
    kw = dict(tile=tile, overlap=overlap, tta=tta, cond=mask, on_tile=on_tile, precision=precision)
    check_image(info, image, mask is not None)
    if image.axes.endswith("YXC"):
        return _predict_rgb(
            model,
            info,
            image,
            lambda plane: predict_plane(model, info, plane, image.path, **kw),
            keep_range,
            meta,
        )
    out, recorded = predict_planes(model, info, image, keep_range=keep_range, **kw)
    meta["norm_params"] = recorded_params(recorded)
    return out, meta


def is_stack(info: ModelInfo, image: ImageData) -> bool:
    """True for images with planes to iterate over (T/Z/C...), which are streamed to the file."""
    return not image.axes.endswith("YXC") and plane_layout(info, image)[2] > 0


def _predict_rgb(model, info, image, run, keep_range, meta):
    """RGB through luminance: the model on Y (normalised per image), bicubic Cb/Cr."""
    a, path, s = image.array, image.path, info.scale
    if info.in_channels == 3:
        y, params = run(np.moveaxis(a, -1, -3))
        out = to_input_range(y, a.dtype, params) if keep_range else y
        meta["norm_params"] = [params.model_dump()]
        return np.moveaxis(out, -3, -1), meta
    try:
        from microsr.data.color import super_resolve_rgb
    except ImportError:
        raise InputError(path, "RGB input needs microsr.data.color, which is not installed") from None
    from microsr.data.normalize import denormalize

    top = float(np.iinfo(a.dtype).max) if a.dtype.kind in "ui" else 1.0
    rgb = a.astype(np.float32) / top
    recorded = []

    def y_fn(lum: np.ndarray) -> np.ndarray:  # model on Y, back to Y units for the colour recipe
        pred, params = run(lum)
        recorded.append(params.model_dump())
        return denormalize(pred, params)

    out = super_resolve_rgb(y_fn, rgb, s)
    meta.update(norm_params=recorded, units="rgb [0, 1]" if not keep_range else "input")
    if keep_range:
        return to_output_dtype(out, a.dtype, {"scale": top, "offset": 0.0}), meta
    return out.astype(np.float32), meta


def predict_path(
    model_dir: str | os.PathLike[str],
    input_path: str | os.PathLike[str],
    output_dir: str | os.PathLike[str],
    *,
    tile: int = TILE,
    overlap: int = OVERLAP,
    tta: bool | str = "auto",
    keep_range: bool = False,
    weights: str = "best",
    masks: str | os.PathLike[str] | None = None,
    device: str | None = None,
    progress: bool = True,
    precision: str = "fp32",
    loaded: tuple[nn.Module, ModelInfo] | None = None,
    normalization: str = "image",
) -> list[Path]:
    """Predict every image of a file or folder and write ``OUTPUT/<stem>.tif``.

    Everything is checked before the first prediction (model folder, every input and mask is read
    once and checked against the model, output names), so a bad command writes nothing; each
    output appears atomically.

    Parameters
    ----------
    model_dir : path
        Model / training run folder.
    input_path : path
        One image file or a folder of images (non-recursive).
    output_dir : path
        Folder for the results (created).
    tile, overlap, tta, keep_range, normalization
        See :func:`predict_image`; ``normalization``: :mod:`microsr.modelcard.intensity`.
    weights : {"best", "last"}
        Which weights of the run to use.
    masks : path or None
        Folder of parsing maps (same file stems) for models that need them.
    device : str or None
        ``"cpu"``, ``"cuda"``...; default CUDA when available.
    progress : bool
        Show a progress bar over files and tiles.
    precision : {"fp32", "bf16"}
        ``"bf16"``: bfloat16 autocast, about 2x faster on CPUs with AVX512-BF16 and on recent GPUs,
        outputs off by about 1 % of their range; refused where bfloat16 is not native.
    loaded : (nn.Module, ModelInfo) or None
        An already loaded model (e.g. a bioimage.io package from :mod:`microsr.export`); then
        ``model_dir`` only names it and ``weights``, ``device`` and ``normalization`` are not used.

    Returns
    -------
    list of Path
        The written files, in input order.
    """
    check_tiling(tile, overlap)
    check_writable(output_dir)  # before any work: a read-only or missing folder is found now
    remove_stale_temporaries(output_dir)  # hidden .NAME.<pid>-<hex>.tmp.tif of killed runs
    if loaded is None:
        dev = resolve_device(device)
        loaded = load_model_folder(model_dir, weights=weights, device=dev, normalization=normalization)  # type: ignore[arg-type]
    model, info = loaded
    try:
        check_precision(precision, model_device(model))
    except ValueError as exc:
        raise InputError(None, f"--precision: {exc}") from None
    out_dir = Path(output_dir)
    inputs, outs, mask_files = plan_inputs(info, input_path, out_dir, masks)
    for src_file, mfile in zip(inputs, mask_files):  # read everything once before writing anything
        load_input(info, src_file, mfile)
    out_dir.mkdir(parents=True, exist_ok=True)
    kw: dict[str, Any] = dict(tile=tile, overlap=overlap, tta=tta, keep_range=keep_range, precision=precision)
    written: list[Path] = []
    with FileProgress(progress, len(inputs)) as bar:
        for src_file, dst, mfile in zip(inputs, outs, mask_files):
            bar.start_file(src_file.name)
            image, mask = load_input(info, src_file, mfile)
            job: dict[str, Any] = dict(kw, source=src_file.name, protect=inputs, on_tile=bar.on_tile)
            written.append(_predict_file(model, info, image, mask, dst, **job))
            bar.end_file()
    return written


def _predict_file(
    model: nn.Module,
    info: ModelInfo,
    image: ImageData,
    mask: np.ndarray | None,
    dst: Path,
    *,
    source: str,
    protect: list[Path],
    **kw: Any,
) -> Path:
    """Predict one loaded image into ``dst``: a stack plane by plane, anything else whole."""
    px = None if image.pixel_size is None else image.pixel_size / info.scale
    if is_stack(info, image):  # written plane by plane, never whole in memory
        return predict_stack_file(
            model, info, image, dst, pixel_size=px, source=source, protect=protect, **kw
        )
    out, meta = predict_image(model, info, image, mask=mask, **kw)
    meta["source"] = source
    return write_image(dst, out, image.axes, px, metadata=meta, protect=protect)
