"""CARE U-Net: the network of CSBDeep's CARE (Weigert et al., "Content-aware image restoration:
pushing the limits of fluorescence microscopy", Nature Methods 15, 2018), on the bicubic grid.

Defining facts (CSBDeep 0.8.2, ``csbdeep.internals.blocks.unet_block`` and
``csbdeep.internals.nets.custom_unet`` with the defaults of ``csbdeep.models.Config``)
------------------------------------------------------------------------------------
* Works on an image already on the output grid; for super-resolution CARE is given the
  bicubic-upsampled LR image, so here the LR image (B, C, h, w) is bicubic-upsampled to s*(h, w).
* ``depth`` levels (2); level n has ``n_first * 2**n`` filters (32, 64), ``conv_per_level`` (2)
  'same' convolutions of ``kernel_size`` (5) with bias and ReLU, then a 2x2 max-pooling.
* Middle: ``conv_per_level - 1`` convolutions of ``n_first * 2**depth`` filters (128), then one of
  ``n_first * 2**(depth - 1)`` (64).
* Up level n (deepest first): nearest-neighbour x2 up-sampling, concatenated with the skip of level n
  ([up, skip]), ``conv_per_level - 1`` convolutions of ``n_first * 2**n`` filters, then one of
  ``n_first * 2**max(n - 1, 0)``; all with ReLU (the last one too).
* A linear 1x1 convolution to the output channels; with ``residual`` (CARE's default when the input
  and output channels agree) the input is added; linear output (no activation).
* Weights Glorot-uniform, biases zero (Keras' defaults, which CSBDeep keeps).
* Parameters (1 channel, residual): 922,977 at the defaults (depth 2, 32 filters, kernel 5, 2 convs);
  ``tests/models/test_care_unet.py`` lists the counts of CSBDeep's own Keras model at other settings.

Free choices
------------
* Sizes that are not multiples of ``2**depth`` are reflect-padded at the bottom/right (replicate when
  too small to reflect) and the output is cropped back (CSBDeep pads too, before predicting).
* The CARE training recipe (MAE, Adam 4e-4, percentile normalisation) is not part of the network;
  ``default_loss`` is MAE, CARE's loss when not probabilistic.
* Written here rather than imported: CSBDeep is a TensorFlow/Keras package.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from microsr.models.blocks import bicubic_upsample, conv2d, pad_to_multiple
from microsr.models.registry import register_model, variant


def _level(widths: list[tuple[int, int]], kernel_size: int) -> nn.Sequential:
    """Convolutions (in, out) of one level, each followed by a ReLU."""
    layers: list[nn.Module] = []
    for c_in, c_out in widths:
        layers += [conv2d(c_in, c_out, kernel_size), nn.ReLU(inplace=True)]
    return nn.Sequential(*layers)


def _chain(c_in: int, width: int, last: int, n: int) -> list[tuple[int, int]]:
    """``n`` convolutions from ``c_in``: ``n - 1`` of ``width`` channels, then one of ``last``."""
    outs = [width] * (n - 1) + [last]
    return list(zip([c_in, *outs[:-1]], outs, strict=True))


class CAREUNet(nn.Module):
    """CSBDeep's CARE U-Net on the bicubic grid: LR (B, C, h, w) -> (B, C_out, s*h, s*w).

    Parameters
    ----------
    in_channels, out_channels, scale : int
    depth : int
        Number of 2x2 max-poolings (resolution levels below the first), at least 1.
    n_first : int
        Filters of the first level, doubled at each level down.
    kernel_size : int
        Odd convolution size.
    conv_per_level : int
        Convolutions per level, at least 1.
    residual : bool
        Add the (bicubic-upsampled) input to the output; needs ``in_channels == out_channels``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        scale: int,
        *,
        depth: int = 2,
        n_first: int = 32,
        kernel_size: int = 5,
        conv_per_level: int = 2,
        residual: bool = True,
    ):
        super().__init__()
        if depth < 1 or conv_per_level < 1 or n_first < 1:
            raise ValueError(
                f"care-unet needs depth, conv_per_level, n_first >= 1, got {depth}, {conv_per_level}, {n_first}"
            )
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"care-unet kernel_size must be odd, got {kernel_size}")
        if residual and in_channels != out_channels:
            raise ValueError(
                f"care-unet residual needs in_channels == out_channels, got {in_channels}, {out_channels}"
            )
        self.scale, self.depth, self.residual = scale, depth, residual
        k, n = kernel_size, conv_per_level
        width = [n_first * 2**i for i in range(depth + 1)]
        self.down = nn.ModuleList()
        c = in_channels
        for level in range(depth):
            self.down.append(_level(_chain(c, width[level], width[level], n), k))
            c = width[level]
        self.middle = _level(_chain(c, width[depth], width[depth - 1], n), k)
        self.up = nn.ModuleList()
        c = width[depth - 1]
        for level in reversed(range(depth)):
            self.up.append(_level(_chain(c + width[level], width[level], width[max(level - 1, 0)], n), k))
            c = width[max(level - 1, 0)]
        self.out = nn.Conv2d(c, out_channels, 1)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.xavier_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def forward(self, lr: Tensor) -> Tensor:
        x = bicubic_upsample(lr, self.scale)
        h, w = x.shape[-2:]
        y = pad_to_multiple(x, 2**self.depth)
        skips = []
        for block in self.down:
            y = block(y)
            skips.append(y)
            y = F.max_pool2d(y, 2)
        y = self.middle(y)
        for block in self.up:
            y = F.interpolate(y, scale_factor=2, mode="nearest")
            y = block(torch.cat([y, skips.pop()], dim=1))
        y = self.out(y)[..., :h, :w]
        return y + x if self.residual else y


# the class is the builder: its keyword arguments are the registered options
register_model(
    "care-unet",
    input_grid="hr",
    tiny={"n_first": 8, "kernel_size": 3},
    default_loss="l1",
    global_skip=True,
    description="CARE U-Net (Weigert 2018, CSBDeep): depth 2, 32 filters, kernel 5, residual, HR grid",
)(CAREUNet)
register_model(
    "care-unet-k3",
    input_grid="hr",
    tiny={"n_first": 8},
    default_loss="l1",
    global_skip=True,
    description="CARE U-Net with 3x3 kernels: depth 2, 32 filters, residual, HR grid (recommended)",
)(
    variant(
        CAREUNet,
        "CARE's U-Net with 3x3 kernels: half the receptive field and a third of the work per pixel.",
        kernel_size=3,
    )
)
