"""SRResNet (Ledig et al., "Photo-Realistic Single Image Super-Resolution Using a Generative
Adversarial Network", CVPR 2017) -- the MSE-trained generator of SRGAN.

Defining facts: LR input; conv9x9 + PReLU; 16 residual blocks conv3x3-BN-PReLU-conv3x3-BN with
identity skip; conv3x3-BN and a long skip from the first features; per x2 stage conv3x3 n -> 4n,
PixelShuffle(2), PReLU; conv9x9 to the output. PReLUs have a single shared slope (as in the
original Torch/TF code), so 1,381,011 parameters for 1 channel in/out at x2.

Shapes: (B, C_in, H, W) -> (B, C_out, sH, sW) for s in {2, 3, 4, 8} (x3 uses one PixelShuffle(3)).
BatchNorm makes the output depend on the batch in training mode; use ``eval()`` for inference.
"""

from __future__ import annotations

from torch import Tensor, nn

from microsr.models.blocks import PixelShuffleUpsampler, conv2d
from microsr.models.registry import register_model


class SRResBlock(nn.Module):
    """``x + BN(conv(PReLU(BN(conv(x)))))``."""

    def __init__(self, n_feats: int):
        super().__init__()
        self.body = nn.Sequential(
            conv2d(n_feats, n_feats),
            nn.BatchNorm2d(n_feats),
            nn.PReLU(),
            conv2d(n_feats, n_feats),
            nn.BatchNorm2d(n_feats),
        )

    def forward(self, x: Tensor) -> Tensor:
        """(B, n, H, W) -> (B, n, H, W)."""
        return x + self.body(x)


class SRResNet(nn.Module):
    """SRResNet generator (see module docstring)."""

    def __init__(
        self, in_channels: int, out_channels: int, scale: int, n_feats: int = 64, n_blocks: int = 16
    ):
        super().__init__()
        self.head = nn.Sequential(conv2d(in_channels, n_feats, 9), nn.PReLU())
        self.body = nn.Sequential(
            *[SRResBlock(n_feats) for _ in range(n_blocks)],
            conv2d(n_feats, n_feats),
            nn.BatchNorm2d(n_feats),
        )
        self.tail = nn.Sequential(
            PixelShuffleUpsampler(n_feats, scale, act=nn.PReLU), conv2d(n_feats, out_channels, 9)
        )

    def forward(self, x: Tensor) -> Tensor:
        """(B, C_in, H, W) -> (B, C_out, scale*H, scale*W)."""
        f = self.head(x)
        return self.tail(f + self.body(f))


@register_model(
    "srresnet",
    input_grid="lr",
    tiny={"n_feats": 8, "n_blocks": 1},
    default_loss="mse",
    description="SRResNet (Ledig 2017): 16 conv-BN-PReLU res blocks, sub-pixel up-sampling, MSE",
)
def build_srresnet(
    in_channels: int, out_channels: int, scale: int, *, n_feats: int = 64, n_blocks: int = 16
) -> nn.Module:
    """Build SRResNet with ``n_feats`` channels and ``n_blocks`` residual blocks."""
    return SRResNet(in_channels, out_channels, scale, n_feats, n_blocks)
