"""Tiled, memory-bounded prediction of one 2-D image with any super-resolution model.

The LR image is cut into tiles of ``tile`` x ``tile`` LR pixels that overlap by ``overlap`` pixels.
Each tile's output is multiplied by a separable weight that is zero in a dead margin of
``overlap // 4`` pixels at every edge shared with another tile, rises as a raised cosine over the
middle of the overlap and is one elsewhere; outputs and weights are accumulated into a
preallocated float32 output, then divided. Consequences:

* memory is bounded by the tile size (tiles are made and run ``batch_size`` at a time, never all at
  once); the only image-sized buffers are the input and the output;
* for a convolutional model whose receptive-field radius (in LR pixels) is at most ``overlap // 4``,
  the tiled result equals the whole-image result everywhere except within that radius of the
  image border (where the whole-image run sees zero padding at a different place);
* for non-local models (DFCAN's Fourier attention, global pooling) the blend hides the small
  tile-to-tile differences instead of leaving seams.

The last tile of a row or column is shifted inward (so it overlaps more) instead of padding the
image; images smaller than a tile are run whole. Tile sizes are rounded down to 5-smooth numbers
(factors 2, 3, 5 only) so that FFT-based models (DFCAN) never run FFTs of awkward sizes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor, nn

from microsr.inference.fusion import fold_batch_norm
from microsr.inference.precision import autocast
from microsr.inference.tile_grid import MIN_TILE, OVERLAP, TILE, axis_weights, choose_tile
from microsr.inference.tile_grid import check_tiling as check_tiling  # callers check options here too
from microsr.inference.tta import TransformAverage, tta_transforms
from microsr.models.outputs import final_output

log = logging.getLogger("microsr.inference")


class OutputMemoryError(MemoryError):
    """The output image itself does not fit in memory (not retried with smaller tiles)."""


def is_oom(exc: BaseException) -> bool:
    """True for out-of-memory errors of CUDA, the CPU allocator or Python."""
    if isinstance(exc, MemoryError):
        return True
    oom_cls = getattr(getattr(torch, "cuda", None), "OutOfMemoryError", None)
    if oom_cls is not None and isinstance(exc, oom_cls):
        return True
    msg = str(exc).lower()
    return isinstance(exc, RuntimeError) and ("out of memory" in msg or "can't allocate memory" in msg)


def model_device(model: nn.Module) -> torch.device:
    """The device of the model's first parameter or buffer (CPU for weight-less models)."""
    for t in list(model.parameters()) + list(model.buffers()):
        return t.device
    return torch.device("cpu")


def _run(model: nn.Module, x: Tensor, cond: Tensor | None, tta: bool | str, channels_last: bool) -> Tensor:
    """Model output (B, C_out, sH, sW) of a batch of tiles, averaged over the ``tta`` group."""
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    net = TransformAverage(model, tta_transforms(tta), fmt)
    return final_output(net(x) if cond is None else net(x, cond)).float()


def _tiled_pass(
    model: nn.Module,
    image: np.ndarray,
    out: np.ndarray | None,
    scale: int,
    tile: int,
    overlap: int,
    *,
    cond: np.ndarray | None,
    tta: bool | str,
    batch_size: int,
    channels_last: bool,
    on_tile: Callable[[int, int], None] | None,
) -> np.ndarray:
    """One pass over all tiles; allocates ``out`` (C_out, sH, sW) on the first batch if None."""
    _, h, w = image.shape
    device = model_device(model)
    ys, wys, ty = axis_weights(h, tile, overlap)
    xs, wxs, tx = axis_weights(w, tile, overlap)
    th, tw = min(tile, h), min(tile, w)
    if out is not None:
        out[...] = 0.0
    jobs = [(i, j) for i in range(len(ys)) for j in range(len(xs))]
    for b0 in range(0, len(jobs), batch_size):
        batch = jobs[b0 : b0 + batch_size]
        x = torch.from_numpy(
            np.stack([image[:, ys[i] : ys[i] + th, xs[j] : xs[j] + tw] for i, j in batch])
        ).to(device=device, dtype=torch.float32)
        ct = None
        if cond is not None:
            ct = torch.from_numpy(
                np.stack(
                    [
                        cond[:, scale * ys[i] : scale * (ys[i] + th), scale * xs[j] : scale * (xs[j] + tw)]
                        for i, j in batch
                    ]
                )
            ).to(device=device, dtype=torch.float32)
        y = _run(model, x, ct, tta, channels_last).cpu().numpy()
        if y.shape[-2:] != (scale * th, scale * tw):
            raise ValueError(
                f"model returned {tuple(y.shape[-2:])} for a {th}x{tw} tile; expected scale {scale}"
            )
        if out is None:  # filled (not calloc'd) so its memory is committed and visible at once
            shape = (y.shape[1], scale * h, scale * w)
            try:
                out = np.empty(shape, dtype=np.float32)
                out.fill(0.0)
            except MemoryError:
                gb = 4 * np.prod(shape) / 1e9
                raise OutputMemoryError(
                    f"the float32 output {shape} needs {gb:.1f} GB, more than "
                    "is free; smaller tiles cannot help"
                ) from None
        for (i, j), yk in zip(batch, y):
            wgt = np.outer(np.repeat(wys[i], scale), np.repeat(wxs[j], scale)).astype(np.float32)
            oy, ox = scale * ys[i], scale * xs[j]
            out[:, oy : oy + scale * th, ox : ox + scale * tw] += yk * wgt
        if on_tile is not None:
            on_tile(b0 + len(batch), len(jobs))
    assert out is not None  # at least one batch of tiles ran
    # the tiles form a grid, so the summed weight is separable: divide without an image-size buffer
    out /= np.repeat(ty, scale).astype(np.float32)[None, :, None]
    out /= np.repeat(tx, scale).astype(np.float32)[None, None, :]
    return out


def predict_tiled(
    model: nn.Module,
    image: np.ndarray,
    scale: int,
    *,
    tile: int = TILE,
    overlap: int = OVERLAP,
    tta: bool | str = False,
    batch_size: int = 1,
    channels_last: bool | None = None,
    cond: np.ndarray | None = None,
    on_tile: Callable[[int, int], None] | None = None,
    precision: str = "fp32",
) -> np.ndarray:
    """Super-resolve one normalised 2-D image tile by tile.

    Parameters
    ----------
    model : nn.Module
        Any microsr generator: LR (B, C, h, w) -> (B, C_out, scale*h, scale*w) or an ``SROutput``
        (only ``.final`` is used), on its device; set to eval mode, batch norms folded in a copy.
    image : np.ndarray
        Normalised LR image, float, shape (H, W) or (C, H, W), values roughly in [0, 1].
    scale : int
        The model's up-sampling factor.
    tile : int
        Tile edge in LR pixels; rounded down by :func:`choose_tile` (a multiple of 16 with only
        the prime factors 2, 3, 5: FFT-friendly), >= 16.
    overlap : int
        Overlap between neighbouring tiles in LR pixels; capped at ``tile // 2``.
    tta : bool or str
        Test-time augmentation group (:mod:`microsr.inference.tta`): ``none``, ``flips`` (4 mirrors,
        4x slower) or ``all`` (the 8 rotations and mirrors, 8x slower); True means ``all``.
    batch_size : int
        Tiles per forward pass.
    channels_last : bool or None
        Channels-last memory format; ``None`` picks it on the CPU, where it was measured faster.
    cond : np.ndarray or None
        Per-pixel conditioning on the HR grid (Cc, scale*H, scale*W), e.g. a parsing mask for
        SFTGAN; cropped with each tile and passed as the model's second argument.
    on_tile : callable or None
        ``on_tile(done, total)`` called after each batch of tiles.
    precision : {"fp32", "bf16"}
        Arithmetic of the model calls (see :mod:`microsr.inference.precision`); outputs are float32.

    Returns
    -------
    np.ndarray
        float32, shape (scale*H, scale*W) for a 2-D input with one output channel, otherwise
        (C_out, scale*H, scale*W); same units as the model output.

    On an out-of-memory error the tile edge is halved (logged as a warning) and the image is
    redone, down to 16 px; below that the error is raised.
    """
    img = _as_chw(image, cond, scale)
    device = model_device(model)
    channels_last = device.type == "cpu" if channels_last is None else channels_last
    model = _prepared(model, channels_last)

    def one_pass(out: np.ndarray | None, tile: int, overlap: int) -> np.ndarray:
        with torch.inference_mode(), autocast(precision, device):
            return _tiled_pass(
                model,
                img,
                out,
                scale,
                tile,
                overlap,
                cond=cond,
                tta=tta,
                batch_size=max(1, batch_size),
                channels_last=channels_last,
                on_tile=on_tile,
            )

    out = _shrinking_tiles(one_pass, choose_tile(tile), overlap, device)
    return out[0] if np.asarray(image).ndim == 2 and out.shape[0] == 1 else out


def _prepared(model: nn.Module, channels_last: bool) -> nn.Module:
    """``model`` in eval mode with its batch norms folded (a copy when it has any; see
    inference/fusion.py), in channels-last memory format when asked."""
    model.eval()
    model = fold_batch_norm(model)
    if channels_last:
        model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    return model


def _as_chw(image: np.ndarray, cond: np.ndarray | None, scale: int) -> np.ndarray:
    """``image`` as float32 (C, H, W), after checking its shape and that of ``cond``."""
    img = np.asarray(image, dtype=np.float32)
    if img.ndim == 2:
        img = img[None]
    if img.ndim != 3:
        raise ValueError(f"expected (H, W) or (C, H, W), got shape {image.shape}")
    if cond is not None and cond.shape[-2:] != (scale * img.shape[1], scale * img.shape[2]):
        raise ValueError(f"conditioning map {cond.shape} does not match the output grid")
    return img


def _shrinking_tiles(
    one_pass: Callable[[np.ndarray | None, int, int], np.ndarray],
    tile: int,
    overlap: int,
    device: torch.device,
) -> np.ndarray:
    """``one_pass(out, tile, overlap)``, redone with half the tile edge after each out-of-memory error."""
    out: np.ndarray | None = None
    while True:
        try:
            return one_pass(out, tile, min(max(int(overlap), 0), tile // 2))
        except Exception as exc:  # noqa: BLE001 - only out-of-memory errors are retried
            if not is_oom(exc) or isinstance(exc, OutputMemoryError) or tile // 2 < MIN_TILE:
                raise
            if device.type == "cuda":
                torch.cuda.empty_cache()
            new = choose_tile(tile // 2)
            log.warning("out of memory with %d px tiles; retrying with %d px tiles", tile, new)
            tile = new
