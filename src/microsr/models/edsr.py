"""EDSR (Lim, Son, Kim, Nah, Lee, "Enhanced Deep Residual Networks for Single Image
Super-Resolution", CVPRW 2017).

Defining facts: LR input; head conv3x3; body of residual blocks conv-ReLU-conv with **no batch
norm**, the block output scaled by ``res_scale`` before the skip addition; a body-end conv3x3 and a
long skip around the whole body; up-sampler conv3x3 -> PixelShuffle (one x2 stage per factor 2, or a
single x3 stage); conv3x3 to the output channels. The RGB mean shift of the original is omitted
(microscopy intensities are normalised beforehand).

- ``edsr-baseline``: 16 blocks, 64 channels, res_scale 1: 1,367,553 params (1ch, x2).
- ``edsr``: 32 blocks, 256 channels, res_scale 0.1: 40,720,385 params (1ch, x2).

Shapes: (B, C_in, H, W) -> (B, C_out, sH, sW) for s in {2, 3, 4, 8}.
"""

from __future__ import annotations

from torch import Tensor, nn

from microsr.models.blocks import conv2d, upsampling_tail
from microsr.models.registry import register_model


class ResBlock(nn.Module):
    """EDSR residual block: ``x + res_scale * conv(ReLU(conv(x)))`` (no BN)."""

    def __init__(self, n_feats: int, res_scale: float = 1.0):
        super().__init__()
        self.res_scale = res_scale
        self.body = nn.Sequential(conv2d(n_feats, n_feats), nn.ReLU(inplace=True), conv2d(n_feats, n_feats))

    def forward(self, x: Tensor) -> Tensor:
        """(B, n, H, W) -> (B, n, H, W).

        The branch output is scaled and summed in place (a conv output, which autograd does not
        keep) and the multiply is skipped for ``res_scale == 1``: two fewer full-size temporaries
        per block, which made EDSR-baseline inference about 10 % faster on the CPU
        (``benchmarks/ab_train.py --mode infer``).
        """
        res = self.body(x)
        if self.res_scale != 1.0:
            res.mul_(self.res_scale)
        return res.add_(x)


class EDSR(nn.Module):
    """EDSR generator (see module docstring)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        scale: int,
        n_feats: int = 64,
        n_blocks: int = 16,
        res_scale: float = 1.0,
    ):
        super().__init__()
        self.head = conv2d(in_channels, n_feats)
        self.body = nn.Sequential(
            *[ResBlock(n_feats, res_scale) for _ in range(n_blocks)], conv2d(n_feats, n_feats)
        )
        self.tail = upsampling_tail(n_feats, scale, out_channels)

    def forward(self, x: Tensor) -> Tensor:
        """(B, C_in, H, W) -> (B, C_out, scale*H, scale*W)."""
        f = self.head(x)
        return self.tail(self.body(f).add_(f))


def _builder(n_feats_default: int, n_blocks_default: int, res_scale_default: float):
    def build(
        in_channels: int,
        out_channels: int,
        scale: int,
        *,
        n_feats: int = n_feats_default,
        n_blocks: int = n_blocks_default,
        res_scale: float = res_scale_default,
    ) -> nn.Module:
        """Build EDSR with ``n_feats`` channels, ``n_blocks`` residual blocks, ``res_scale``."""
        return EDSR(in_channels, out_channels, scale, n_feats, n_blocks, res_scale)

    return build


build_edsr_baseline = register_model(
    "edsr-baseline",
    input_grid="lr",
    tiny={"n_feats": 8, "n_blocks": 1},
    default_loss="l1",
    description="EDSR baseline (Lim 2017): 16 res blocks, 64ch, no BN, sub-pixel up-sampling",
)(_builder(64, 16, 1.0))

build_edsr = register_model(
    "edsr",
    input_grid="lr",
    tiny={"n_feats": 8, "n_blocks": 2},
    default_loss="l1",
    description="EDSR (Lim 2017): 32 res blocks, 256ch, residual scaling 0.1",
)(_builder(256, 32, 0.1))
