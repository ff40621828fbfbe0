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

from microsr.models.blocks import ResidualTrunk, conv2d
from microsr.models.registry import register_model, variant


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


class EDSR(ResidualTrunk):
    """EDSR generator (see module docstring)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        scale: int,
        *,
        n_feats: int = 64,
        n_blocks: int = 16,
        res_scale: float = 1.0,
    ):
        super().__init__(
            in_channels, out_channels, scale, n_feats, lambda: ResBlock(n_feats, res_scale), n_blocks
        )


_FAMILY = dict(input_grid="lr", default_loss="l1")
register_model(
    "edsr-baseline",
    **_FAMILY,
    tiny={"n_feats": 8, "n_blocks": 1},
    description="EDSR baseline (Lim 2017): 16 res blocks, 64ch, no BN, sub-pixel up-sampling",
)(variant(EDSR, "EDSR baseline: 16 residual blocks of 64 channels.", n_feats=64, n_blocks=16, res_scale=1.0))
register_model(
    "edsr",
    **_FAMILY,
    tiny={"n_feats": 8, "n_blocks": 2},
    description="EDSR (Lim 2017): 32 res blocks, 256ch, residual scaling 0.1",
)(
    variant(
        EDSR,
        "EDSR: 32 residual blocks of 256 channels, scaling 0.1.",
        n_feats=256,
        n_blocks=32,
        res_scale=0.1,
    )
)
