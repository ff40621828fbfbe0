"""SRCNN (Dong, Loy, He, Tang, "Learning a Deep Convolutional Network for Image Super-Resolution",
ECCV 2014; TPAMI 2016).

Defining facts: works on the bicubic-upsampled image; three convolutions "patch extraction",
"non-linear mapping", "reconstruction" with kernels 9-5-5 (or 9-1-5 in the ECCV paper), 64 and 32
filters, ReLU after the first two, linear output. Parameter count (1 channel in/out): 57,281 for 9-5-5,
8,129 for 9-1-5. The original used valid convolutions (output smaller than input); here every
convolution is 'same'-padded so the output has the full HR size.

Shapes: LR (B, C_in, H, W) -> bicubic (B, C_in, sH, sW) -> (B, C_out, sH, sW). Any integer scale.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from microsr.models.blocks import bicubic_upsample, conv2d
from microsr.models.registry import register_model


class SRCNN(nn.Module):
    """Three-layer SRCNN on the bicubic grid.

    Parameters
    ----------
    in_channels, out_channels, scale : int
        Channels and up-sampling factor.
    kernel_sizes : sequence of 3 ints
        (f1, f2, f3); (9, 5, 5) by default, (9, 1, 5) for the lighter ECCV variant.
    n_feats : sequence of 2 ints
        (n1, n2) filters of the first two layers; (64, 32) in the paper.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        scale: int,
        kernel_sizes: Sequence[int] = (9, 5, 5),
        n_feats: Sequence[int] = (64, 32),
    ):
        super().__init__()
        f1, f2, f3 = kernel_sizes
        n1, n2 = n_feats
        self.scale = scale
        self.body = nn.Sequential(
            conv2d(in_channels, n1, f1),
            nn.ReLU(inplace=True),
            conv2d(n1, n2, f2),
            nn.ReLU(inplace=True),
            conv2d(n2, out_channels, f3),
        )

    def forward(self, x: Tensor) -> Tensor:
        """(B, C_in, H, W) LR -> (B, C_out, scale*H, scale*W)."""
        return self.body(bicubic_upsample(x, self.scale))


@register_model(
    "srcnn",
    input_grid="hr",
    tiny={"n_feats": (16, 8)},
    default_loss="mse",
    description="SRCNN (Dong 2014): 3 convs 9-5-5 on the bicubic grid; kernel_sizes=(9,1,5) for 9-1-5",
)
def build_srcnn(
    in_channels: int,
    out_channels: int,
    scale: int,
    *,
    kernel_sizes: Sequence[int] = (9, 5, 5),
    n_feats: Sequence[int] = (64, 32),
) -> nn.Module:
    """Build SRCNN; ``kernel_sizes=(9, 1, 5)`` gives the 9-1-5 variant (8,129 params)."""
    if len(kernel_sizes) != 3 or len(n_feats) != 2:
        raise ValueError(f"srcnn needs 3 kernel sizes and 2 widths, got {kernel_sizes}, {n_feats}")
    return SRCNN(in_channels, out_channels, scale, tuple(kernel_sizes), tuple(n_feats))
