"""Interpolation baseline: bicubic up-sampling with no weights.

The reference every learned model must beat. Input (B, C, H, W) LR, output (B, C, s*H, s*W) from
:func:`microsr.models.blocks.bicubic_upsample` (PyTorch bicubic, ``align_corners=False``, cubic
coefficient -0.75). No parameters, ``trainable=False``; values are not clamped (bicubic overshoots
slightly at edges, as in every published bicubic baseline computed in floating point).
"""

from __future__ import annotations

from torch import Tensor, nn

from microsr.models.blocks import bicubic_upsample, check_scale
from microsr.models.registry import register_model


class Bicubic(nn.Module):
    """Bicubic up-sampling by ``scale`` as an ``nn.Module`` (0 parameters).

    ``in_channels`` must equal ``out_channels``: interpolation cannot change the channel count.
    """

    def __init__(self, channels: int, scale: int):
        super().__init__()
        check_scale(scale)
        self.channels = channels
        self.scale = scale

    def forward(self, x: Tensor) -> Tensor:
        """(B, C, H, W) -> (B, C, scale*H, scale*W)."""
        return bicubic_upsample(x, self.scale)


@register_model(
    "bicubic",
    input_grid="lr",
    tiny={},
    default_loss="mse",
    trainable=False,
    description="Bicubic interpolation baseline (no weights)",
)
def build_bicubic(in_channels: int, out_channels: int, scale: int) -> nn.Module:
    """Build the bicubic baseline; ``in_channels`` must equal ``out_channels``."""
    if in_channels != out_channels:
        raise ValueError(
            f"bicubic interpolation keeps the channel count: in_channels={in_channels} "
            f"!= out_channels={out_channels}"
        )
    return Bicubic(in_channels, scale)
