"""RGB <-> YCbCr (ITU-R BT.601, MATLAB ``rgb2ycbcr`` convention) and the seed's RGB SR recipe.

The leukocyte geometry-prior seed (Hua et al. 2020, section 2.4) converts RGB images to YCbCr,
super-resolves the luminance Y with the network and up-scales Cb and Cr bicubically.

Convention (MATLAB ``rgb2ycbcr`` for floating-point input in [0, 1], identical to
``skimage.color.rgb2ycbcr(rgb) / 255``)::

    Y  = ( 16 + 65.481 R + 128.553 G +  24.966 B) / 255      in [16/255, 235/255]
    Cb = (128 - 37.797 R -  74.203 G + 112.000 B) / 255      in [16/255, 240/255]
    Cr = (128 + 112.000 R - 93.786 G -  18.214 B) / 255

``ycbcr_to_rgb`` applies the exact matrix inverse. Values are not clipped by the conversions.

Layouts: NumPy arrays and torch tensors are accepted and the type is preserved. The colour axis is
``channel_axis`` (default: last axis for NumPy, (H, W, 3); axis 1 for torch, (B, 3, H, W)).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import numpy as np
import torch
import torch.nn.functional as F

ArrayT = TypeVar("ArrayT", np.ndarray, torch.Tensor)

#: Rows give Y, Cb, Cr from (R, G, B) in [0, 1]; MATLAB ``rgb2ycbcr`` / ITU-R BT.601 (scaled /255).
YCBCR_MATRIX = (
    np.array(
        [[65.481, 128.553, 24.966], [-37.797, -74.203, 112.0], [112.0, -93.786, -18.214]],
        dtype=np.float64,
    )
    / 255.0
)
YCBCR_OFFSET = np.array([16.0, 128.0, 128.0], dtype=np.float64) / 255.0
RGB_MATRIX = np.linalg.inv(YCBCR_MATRIX)


def _default_axis(x: np.ndarray | torch.Tensor, channel_axis: int | None) -> int:
    if channel_axis is not None:
        return channel_axis
    return 1 if isinstance(x, torch.Tensor) else -1


def _affine(x: ArrayT, matrix: np.ndarray, pre: np.ndarray, post: np.ndarray, axis: int) -> ArrayT:
    """``matrix @ (x - pre) + post`` along ``axis`` (length 3) of ``x``."""
    if x.shape[axis] != 3:
        raise ValueError(f"expected 3 colour channels on axis {axis}, got shape {tuple(x.shape)}")
    if isinstance(x, torch.Tensor):
        if not torch.is_floating_point(x):
            raise ValueError("colour conversion needs floating-point values in [0, 1]")
        m = torch.as_tensor(matrix, dtype=x.dtype, device=x.device)
        a = torch.as_tensor(pre, dtype=x.dtype, device=x.device)
        b = torch.as_tensor(post, dtype=x.dtype, device=x.device)
        moved = torch.movedim(x, axis, -1)
        return torch.movedim((moved - a) @ m.T + b, -1, axis)
    x = np.asarray(x)
    if x.dtype.kind != "f":
        raise ValueError(f"colour conversion needs floating-point values in [0, 1], got {x.dtype}")
    moved = np.moveaxis(x, axis, -1)
    out = (moved - pre) @ matrix.T + post
    return np.moveaxis(out.astype(x.dtype, copy=False), -1, axis)


def rgb_to_ycbcr(rgb: ArrayT, *, channel_axis: int | None = None) -> ArrayT:
    """RGB in [0, 1] -> YCbCr in [0, 1] (BT.601 studio range as MATLAB), same shape and type."""
    axis = _default_axis(rgb, channel_axis)
    return _affine(rgb, YCBCR_MATRIX, np.zeros(3), YCBCR_OFFSET, axis)


def ycbcr_to_rgb(ycbcr: ArrayT, *, channel_axis: int | None = None) -> ArrayT:
    """Exact inverse of :func:`rgb_to_ycbcr` (MATLAB ``ycbcr2rgb``); no clipping."""
    axis = _default_axis(ycbcr, channel_axis)
    return _affine(ycbcr, RGB_MATRIX, YCBCR_OFFSET, np.zeros(3), axis)


def _bicubic(planes: torch.Tensor, scale: int) -> torch.Tensor:
    """(..., 2, H, W) -> (..., 2, sH, sW) with the same bicubic as the models (align_corners=False)."""
    lead = planes.shape[:-3]
    flat = planes.reshape(-1, *planes.shape[-3:])
    up = F.interpolate(flat, scale_factor=scale, mode="bicubic", align_corners=False)
    return up.reshape(*lead, *up.shape[-3:])


def super_resolve_rgb(
    y_fn: Callable[[ArrayT], ArrayT],
    rgb: ArrayT,
    scale: int,
    *,
    channel_axis: int | None = None,
    clip: bool = False,
) -> ArrayT:
    """Super-resolve an RGB image the seed's way: ``y_fn`` on Y, bicubic on Cb and Cr.

    Parameters
    ----------
    y_fn : callable
        Super-resolves the luminance. NumPy input: called with the Y plane without a colour axis,
        shape (..., H, W), must return (..., sH, sW). Torch input: called with (..., 1, H, W) (what a
        model takes for (B, 3, H, W) RGB), must return a tensor (..., 1, sH, sW) (for a multi-output
        model, wrap it with :func:`microsr.models.final_output`).
    rgb : ndarray or Tensor
        Floating-point RGB in [0, 1] with the colour axis at ``channel_axis`` and Y, X last
        (after moving the colour axis out).
    scale : int
        Up-sampling factor (Cb/Cr use ``F.interpolate(..., mode="bicubic", align_corners=False)``).
    channel_axis : int, optional
        Colour axis (default -1 for NumPy, 1 for torch).
    clip : bool
        Clip the RGB result to [0, 1] (off by default so no value is silently changed).

    Returns
    -------
    RGB of the input's type, spatial size multiplied by ``scale``, colour axis where it was.
    """
    axis = _default_axis(rgb, channel_axis)
    if isinstance(rgb, torch.Tensor):
        return _super_resolve_tensor(y_fn, rgb, scale, axis, clip)
    return _super_resolve_array(y_fn, rgb, scale, axis, clip)


def _super_resolve_tensor(
    y_fn: Callable[[torch.Tensor], torch.Tensor], rgb: torch.Tensor, scale: int, axis: int, clip: bool
) -> torch.Tensor:
    ycc = torch.movedim(rgb_to_ycbcr(rgb, channel_axis=axis), axis, -3)
    y_sr = y_fn(ycc[..., 0:1, :, :])
    chroma = _bicubic(ycc[..., 1:3, :, :], scale)
    if y_sr.shape[:-2] != ycc.shape[:-3] + (1,) or y_sr.shape[-2:] != chroma.shape[-2:]:
        raise ValueError(
            f"y_fn returned shape {tuple(y_sr.shape)}; expected "
            f"{tuple(ycc.shape[:-3]) + (1,) + tuple(chroma.shape[-2:])}"
        )
    out = torch.cat([y_sr.to(chroma.dtype), chroma], dim=-3)
    rgb_out = ycbcr_to_rgb(out, channel_axis=-3)
    rgb_out = rgb_out.clamp(0, 1) if clip else rgb_out
    return torch.movedim(rgb_out, -3, axis)


def _super_resolve_array(
    y_fn: Callable[[np.ndarray], np.ndarray], rgb: np.ndarray, scale: int, axis: int, clip: bool
) -> np.ndarray:
    ycc = np.moveaxis(rgb_to_ycbcr(rgb, channel_axis=axis), axis, -3)
    y_sr = np.asarray(y_fn(ycc[..., 0, :, :]))
    chroma = _bicubic(torch.from_numpy(np.ascontiguousarray(ycc[..., 1:3, :, :])), scale).numpy()
    if y_sr.shape != chroma.shape[:-3] + chroma.shape[-2:]:
        raise ValueError(
            f"y_fn returned shape {y_sr.shape}; expected {chroma.shape[:-3] + chroma.shape[-2:]}"
        )
    out = np.concatenate([y_sr[..., None, :, :].astype(chroma.dtype), chroma], axis=-3)
    rgb_out = ycbcr_to_rgb(out, channel_axis=-3)
    rgb_out = np.clip(rgb_out, 0, 1) if clip else rgb_out
    return np.moveaxis(rgb_out, -3, axis)
