"""Noise2Noise-style U-Net, the comparison network of the DenseED paper (Mannam et al., SPIE 2021,
Table 2: "U-Net, encoder 5 layers, decoder 5 layers, 18 conv layers, 989,712 parameters"), after the
U-Net of Lehtinen et al., "Noise2Noise", ICML 2018 (appendix, Table 2).

Defining facts (SPEC 1.4)
-------------------------
* HR grid: the LR image (B, C, h, w) is bicubic-upsampled to (B, C, H, W) first.
* All convs 3x3, bias-free, stride 1, padding 1; LeakyReLU(0.1) after every conv but the last;
  batch norm after every conv except the first and the last (conv -> BN -> LeakyReLU).
* Encoder (48 channels): enc0 C->48, enc1 48->48, pool; then 4 x [conv 48->48, pool]
  (5 max-poolings 2x2 in all); bottleneck conv 48->48.
* Decoder (96 channels): 5 x [nearest x2 up-sampling, concat with the skip of the same size,
  two convs -> 96]; the skips are the pooled outputs 4..1 (48 ch, so 96+48 = 144 in; the deepest
  takes 48+48 = 96), the last up-sampling is concatenated with the network input (96+C = 97 for one
  channel) and followed by convs 97->64->32->C_out; output tanh.
* 18 convs; 989,712 parameters with BN (1 channel), 987,408 with ``batch_norm=False``.

Free choices
------------
* Sizes that are not multiples of 32 (5 poolings) are reflect-padded at the bottom/right (replicate
  when too small to reflect) and the output is cropped back.
* The tanh output bounds predictions to (-1, 1): fine for data normalised to about [0, 1], as in
  microsr, and kept because it is part of the counted architecture's definition.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from microsr.models.blocks import bicubic_upsample, pad_to_multiple
from microsr.models.registry import register_model


def _conv(in_ch: int, out_ch: int, bn: bool) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(in_ch, out_ch, 3, padding=1, bias=False)]
    if bn:
        layers.append(nn.BatchNorm2d(out_ch))
    layers.append(nn.LeakyReLU(0.1, inplace=True))
    return nn.Sequential(*layers)


class UNetN2N(nn.Module):
    """Noise2Noise U-Net on the HR grid: LR (B, C, h, w) -> (B, C_out, s*h, s*w) in (-1, 1).

    Parameters
    ----------
    in_channels, out_channels, scale : int
    enc_width, dec_width : int
        Encoder (48) and decoder (96) channels.
    depth : int
        Number of 2x2 max-poolings (5); inputs are padded to a multiple of ``2**depth``.
    batch_norm : bool
        BN after every conv but the first and last (True: 989,712 params, False: 987,408).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        scale: int,
        *,
        enc_width: int = 48,
        dec_width: int = 96,
        depth: int = 5,
        batch_norm: bool = True,
    ):
        super().__init__()
        if depth < 1:
            raise ValueError(f"depth must be at least 1, got {depth}")
        self.scale, self.depth = scale, depth
        e, d, bn = enc_width, dec_width, batch_norm
        self.enc0 = _conv(in_channels, e, bn=False)
        # enc[k] feeds the k-th pooling; enc[depth] is the bottleneck conv after the last pooling.
        self.enc = nn.ModuleList(_conv(e, e, bn) for _ in range(depth + 1))
        self.dec = nn.ModuleList()
        for k in range(depth - 1):  # all decoder stages but the last (which meets the input)
            in_ch = (e if k == 0 else d) + e
            self.dec.append(nn.Sequential(_conv(in_ch, d, bn), _conv(d, d, bn)))
        last_in = (e if depth == 1 else d) + in_channels
        self.dec_last = nn.Sequential(_conv(last_in, 64, bn), _conv(64, 32, bn))
        self.out = nn.Conv2d(32, out_channels, 3, padding=1, bias=False)

    def forward(self, lr: Tensor) -> Tensor:
        x = bicubic_upsample(lr, self.scale)
        h, w = x.shape[-2:]
        x = pad_to_multiple(x, 2**self.depth)
        y = self.enc0(x)
        skips = [x]
        for k in range(self.depth):
            y = F.max_pool2d(self.enc[k](y), 2)
            skips.append(y)
        y = self.enc[self.depth](y)
        skips.pop()  # the deepest pooled map is the bottleneck's input, not a skip
        for stage in [*self.dec, self.dec_last]:
            y = F.interpolate(y, scale_factor=2, mode="nearest")
            y = stage(torch.cat([y, skips.pop()], dim=1))
        return torch.tanh(self.out(y))[..., :h, :w]


# the class is the builder: its keyword arguments are the registered options
register_model(
    "unet-n2n",
    input_grid="hr",
    tiny={"enc_width": 8, "dec_width": 8, "depth": 2},
    default_loss="mse",
    output_activation="tanh",
    description="Noise2Noise U-Net (DenseED paper's comparison), HR grid, tanh output",
)(UNetN2N)
