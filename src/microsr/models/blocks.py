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
