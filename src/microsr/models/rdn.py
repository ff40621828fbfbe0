"""RDN (Zhang, Tian, Kong, Zhong, Fu, "Residual Dense Network for Image Super-Resolution",
CVPR 2018).

Defining facts: LR input; shallow feature extraction SFE1, SFE2 (conv3x3, G0 channels); D residual
dense blocks (RDB), each C densely connected conv3x3+ReLU layers of growth G, local feature fusion
(LFF, conv1x1 G0 + C*G -> G0) and a local residual; global feature fusion GFF (conv1x1 D*G0 -> G0 on
the concatenated RDB outputs, then conv3x3) and a global residual to SFE1's output; up-sampling net
conv3x3 -> PixelShuffle stages (as EDSR) then conv3x3 out. D=16, C=8, G=G0=64: 22,121,089 params
(1ch, x2).

Shapes: (B, C_in, H, W) -> (B, C_out, sH, sW) for s in {2, 3, 4, 8}.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from microsr.models.blocks import conv2d, upsampling_tail
from microsr.models.registry import register_model


class RDB(nn.Module):
    """Residual dense block: C dense layers (conv3x3+ReLU, growth G), LFF conv1x1, local residual."""

    def __init__(self, g0: int, growth: int, n_layers: int):
        super().__init__()
        self.layers = nn.ModuleList(
            nn.Sequential(conv2d(g0 + i * growth, growth), nn.ReLU(inplace=True)) for i in range(n_layers)
        )
        self.lff = conv2d(g0 + n_layers * growth, g0, 1)

    def forward(self, x: Tensor) -> Tensor:
        """(B, G0, H, W) -> (B, G0, H, W)."""
        feats = [x]
        for layer in self.layers:
            feats.append(layer(torch.cat(feats, dim=1)))
        return x + self.lff(torch.cat(feats, dim=1))


class RDN(nn.Module):
    """RDN generator (see module docstring)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        scale: int,
        *,
        n_feats: int = 64,
        n_blocks: int = 16,
        n_layers: int = 8,
        growth: int = 64,
    ):
        super().__init__()
        self.sfe1 = conv2d(in_channels, n_feats)
        self.sfe2 = conv2d(n_feats, n_feats)
        self.rdbs = nn.ModuleList(RDB(n_feats, growth, n_layers) for _ in range(n_blocks))
        self.gff = nn.Sequential(conv2d(n_blocks * n_feats, n_feats, 1), conv2d(n_feats, n_feats))
        self.tail = upsampling_tail(n_feats, scale, out_channels)

    def forward(self, x: Tensor) -> Tensor:
        """(B, C_in, H, W) -> (B, C_out, scale*H, scale*W)."""
        f_1 = self.sfe1(x)
        h = self.sfe2(f_1)
        outs = []
        for rdb in self.rdbs:
            h = rdb(h)
            outs.append(h)
        return self.tail(f_1 + self.gff(torch.cat(outs, dim=1)))


register_model(
    "rdn",
    input_grid="lr",
    tiny={"n_feats": 8, "n_blocks": 2, "n_layers": 2, "growth": 8},
    default_loss="l1",
    description="RDN (Zhang 2018): 16 residual dense blocks x 8 layers, G=G0=64",
)(RDN)
