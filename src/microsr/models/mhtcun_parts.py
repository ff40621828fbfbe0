"""Building blocks of MHTCUN (Gong et al., "Deep neural networks for image super-resolution in optical
microscopy by using modified hybrid task cascade U-Net", PIER 2021), built from the paper's prose
(no public code exists). The model itself and the list of free choices are in
:mod:`microsr.models.mhtcun`.

All blocks keep the spatial size except where stated; C is the feature width (64 in the paper).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from microsr.models.blocks import conv2d
from microsr.models.fourier import FourierAttentionBlock, FourierChannelAttention


class DSConv(nn.Sequential):
    """Depthwise-separable conv: depthwise 3x3 (groups=C_in) + pointwise 1x1 C_in->C_out, both with
    bias, then swish (SiLU) when ``act``. (B, C_in, H, W) -> (B, C_out, H, W);
    10*C_in + C_in*C_out + C_out parameters (4,800 at 64 -> 64)."""

    def __init__(self, in_ch: int, out_ch: int, act: bool = True) -> None:
        layers: list[nn.Module] = [
            nn.Conv2d(in_ch, in_ch, 3, padding=1, groups=in_ch),
            nn.Conv2d(in_ch, out_ch, 1),
        ]
        if act:
            layers.append(nn.SiLU())
        super().__init__(*layers)


class MFCAB(FourierAttentionBlock):
    """MHTCUN's FCAB (paper Fig. 4b): ``x + FCA(swish(DS(swish(DS(x)))))``.

    The Fourier channel attention is DFCAN's (gamma, reduction, fftshift, GAP, 1x1-ReLU-1x1-sigmoid);
    with ``separable_attention`` its spectrum conv is a depthwise-separable 3x3 (no swish: the FCA
    applies its own ReLU) instead of a full conv3x3. (B, C, H, W) -> (B, C, H, W).
    ``checkpoint``: see :class:`~microsr.models.fourier.FourierAttentionBlock`. The options come
    from :class:`~microsr.models.mhtcun.MHTCUN`, which holds their defaults.
    """

    def __init__(
        self,
        channels: int,
        *,
        reduction: int,
        gamma: float,
        spectrum_size: int | None,
        separable_attention: bool,
        checkpoint: bool,
    ) -> None:
        body = nn.Sequential(DSConv(channels, channels), DSConv(channels, channels))
        conv = DSConv(channels, channels, act=False) if separable_attention else None
        attention = FourierChannelAttention(channels, reduction, gamma, spectrum_size, conv=conv)
        super().__init__(body, attention, checkpoint)


def _fcabs(n: int, channels: int, opts: dict) -> nn.Sequential:
    return nn.Sequential(*[MFCAB(channels, **opts) for _ in range(n)])


class UpShuffle(nn.Sequential):
    """PixelShuffle(2) then conv3x3 (C_in/4 -> C_out): (B, C_in, H, W) -> (B, C_out, 2H, 2W)."""

    def __init__(self, in_ch: int, out_ch: int) -> None:
        super().__init__(nn.PixelShuffle(2), conv2d(in_ch // 4, out_ch, 3))


class UNet(nn.Module):
    """The FCAB U-Net of paper Fig. 3, levels C / 2C / 4C (64/128/256).

    encoder: e1 = FCAB^n(x) [C]; e2 = FCAB^n(conv3x3 s2 (e1)) [2C]; e3 = FCAB^n(conv3x3 s2 (e2)) [4C]
    decoder: d = FCAB^n(e3) [4C, the low-resolution maps are processed first];
             d = FCAB^n(UpShuffle(d) + e2) [2C]; out = UpShuffle(d) + e1 [C]
    (B, C, H, W) -> (B, C, H, W); H and W must be multiples of 4. ``n = n_blocks``.
    """

    def __init__(self, channels: int, n_blocks: int, fcab_opts: dict) -> None:
        super().__init__()
        c1, c2, c3 = channels, 2 * channels, 4 * channels
        self.enc1 = _fcabs(n_blocks, c1, fcab_opts)
        self.down1 = conv2d(c1, c2, 3, stride=2)
        self.enc2 = _fcabs(n_blocks, c2, fcab_opts)
        self.down2 = conv2d(c2, c3, 3, stride=2)
        self.enc3 = _fcabs(n_blocks, c3, fcab_opts)
        self.dec3 = _fcabs(n_blocks, c3, fcab_opts)
        self.up2 = UpShuffle(c3, c2)
        self.dec2 = _fcabs(n_blocks, c2, fcab_opts)
        self.up1 = UpShuffle(c2, c1)

    def forward(self, x: Tensor) -> Tensor:
        e1 = self.enc1(x)
        e2 = self.enc2(self.down1(e1))
        d = self.dec3(self.enc3(self.down2(e2)))
        d = self.dec2(self.up2(d) + e2)
        return self.up1(d) + e1


class FRM(nn.Module):
    """Feature refinement module: concat(x, previous features) -> conv3x3 2C->C -> U-Net.

    ``forward(x, prev)``: both (B, C, H, W) -> (B, C, H, W).
    """

    def __init__(self, channels: int, n_blocks: int, fcab_opts: dict) -> None:
        super().__init__()
        self.reduce = conv2d(2 * channels, channels, 3)
        self.unet = UNet(channels, n_blocks, fcab_opts)

    def forward(self, x: Tensor, prev: Tensor) -> Tensor:
        return self.unet(self.reduce(torch.cat([x, prev], dim=1)))


class SpatialContext(nn.Module):
    """Spatial-context branch modelled on the feature pyramid (paper Fig. 6).

    pyramid: p0 = x, p_k = swish(conv3x3 stride 2 (p_{k-1})), all C channels;
    top-down: t = 1x1(p_top); t = 1x1(p_k) + ConvTranspose(k=2, s=2)(t) down to level 0;
    then 4 DS convs (swish) and a 1x1 conv. (B, C, H, W) -> (B, C, H, W); H, W multiples of
    ``2 ** (levels - 1)``.
    """

    def __init__(self, channels: int, levels: int = 3) -> None:
        super().__init__()
        if levels < 1:
            raise ValueError(f"context levels must be >= 1, got {levels}")
        c = channels
        self.downs = nn.ModuleList(
            nn.Sequential(conv2d(c, c, 3, stride=2), nn.SiLU()) for _ in range(levels - 1)
        )
        self.laterals = nn.ModuleList(nn.Conv2d(c, c, 1) for _ in range(levels))
        self.ups = nn.ModuleList(nn.ConvTranspose2d(c, c, 2, stride=2) for _ in range(levels - 1))
        self.head = nn.Sequential(*[DSConv(c, c) for _ in range(4)], nn.Conv2d(c, c, 1))

    def forward(self, x: Tensor) -> Tensor:
        feats = [x]
        for down in self.downs:
            feats.append(down(feats[-1]))
        t = self.laterals[-1](feats[-1])
        for k in range(len(feats) - 2, -1, -1):
            t = self.laterals[k](feats[k]) + self.ups[k](t)
        return self.head(t)


class PixelBranch(nn.Module):
    """Pixel branch (paper Fig. 5): h = FRM features + previous branch features + spatial context
    (element-wise sums); p = 4 DS convs (swish) of h; image = conv3x3 C->C_out (p).

    ``forward(frm, prev, context) -> (p, image)``; ``prev`` is ``None`` for the first branch.
    """

    def __init__(self, channels: int, out_channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(*[DSConv(channels, channels) for _ in range(4)])
        self.reconstruct = conv2d(channels, out_channels, 3)

    def forward(self, frm: Tensor, prev: Tensor | None, context: Tensor) -> tuple[Tensor, Tensor]:
        h = frm + context if prev is None else frm + prev + context
        p = self.body(h)
        return p, self.reconstruct(p)
