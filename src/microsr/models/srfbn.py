"""SRFBN (Li, Yang, Liu, Yang, Jeon, Wu, "Feedback Network for Image Super-Resolution", CVPR 2019).

Defining facts: LR input; LR feature extraction conv3x3 -> 4n then conv1x1 -> n (PReLU); a feedback
block (FB) unrolled over T time steps whose output at step t-1 is its hidden state at step t (at t=1
the hidden state is the input features themselves); inside the FB: compress-in conv1x1 2n -> n, then
G projection groups, each an up-projection (transposed conv, kernel/stride/padding 6/2/2 at x2,
7/3/2 at x3, 8/4/2 at x4) and a down-projection (conv with the same k/s/p), densely fed by all
previous LR (or HR) features through conv1x1 transitions from the second group on; compress-out
conv1x1 G*n -> n. Reconstruction: transposed conv (same k/s/p) + PReLU, conv3x3 to the output, plus
the bilinearly up-sampled input, at every step. All PReLUs have one parameter (init 0.2); no RGB mean
shift. n=64, G=6, T=4: 2,134,748 params (1ch, x2).

Output: :class:`SROutput` with ``final`` = the last step's image (B, C_out, sH, sW) and ``aux`` =
``{"step1": ..., "step{T-1}": ...}``. The paper supervises every step (L1, equal weights); a plain
pixel loss such as the registered default "l1" supervises ``final`` only.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from microsr.models.blocks import check_same_channels
from microsr.models.outputs import SROutput
from microsr.models.registry import register_model

# scale -> (kernel, stride, padding) of the projection (de)convolutions, from the paper's code.
PROJECTION_KSP = {2: (6, 2, 2), 3: (7, 3, 2), 4: (8, 4, 2), 8: (12, 8, 2)}


def _conv(cin: int, cout: int, k: int, s: int = 1, p: int | None = None) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, k, s, k // 2 if p is None else p), nn.PReLU(init=0.2))


def _deconv(cin: int, cout: int, k: int, s: int, p: int) -> nn.Sequential:
    return nn.Sequential(nn.ConvTranspose2d(cin, cout, k, s, p), nn.PReLU(init=0.2))


class FeedbackBlock(nn.Module):
    """The feedback block: ``forward(x, hidden) -> new hidden``, all (B, n, H, W)."""

    def __init__(self, n_feats: int, n_groups: int, scale: int):
        super().__init__()
        k, s, p = PROJECTION_KSP[scale]
        self.compress_in = _conv(2 * n_feats, n_feats, 1)
        self.up = nn.ModuleList(_deconv(n_feats, n_feats, k, s, p) for _ in range(n_groups))
        self.down = nn.ModuleList(_conv(n_feats, n_feats, k, s, p) for _ in range(n_groups))
        self.up_tran = nn.ModuleList(_conv(n_feats * (i + 1), n_feats, 1) for i in range(1, n_groups))
        self.down_tran = nn.ModuleList(_conv(n_feats * (i + 1), n_feats, 1) for i in range(1, n_groups))
        self.compress_out = _conv(n_groups * n_feats, n_feats, 1)

    def forward(self, x: Tensor, hidden: Tensor) -> Tensor:
        """Fuse the input features with the previous output and run the projection groups."""
        lr_feats = [self.compress_in(torch.cat([x, hidden], dim=1))]
        hr_feats: list[Tensor] = []
        for i, (up, down) in enumerate(zip(self.up, self.down)):
            ld_l = lr_feats[0] if i == 0 else self.up_tran[i - 1](torch.cat(lr_feats, dim=1))
            hr_feats.append(up(ld_l))
            ld_h = hr_feats[0] if i == 0 else self.down_tran[i - 1](torch.cat(hr_feats, dim=1))
            lr_feats.append(down(ld_h))
        return self.compress_out(torch.cat(lr_feats[1:], dim=1))


class SRFBN(nn.Module):
    """SRFBN generator (see module docstring)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        scale: int,
        *,
        n_feats: int = 64,
        n_groups: int = 6,
        n_steps: int = 4,
    ):
        super().__init__()
        if scale not in PROJECTION_KSP:
            raise ValueError(f"srfbn supports scale {sorted(PROJECTION_KSP)}, got {scale}")
        check_same_channels("srfbn", in_channels, out_channels, "adds the up-sampled input")
        if n_steps < 1:
            raise ValueError(f"srfbn needs at least 1 step, got {n_steps}")
        k, s, p = PROJECTION_KSP[scale]
        self.scale = scale
        self.n_steps = n_steps
        self.conv_in = _conv(in_channels, 4 * n_feats, 3)
        self.feat_in = _conv(4 * n_feats, n_feats, 1)
        self.block = FeedbackBlock(n_feats, n_groups, scale)
        self.out = _deconv(n_feats, n_feats, k, s, p)
        self.conv_out = nn.Conv2d(n_feats, out_channels, 3, 1, 1)

    def forward(self, x: Tensor) -> SROutput:
        """(B, C, H, W) -> SROutput(final (B, C, sH, sW), aux {"step1".."step{T-1}"})."""
        inter = F.interpolate(x, scale_factor=self.scale, mode="bilinear", align_corners=False)
        f = self.feat_in(self.conv_in(x))
        hidden = f
        steps = []
        for _ in range(self.n_steps):
            hidden = self.block(f, hidden)
            steps.append(inter + self.conv_out(self.out(hidden)))
        return SROutput(final=steps[-1], aux={f"step{i + 1}": y for i, y in enumerate(steps[:-1])})


register_model(
    "srfbn",
    input_grid="lr",
    tiny={"n_feats": 8, "n_groups": 2, "n_steps": 2},
    default_loss="l1",
    description="SRFBN (Li 2019): feedback block, 6 projection groups, 4 steps, 64ch",
)(SRFBN)
