"""DenseED: dense encoder-decoder for SR on small data sets (Mannam, Zhang, Yuan, Howard, SPIE 2021;
the DenseED of Zhu & Zabaras, J. Comput. Phys. 366, 2018).

Defining facts (SPEC 1.4, seed ``denseed-small-data-paper.md`` Table 2)
----------------------------------------------------------------------
* Works on the HR grid: the LR image (B, C, h, w) is bicubic-upsampled to (B, C, H, W) = s*(h, w).
* Every conv is bias-free and every layer is BN -> ReLU -> conv, except the in-conv (a bare conv).
* In-conv: conv 7x7, stride 2, padding 2, C -> 48 channels (H -> floor((H - 3) / 2) + 1).
* Dense layer: BN-ReLU-conv3x3 (padding 1) producing ``growth`` = 16 channels, concatenated to its
  input. A dense block of L layers turns c channels into c + 16 L.
* Down transition (encoding): BN-ReLU-conv1x1 c -> c // 2, BN-ReLU-conv3x3 stride 2 padding 1.
* Up transition (decoding): BN-ReLU-conv1x1 c -> c // 2, BN-ReLU-ConvTranspose3x3 stride 2, padding 1,
  output_padding 1 (size x2).
* Order: in-conv, dense block L1, down, dense block L2, up, dense block L3, last layer (an up
  transition whose transposed conv outputs ``out_channels``). No output activation.
* Sizes: 128 -> 63 -> 32 -> 64 -> 128. Parameter counts (1 channel): (1,1,1) 36,572; (2,2,2) 80,702;
  (3,3,3) 143,040; (4,4,4) 223,586; (3,6,3) 237,204; (6,12,6) 788,046; (8,8,8) 727,850;
  (9,18,9) 1,663,176.

Free choices
------------
* Arbitrary sizes: the chain maps any H that is a multiple of 4 exactly back to H (H = 4k -> 2k-1 ->
  k -> 2k -> 4k) and nothing else does, so the HR-grid input is reflect-padded at the bottom/right
  to the next multiple of 4 (replicate padding when it is too small to reflect) and the output is
  cropped back. Padding only at the bottom/right keeps the top-left pixel correspondence of the
  unpadded case.
* Registered names: ``denseed`` (option ``blocks``, default (3, 6, 3), the first of the paper's
  three chosen configurations) plus every configuration of the seed's Table 2 as a fixed name
  ``denseed-L1-L2-L3`` (``denseed-1-1-1`` ... ``denseed-9-18-9``), the family name of SPEC 1.
* BN uses PyTorch defaults (eps 1e-5, momentum 0.1), as in the official code.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from microsr.models.blocks import bicubic_upsample, pad_to_multiple
from microsr.models.registry import register_model, variant


def _bn_relu(ch: int) -> list[nn.Module]:
    return [nn.BatchNorm2d(ch), nn.ReLU(inplace=True)]


class DenseLayer(nn.Module):
    """BN-ReLU-conv3x3 -> ``growth`` channels, concatenated: (B, c, H, W) -> (B, c + growth, H, W)."""

    def __init__(self, in_ch: int, growth: int):
        super().__init__()
        self.body = nn.Sequential(*_bn_relu(in_ch), nn.Conv2d(in_ch, growth, 3, padding=1, bias=False))

    def forward(self, x: Tensor) -> Tensor:
        return torch.cat([x, self.body(x)], dim=1)


def dense_block(in_ch: int, n_layers: int, growth: int) -> tuple[nn.Sequential, int]:
    """A dense block and its output channel count ``in_ch + n_layers * growth``."""
    layers = [DenseLayer(in_ch + k * growth, growth) for k in range(n_layers)]
    return nn.Sequential(*layers), in_ch + n_layers * growth


def transition(in_ch: int, down: bool, out_ch: int | None = None) -> tuple[nn.Sequential, int]:
    """Down (stride-2 conv3x3) or up (stride-2 transposed conv3x3) transition after a 1x1 halving."""
    mid = in_ch // 2
    out = mid if out_ch is None else out_ch
    resample: nn.Module
    if down:
        resample = nn.Conv2d(mid, out, 3, stride=2, padding=1, bias=False)
    else:
        resample = nn.ConvTranspose2d(mid, out, 3, stride=2, padding=1, output_padding=1, bias=False)
    seq = nn.Sequential(*_bn_relu(in_ch), nn.Conv2d(in_ch, mid, 1, bias=False), *_bn_relu(mid), resample)
    return seq, out


class DenseED(nn.Module):
    """DenseED on the HR grid: LR (B, C, h, w) -> (B, C_out, s*h, s*w).

    Parameters
    ----------
    in_channels, out_channels, scale : int
    blocks : tuple of 3 ints
        Dense layers in the encoder block, the bottleneck block and the decoder block (L1, L2, L3).
    init_features : int
        Output channels of the 7x7 in-conv (48).
    growth : int
        Channels added by each dense layer (16).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        scale: int,
        *,
        blocks: tuple[int, int, int] = (3, 6, 3),
        init_features: int = 48,
        growth: int = 16,
    ):
        super().__init__()
        if len(blocks) != 3 or any(int(b) < 0 for b in blocks):
            raise ValueError(f"blocks must be three non-negative layer counts, got {blocks!r}")
        self.scale = scale
        layers: list[nn.Module] = [nn.Conv2d(in_channels, init_features, 7, stride=2, padding=2, bias=False)]
        ch = init_features
        for k, n in enumerate(blocks):
            block, ch = dense_block(ch, int(n), growth)
            layers.append(block)
            if k < 2:
                trans, ch = transition(ch, down=(k == 0))
                layers.append(trans)
        last, _ = transition(ch, down=False, out_ch=out_channels)
        layers.append(last)
        self.features = nn.Sequential(*layers)

    def forward(self, lr: Tensor) -> Tensor:
        x = bicubic_upsample(lr, self.scale)
        h, w = x.shape[-2:]
        return self.features(pad_to_multiple(x, 4))[..., :h, :w]


_WIDTHS_TINY = {"init_features": 8, "growth": 4}
_DESC = "Mannam 2021 DenseED dense encoder-decoder (HR grid), blocks={}"
_FAMILY = dict(input_grid="hr", default_loss="mse")

# the class is the builder: its keyword arguments are the registered options
register_model(
    "denseed",
    **_FAMILY,
    tiny={"blocks": (1, 1, 1), **_WIDTHS_TINY},
    description=_DESC.format("(L1,L2,L3) option, default (3,6,3)"),
)(DenseED)
for _blocks in ((1, 1, 1), (2, 2, 2), (3, 3, 3), (4, 4, 4), (3, 6, 3), (6, 12, 6), (8, 8, 8), (9, 18, 9)):
    register_model(
        "denseed-" + "-".join(str(b) for b in _blocks),
        **_FAMILY,
        tiny=_WIDTHS_TINY,
        description=_DESC.format(_blocks),
    )(
        variant(
            DenseED,
            f"DenseED-{_blocks} of the seed (fixed blocks; width options only).",
            fixed={"blocks": _blocks},
        )
    )
