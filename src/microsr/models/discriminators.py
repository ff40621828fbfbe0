"""The SRGAN discriminator (Ledig et al., "Photo-Realistic Single Image Super-Resolution Using a
Generative Adversarial Network", CVPR 2017, Fig. 4).

Defining facts: conv3x3 64 + LeakyReLU(0.2); seven conv3x3 blocks with BatchNorm and LeakyReLU(0.2),
channels 64, 128, 128, 256, 256, 512, 512, strides alternating 2, 1, 2, 1, 2, 1, 2 (four halvings);
flatten; dense 1024 + LeakyReLU(0.2); dense 1. The paper's final sigmoid is left to the loss
(BCE-with-logits), so the output is logits (B, 1). The first dense layer's size depends on the HR
patch size: at 96 px (the paper's) the feature map is 6x6x512 and the network has 23,564,353
parameters for one input channel. Convolutions have biases (as in the common reference code).

Shapes: (B, C, P, P) -> (B, 1) logits, P = ``patch_size`` (any other size raises ValueError).
"""

from __future__ import annotations

from torch import Tensor, nn

from microsr.models.registry import register_discriminator

SRGAN_BLOCKS = ((64, 2), (128, 1), (128, 2), (256, 1), (256, 2), (512, 1), (512, 2))


class SRGANDiscriminator(nn.Module):
    """VGG-style SRGAN discriminator returning logits (see module docstring).

    Parameters
    ----------
    in_channels : int
        Image channels.
    patch_size : int
        Height and width of the HR patches it will judge (96 in the paper).
    n_feats : int
        Width of the first layer (64); the blocks use n, 2n, 2n, 4n, 4n, 8n, 8n.
    dense : int
        Width of the hidden dense layer (1024).
    """

    def __init__(self, in_channels: int = 1, patch_size: int = 96, n_feats: int = 64, dense: int = 1024):
        super().__init__()
        self.patch_size = patch_size
        layers: list[nn.Module] = [nn.Conv2d(in_channels, n_feats, 3, 1, 1), nn.LeakyReLU(0.2, inplace=True)]
        cin, size = n_feats, patch_size
        for mult, stride in SRGAN_BLOCKS:
            cout = n_feats * mult // 64
            layers += [
                nn.Conv2d(cin, cout, 3, stride, 1),
                nn.BatchNorm2d(cout),
                nn.LeakyReLU(0.2, inplace=True),
            ]
            cin, size = cout, (size - 1) // stride + 1
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(cin * size * size, dense),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(dense, 1),
        )

    def forward(self, x: Tensor) -> Tensor:
        """(B, C, P, P) -> (B, 1) logits (real > 0)."""
        if x.shape[-2:] != (self.patch_size, self.patch_size):
            raise ValueError(
                f"this SRGAN discriminator was built for {self.patch_size}x{self.patch_size} patches, "
                f"got {tuple(x.shape[-2:])}; build it with patch_size={x.shape[-1]}"
            )
        return self.classifier(self.features(x))


@register_discriminator("srgan")
def build_srgan_discriminator(
    in_channels: int = 1, *, patch_size: int = 96, n_feats: int = 64, dense: int = 1024
) -> nn.Module:
    """Build the SRGAN discriminator for ``patch_size`` px HR patches (23,564,353 params at 96, 1ch)."""
    return SRGANDiscriminator(in_channels, patch_size, n_feats, dense)
