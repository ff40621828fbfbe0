"""DnCNN (Zhang, Zuo, Chen, Meng, Zhang, "Beyond a Gaussian denoiser: residual learning of deep CNN
for image denoising", IEEE TIP 26(7), 2017), used for SR on the bicubic grid as in the paper's
"DnCNN-3" single-image SR setting and as the DenseED paper's comparison (Table 2: 17 layers, 556,096).

Defining facts (SPEC section 1)
-------------------------------
* HR grid: the LR image (B, C, h, w) is bicubic-upsampled to x = (B, C, H, W) first.
* 17 conv3x3 layers, 64 channels: conv (bias) + ReLU; 15 x [conv (no bias), BN (eps 1e-4), ReLU];
  conv (no bias) -> C_out. The network predicts the residual: output = x - net(x).
* 556,096 parameters for 1 channel.

Free choices
------------
* BN momentum is PyTorch's default 0.1 (the paper's MatConvNet code does not use a running-average
  momentum in the same sense); eps 1e-4 as in the authors' PyTorch port (KAIR).
* When ``in_channels != out_channels`` the residual subtraction is impossible; the model refuses it.
"""

from __future__ import annotations

from torch import Tensor, nn

from microsr.models.blocks import bicubic_upsample, check_same_channels
from microsr.models.registry import register_model


class DnCNN(nn.Module):
    """DnCNN on the HR grid: LR (B, C, h, w) -> bicubic(LR) - net(bicubic(LR)), (B, C, s*h, s*w).

    Parameters
    ----------
    in_channels, out_channels, scale : int
        ``out_channels`` must equal ``in_channels`` (residual output).
    width : int
        Feature channels (64).
    depth : int
        Total number of conv layers (17), at least 2.
    """

    def __init__(self, in_channels: int, out_channels: int, scale: int, *, width: int = 64, depth: int = 17):
        super().__init__()
        check_same_channels("dncnn", in_channels, out_channels, "predicts a residual")
        if depth < 2:
            raise ValueError(f"dncnn needs depth >= 2, got {depth}")
        self.scale = scale
        layers: list[nn.Module] = [
            nn.Conv2d(in_channels, width, 3, padding=1, bias=True),
            nn.ReLU(inplace=True),
        ]
        for _ in range(depth - 2):
            layers += [
                nn.Conv2d(width, width, 3, padding=1, bias=False),
                nn.BatchNorm2d(width, eps=1e-4),
                nn.ReLU(inplace=True),
            ]
        layers.append(nn.Conv2d(width, out_channels, 3, padding=1, bias=False))
        self.body = nn.Sequential(*layers)

    def forward(self, lr: Tensor) -> Tensor:
        x = bicubic_upsample(lr, self.scale)
        return x - self.body(x)


# the class is the builder: its keyword arguments are the registered options
register_model(
    "dncnn",
    input_grid="hr",
    tiny={"width": 8, "depth": 4},
    default_loss="mse",
    global_skip=True,
    description="Zhang 2017 DnCNN residual CNN on the bicubic grid (17 layers)",
)(DnCNN)
