"""Small building blocks shared by several architecture families."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn


def bicubic_upsample(x: Tensor, scale: int) -> Tensor:
    """Bicubic up-sampling by an integer factor, the grid HR-grid models work on.

    ``align_corners=False`` with ``scale_factor`` matches MATLAB/PIL pixel-centre conventions
    (up to the cubic kernel coefficient -0.75 used by PyTorch vs -0.5 in MATLAB).
    """
    if scale == 1:
        return x
    return F.interpolate(x, scale_factor=scale, mode="bicubic", align_corners=False)


def conv2d(in_ch: int, out_ch: int, kernel_size: int = 3, *, bias: bool = True, stride: int = 1) -> nn.Conv2d:
    """A 'same' convolution (padding ``kernel_size // 2``)."""
    return nn.Conv2d(in_ch, out_ch, kernel_size, stride=stride, padding=kernel_size // 2, bias=bias)


def pad_to_multiple(x: Tensor, multiple: int) -> Tensor:
    """Pad (B, C, H, W) at the bottom/right so that H and W are multiples of ``multiple``.

    Reflect padding where the image is large enough, replicate otherwise; callers crop the output
    back to the unpadded size (U-Net style models need sizes divisible by their total stride).
    """
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if isinstance(h, int) and isinstance(w, int) and ph == 0 and pw == 0:
        return x  # sizes are symbolic while exporting: no branch on their values then
    mode = "reflect" if ph < h and pw < w else "replicate"
    return F.pad(x, (0, pw, 0, ph), mode=mode)
