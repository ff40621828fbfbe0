"""VDSR (Kim, Lee, Lee, "Accurate Image Super-Resolution Using Very Deep Convolutional Networks",
CVPR 2016).

Defining facts: works on the bicubic-upsampled image; 20 convolution layers 3x3 with 64 channels,
ReLU after all but the last, biases on, and a global residual: the network predicts the difference
between the HR image and the bicubic input. 665,921 parameters for 1 channel in/out.

Shapes: LR (B, C, H, W) -> bicubic (B, C, sH, sW) -> bicubic + net(bicubic), (B, C, sH, sW).
Any integer scale (one model for several scales in the paper). The global residual needs
``in_channels == out_channels``.
"""

from __future__ import annotations

from torch import Tensor, nn

from microsr.models.blocks import bicubic_upsample, check_same_channels, conv2d
from microsr.models.registry import register_model


class VDSR(nn.Module):
    """VDSR: ``n_layers`` conv3x3 layers of ``n_feats`` channels (first and last included) plus the
    global residual, which needs ``in_channels == out_channels``."""

    def __init__(
        self, in_channels: int, out_channels: int, scale: int, *, n_feats: int = 64, n_layers: int = 20
    ):
        super().__init__()
        check_same_channels("vdsr", in_channels, out_channels, "adds the bicubic input to its output")
        channels = in_channels
        if n_layers < 2:
            raise ValueError(f"vdsr needs at least 2 layers, got {n_layers}")
        self.scale = scale
        layers: list[nn.Module] = [conv2d(channels, n_feats), nn.ReLU(inplace=True)]
        for _ in range(n_layers - 2):
            layers += [conv2d(n_feats, n_feats), nn.ReLU(inplace=True)]
        layers.append(conv2d(n_feats, channels))
        self.body = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        """(B, C, H, W) LR -> (B, C, scale*H, scale*W)."""
        up = bicubic_upsample(x, self.scale)
        return up + self.body(up)


# the class is the builder: its keyword arguments are the registered options
register_model(
    "vdsr",
    input_grid="hr",
    tiny={"n_feats": 8, "n_layers": 4},
    default_loss="mse",
    global_skip=True,
    description="VDSR (Kim 2016): 20 conv3x3 64ch on the bicubic grid, global residual",
)(VDSR)
