"""The networks of the leukocyte geometry-prior model: the prior U-Net and the SR network.

See :mod:`microsr.models.geometry_prior` for the defining facts (seed sections 2.1-2.4) and the
registered models built from these pieces.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from microsr.models.blocks import conv2d, pad_to_multiple


class _DoubleConv(nn.Sequential):
    def __init__(self, in_ch: int, out_ch: int):
        super().__init__(
            conv2d(in_ch, out_ch), nn.ReLU(inplace=True), conv2d(out_ch, out_ch), nn.ReLU(inplace=True)
        )


class PriorUNet(nn.Module):
    """Original U-Net (Ronneberger 2015) with 'same' padding; (B, C, H, W) -> logits (B, 3, H, W).

    Parameters
    ----------
    in_channels : int
    n_classes : int
        Output channels (3: background, cytoplasm, nucleus).
    width : int
        Channels of the first level (32 = halved U-Net); level k has ``width * 2**k``.
    depth : int
        Number of 2x2 max-poolings (4 as in U-Net); H, W are padded to a multiple of ``2**depth``.
    """

    def __init__(self, in_channels: int = 1, n_classes: int = 3, width: int = 32, depth: int = 4):
        super().__init__()
        widths = [width * 2**k for k in range(depth + 1)]
        self.multiple = 2**depth
        self.down = nn.ModuleList([_DoubleConv(in_channels, widths[0])])
        self.down.extend(_DoubleConv(a, b) for a, b in zip(widths[:-1], widths[1:]))
        self.up = nn.ModuleList(
            nn.ConvTranspose2d(widths[k], widths[k - 1], 2, stride=2) for k in range(depth, 0, -1)
        )
        self.up_conv = nn.ModuleList(
            _DoubleConv(2 * widths[k - 1], widths[k - 1]) for k in range(depth, 0, -1)
        )
        self.out = nn.Conv2d(widths[0], n_classes, 1)

    def forward(self, x: Tensor) -> Tensor:
        h, w = x.shape[-2:]
        y = pad_to_multiple(x, self.multiple)
        skips = []
        for k, block in enumerate(self.down):
            y = block(y if k == 0 else F.max_pool2d(y, 2))
            skips.append(y)
        skips.pop()
        for up, conv in zip(self.up, self.up_conv):
            y = conv(torch.cat([skips.pop(), up(y)], dim=1))
        return self.out(y)[..., :h, :w]


class ResBlock(nn.Module):
    """[conv3x3 + LeakyReLU(0.2)] x 2 plus the identity (seed Fig. 1, green block)."""

    def __init__(self, ch: int):
        super().__init__()
        self.body = nn.Sequential(
            conv2d(ch, ch), nn.LeakyReLU(0.2, inplace=True), conv2d(ch, ch), nn.LeakyReLU(0.2, inplace=True)
        )

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


def _encoder(ch: int, n: int) -> nn.Sequential:
    return nn.Sequential(*[ResBlock(ch) for _ in range(n)])


class GeometryPriorSR(nn.Module):
    """SR network of the seed (Fig. 1a with a map; Fig. 1b without).

    ``forward(x_bic, parsing=None)`` works on the HR grid: x_bic (B, C, H, W), parsing (B, 3, H, W)
    in [0, 1]; returns (B, C_out, H, W) = decoder output + x_bic (the input must have C_out channels
    for the residual; otherwise no residual is added).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        width: int = 64,
        encoder_blocks: int = 3,
        decoder_blocks: int = 3,
        use_prior: bool = True,
        n_classes: int = 3,
    ):
        super().__init__()
        act = nn.LeakyReLU(0.2, inplace=True)
        self.use_prior = use_prior
        self.residual = in_channels == out_channels
        self.head = nn.Sequential(conv2d(in_channels, width), act)
        self.lr_encoder = _encoder(width, encoder_blocks)
        if use_prior:
            self.mask_encoder = nn.Sequential(
                conv2d(n_classes, width), nn.LeakyReLU(0.2, True), *_encoder(width, encoder_blocks)
            )
        n_cat = 3 * width if use_prior else 2 * width
        self.decoder = nn.Sequential(
            conv2d(n_cat, width), nn.LeakyReLU(0.2, True), *_encoder(width, decoder_blocks)
        )
        self.tail = nn.Conv2d(width, out_channels, 1)

    def forward(self, x_bic: Tensor, parsing: Tensor | None = None) -> Tensor:
        f = self.head(x_bic)
        feats = [f, self.lr_encoder(f)]
        if self.use_prior:
            if parsing is None:
                raise ValueError("this geometry-prior SR network needs a parsing map")
            feats.append(self.mask_encoder(parsing))
        out = self.tail(self.decoder(torch.cat(feats, dim=1)))
        return out + x_bic if self.residual else out
