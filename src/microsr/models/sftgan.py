"""SFTGAN and SRGAN generators, the adversarial comparisons of the leukocyte geometry-prior seed.

SFTGAN: Wang, Yu, Dong, Loy, "Recovering realistic texture in image super-resolution by deep spatial
feature transform", CVPR 2018 (architecture of the authors' ``SFT_Net``).

Defining facts of the original
------------------------------
* SFT layer: from the shared condition features psi (32 ch), scale = conv1x1(32->64)(LReLU0.1(
  conv1x1(32->32)(psi))), shift likewise with its own convs; output = feat * (scale + 1) + shift.
* SFT residual block: x + conv3x3(SFT(ReLU(conv3x3(SFT(x))))) (convs with bias, 64 ch).
* Generator: conv3x3 C->64 -> f; trunk = 16 SFT residual blocks, SFT layer, conv3x3; f + trunk;
  HR branch = per x2 stage [conv3x3 64->256, PixelShuffle(2), ReLU], conv3x3 64->64, ReLU,
  conv3x3 64->C_out. No output activation.
* Condition network: conv 4x4 stride 4 (8 segmentation classes -> 128) on the HR-grid probability
  maps, LReLU(0.1), 3 x [conv1x1 128->128, LReLU(0.1)], conv1x1 128->32: psi on the LR grid.

Adaptation to microsr (free choices, documented)
------------------------------------------------
* The condition is the 3-class parsing map of the geometry-prior seed (background, cytoplasm,
  nucleus), one-hot, on the HR grid (B, 3, s*h, s*w), taken from ``batch["mask"]`` in training and
  required at prediction: ``forward(lr, mask)``; ``mask=None`` raises ``ValueError``.
* The first condition conv has kernel = stride = ``scale`` (the original's 4x4/4 is the x4 case),
  so it maps the HR-grid map exactly onto the LR grid for any integer scale.
* Up-sampling: x2 and x4 (and x8) use log2(scale) [conv 64->256, PixelShuffle(2), ReLU] stages as in
  the original; x3 uses one [conv 64->576, PixelShuffle(3), ReLU] stage.
* Content loss ``l1`` (the original uses a VGG perceptual loss whose weights microsr never downloads);
  the adversarial part uses the SRGAN discriminator (``discriminator="srgan"``) in the engine.
* 1,668,897 parameters for 1 channel at x2 (1,821,217 at x4).

SRGAN: Ledig et al., CVPR 2017. Its generator *is* SRResNet (``microsr.models.srresnet``); ``srgan``
registers the same architecture with the SRGAN discriminator and the MSE content loss (SRGAN-MSE).
"""

from __future__ import annotations

from torch import Tensor, nn

from microsr.models.blocks import PixelShuffleUpsampler, conv2d
from microsr.models.registry import get_spec, register_model
from microsr.models.srresnet import build_srresnet


class SFTLayer(nn.Module):
    """Spatial feature transform: feat (B, n, H, W), cond (B, c, H, W) -> feat * (1 + scale) + shift."""

    def __init__(self, n_feats: int = 64, cond_ch: int = 32):
        super().__init__()

        def branch() -> nn.Sequential:
            return nn.Sequential(
                nn.Conv2d(cond_ch, cond_ch, 1),
                nn.LeakyReLU(0.1, inplace=True),
                nn.Conv2d(cond_ch, n_feats, 1),
            )

        self.scale = branch()
        self.shift = branch()

    def forward(self, feat: Tensor, cond: Tensor) -> Tensor:
        return feat * (self.scale(cond) + 1) + self.shift(cond)


class SFTResBlock(nn.Module):
    """x + conv(SFT(ReLU(conv(SFT(x, cond))), cond))."""

    def __init__(self, n_feats: int = 64, cond_ch: int = 32):
        super().__init__()
        self.sft0 = SFTLayer(n_feats, cond_ch)
        self.conv0 = conv2d(n_feats, n_feats)
        self.sft1 = SFTLayer(n_feats, cond_ch)
        self.conv1 = conv2d(n_feats, n_feats)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: Tensor, cond: Tensor) -> Tensor:
        y = self.relu(self.conv0(self.sft0(x, cond)))
        return x + self.conv1(self.sft1(y, cond))


class SFTGANGenerator(nn.Module):
    """SFT-GAN generator: ``forward(lr, mask)``, lr (B, C, h, w), mask (B, 3, s*h, s*w).

    Adapted to 3-class HR-grid parsing maps (background, cytoplasm, nucleus): 1,668,897 parameters
    for 1 channel at x2.
    """

    n_classes = 3

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        scale: int,
        *,
        n_feats: int = 64,
        n_blocks: int = 16,
        cond_ch: int = 32,
        cond_width: int = 128,
    ):
        super().__init__()
        self.scale = scale
        n_classes = self.n_classes
        k = max(scale, 1)
        self.cond_net = nn.Sequential(
            nn.Conv2d(n_classes, cond_width, k, stride=k),
            nn.LeakyReLU(0.1, inplace=True),
            *[
                m
                for _ in range(3)
                for m in (nn.Conv2d(cond_width, cond_width, 1), nn.LeakyReLU(0.1, inplace=True))
            ],
            nn.Conv2d(cond_width, cond_ch, 1),
        )
        self.head = conv2d(in_channels, n_feats)
        self.blocks = nn.ModuleList(SFTResBlock(n_feats, cond_ch) for _ in range(n_blocks))
        self.trunk_sft = SFTLayer(n_feats, cond_ch)
        self.trunk_conv = conv2d(n_feats, n_feats)
        self.hr_branch = nn.Sequential(
            *(PixelShuffleUpsampler(n_feats, scale, act=lambda: nn.ReLU(inplace=True)) if scale > 1 else ()),
            conv2d(n_feats, n_feats),
            nn.ReLU(inplace=True),
            conv2d(n_feats, out_channels),
        )

    def forward(self, lr: Tensor, mask: Tensor | None = None) -> Tensor:
        if mask is None:
            raise ValueError(
                "sftgan needs a parsing map: call model(lr, mask) with the one-hot map "
                "(B, 3, s*h, s*w) (background, cytoplasm, nucleus); microsr does not invent maps"
            )
        b, _, h, w = lr.shape
        want = (b, self.n_classes, self.scale * h, self.scale * w)
        if tuple(mask.shape) != want:
            raise ValueError(f"parsing map has shape {tuple(mask.shape)}, expected {want} (HR grid)")
        cond = self.cond_net(mask.to(lr.dtype))
        f = self.head(lr)
        y = f
        for block in self.blocks:
            y = block(y, cond)
        y = self.trunk_conv(self.trunk_sft(y, cond))
        return self.hr_branch(f + y)


register_model(
    "sftgan",
    input_grid="lr",
    tiny={"n_feats": 8, "n_blocks": 1, "cond_ch": 4, "cond_width": 8},
    default_loss="l1",
    discriminator="srgan",
    needs_mask=True,
    mask_input=True,
    description="Wang 2018 SFT-GAN generator conditioned on the 3-class parsing map",
)(SFTGANGenerator)


@register_model(
    "srgan",
    input_grid="lr",
    tiny=dict(get_spec("srresnet").tiny),
    default_loss="mse",
    discriminator="srgan",
    description="Ledig 2017 SRGAN: SRResNet generator + SRGAN discriminator (MSE content)",
)
def srgan(
    in_channels: int, out_channels: int, scale: int, *, n_feats: int = 64, n_blocks: int = 16
) -> nn.Module:
    """The SRResNet generator (1,381,011 params, 1ch x2); options as for ``srresnet``."""
    return build_srresnet(in_channels, out_channels, scale, n_feats=n_feats, n_blocks=n_blocks)
