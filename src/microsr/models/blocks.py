"""Small building blocks shared by several architecture families."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch.nn.functional as F
from torch import Tensor, nn


def bicubic_upsample(x: Tensor, scale: int) -> Tensor:
    """Bicubic up-sampling by an integer factor, the grid HR-grid models work on.

    ``align_corners=False`` with ``scale_factor`` matches MATLAB/PIL pixel-centre conventions
    (up to the cubic kernel coefficient -0.75 used by PyTorch vs -0.5 in MATLAB).
    """
    if scale == 1:
        return x
    return F.interpolate(x, scale_factor=scale, mode="bicubic", align_corners=False)


def conv2d(in_ch: int, out_ch: int, kernel_size: int = 3, *, bias: bool = True, stride: int = 1) -> nn.Conv2d:
    """A 'same' convolution (padding ``kernel_size // 2``)."""
    return nn.Conv2d(in_ch, out_ch, kernel_size, stride=stride, padding=kernel_size // 2, bias=bias)


def check_scale(scale: int) -> None:
    """Refuse an up-sampling factor below 1 (models that take any integer factor)."""
    if scale < 1:
        raise ValueError(f"scale must be a positive integer, got {scale}")


def check_same_channels(model: str, in_channels: int, out_channels: int, why: str) -> None:
    """Refuse ``in_channels != out_channels`` for a model whose output adds or subtracts its input."""
    if in_channels != out_channels:
        raise ValueError(
            f"{model} {why}: in_channels ({in_channels}) must equal out_channels ({out_channels})"
        )


def pad_to_multiple(x: Tensor, multiple: int) -> Tensor:
    """Pad (B, C, H, W) at the bottom/right so that H and W are multiples of ``multiple``.

    Reflect padding where the image is large enough, replicate otherwise; callers crop the output
    back to the unpadded size (U-Net style models need sizes divisible by their total stride).
    """
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if isinstance(h, int) and isinstance(w, int) and ph == 0 and pw == 0:
        return x  # sizes are symbolic while exporting: no branch on their values then
    mode = "reflect" if ph < h and pw < w else "replicate"
    return F.pad(x, (0, pw, 0, ph), mode=mode)


def pixel_shuffle_stages(scale: int) -> list[int]:
    """Factors of the sub-pixel up-sampling stages: ``[2] * log2(scale)`` or ``[3]``.

    Raises ``ValueError`` for scales the EDSR-style up-sampler cannot build (not a power of 2 or 3).
    """
    if scale >= 2 and (scale & (scale - 1)) == 0:
        return [2] * int(math.log2(scale))
    if scale == 3:
        return [3]
    raise ValueError(f"sub-pixel up-sampler supports scales 2, 3, 4, 8 (powers of 2 or 3), got {scale}")


class PixelShuffleUpsampler(nn.Sequential):
    """Sub-pixel up-sampler: per stage conv3x3 n -> n*r^2 then PixelShuffle(r) (then an activation).

    Parameters
    ----------
    n_feats : int
        Feature channels in and out.
    scale : int
        Total factor (2, 3, 4 or 8).
    act : callable or None
        Makes the activation after every shuffle: ``nn.PReLU`` (SRResNet), a ReLU (SFT-GAN), none
        for EDSR/RCAN/RDN. Activations without weights do not change the parameter count.
    """

    def __init__(self, n_feats: int, scale: int, *, act: Callable[[], nn.Module] | None = None):
        layers: list[nn.Module] = []
        for r in pixel_shuffle_stages(scale):
            layers += [conv2d(n_feats, n_feats * r * r), nn.PixelShuffle(r)]
            if act is not None:
                layers.append(act())
        super().__init__(*layers)


def upsampling_tail(n_feats: int, scale: int, out_channels: int) -> nn.Sequential:
    """EDSR/RCAN/RDN tail: :class:`PixelShuffleUpsampler` then conv3x3 to the output channels."""
    return nn.Sequential(PixelShuffleUpsampler(n_feats, scale), conv2d(n_feats, out_channels))


class ResidualTrunk(nn.Module):
    """The EDSR/RCAN layout: head conv3x3, body of ``n_blocks`` blocks then a conv3x3 with a long skip
    around it, :func:`upsampling_tail`; LR (B, C_in, H, W) -> (B, C_out, scale*H, scale*W).

    ``block()`` makes one body block (n_feats -> n_feats). Modules are created head, blocks, body-end
    conv, tail, so a seeded initialisation is the same as when each architecture built its own.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        scale: int,
        n_feats: int,
        block: Callable[[], nn.Module],
        n_blocks: int,
    ):
        super().__init__()
        self.head = conv2d(in_channels, n_feats)
        self.body = nn.Sequential(*[block() for _ in range(n_blocks)], conv2d(n_feats, n_feats))
        self.tail = upsampling_tail(n_feats, scale, out_channels)

    def forward(self, x: Tensor) -> Tensor:
        """(B, C_in, H, W) -> (B, C_out, scale*H, scale*W); the skip is added in place to the body-end
        conv's output (which autograd does not keep)."""
        f = self.head(x)
        return self.tail(self.body(f).add_(f))
