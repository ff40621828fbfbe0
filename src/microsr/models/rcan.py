"""RCAN (Zhang, Li, Li, Wang, Zhong, Fu, "Image Super-Resolution Using Very Deep Residual Channel
Attention Networks", ECCV 2018).

Defining facts: LR input; head conv3x3; residual-in-residual body of ``n_groups`` (10) residual
groups, each ``n_blocks`` (20) residual channel-attention blocks (RCAB) followed by a group-end conv3x3
and a short skip around the group; a body-end conv3x3 and a long skip; EDSR-style sub-pixel
up-sampler and conv3x3 out. RCAB(x) = x + CA(conv(ReLU(conv(x)))); channel attention
CA(y) = y * sigmoid(W_up ReLU(W_down avgpool(y))) with 1x1 convs (with bias) and reduction 16.
No batch norm, no RGB mean shift. 64 channels: 15,442,337 params (1ch, x2).

Shapes: (B, C_in, H, W) -> (B, C_out, sH, sW) for s in {2, 3, 4, 8}.
"""

from __future__ import annotations

from torch import Tensor, nn

from microsr.models.blocks import ResidualTrunk, conv2d
from microsr.models.registry import register_model


class ChannelAttention(nn.Module):
    """Squeeze-and-excitation channel attention: (B, n, H, W) -> same, scaled per channel in (0, 1)."""

    def __init__(self, n_feats: int, reduction: int = 16):
        super().__init__()
        hidden = max(1, n_feats // reduction)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Sequential(
            nn.Conv2d(n_feats, hidden, 1), nn.ReLU(inplace=True), nn.Conv2d(hidden, n_feats, 1), nn.Sigmoid()
        )

    def forward(self, x: Tensor) -> Tensor:
        """Multiply every channel by its attention weight (B, n, 1, 1)."""
        return x * self.fc(self.pool(x))


class RCAB(nn.Module):
    """Residual channel-attention block ``x + CA(conv(ReLU(conv(x))))``."""

    def __init__(self, n_feats: int, reduction: int = 16):
        super().__init__()
        self.body = nn.Sequential(
            conv2d(n_feats, n_feats),
            nn.ReLU(inplace=True),
            conv2d(n_feats, n_feats),
            ChannelAttention(n_feats, reduction),
        )

    def forward(self, x: Tensor) -> Tensor:
        """(B, n, H, W) -> (B, n, H, W)."""
        return x + self.body(x)


class ResidualGroup(nn.Module):
    """``n_blocks`` RCABs, a group-end conv3x3 and a short skip."""

    def __init__(self, n_feats: int, n_blocks: int, reduction: int = 16):
        super().__init__()
        self.body = nn.Sequential(
            *[RCAB(n_feats, reduction) for _ in range(n_blocks)], conv2d(n_feats, n_feats)
        )

    def forward(self, x: Tensor) -> Tensor:
        """(B, n, H, W) -> (B, n, H, W)."""
        return x + self.body(x)


class RCAN(ResidualTrunk):
    """RCAN generator (see module docstring)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        scale: int,
        *,
        n_feats: int = 64,
        n_groups: int = 10,
        n_blocks: int = 20,
        reduction: int = 16,
    ):
        group = lambda: ResidualGroup(n_feats, n_blocks, reduction)  # noqa: E731
        super().__init__(in_channels, out_channels, scale, n_feats, group, n_groups)


register_model(
    "rcan",
    input_grid="lr",
    tiny={"n_feats": 16, "n_groups": 1, "n_blocks": 2, "reduction": 4},
    default_loss="l1",
    description="RCAN (Zhang 2018): 10 residual groups x 20 channel-attention blocks, 64ch",
)(RCAN)
