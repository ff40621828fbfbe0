"""DFCAN and DFGAN (Qiao et al., "Evaluation and development of deep neural networks for image
super-resolution in optical microscopy", Nature Methods 18, 2021).

Re-implemented in PyTorch from the facts of the official TF1/Keras code (no code copied).

DFCAN (registry ``"dfcan"``, 1,930,753 parameters for 1 channel, x2)
    LR (B, C_in, H, W)
    -> head: conv3x3 C_in->64 + GELU (erf form)
    -> body: 4 residual groups; group(x) = x + FCAB^4(x); no group-end conv, no long skip
    -> tail: conv3x3 64->64*s^2 + GELU, PixelShuffle(s), conv3x3 64->C_out, sigmoid
    -> (B, C_out, s*H, s*W) in [0, 1].
    FCAB(x) = x + FCA(GELU(conv3x3(GELU(conv3x3(x))))).

Fourier channel attention FCA(y), y (B, C, H, W):
    spectrum = fftshift((|FFT2(y)| + 1e-8) ** gamma) per channel (gamma 0.8 for DFCAN, 0.1 for the
    DFGAN generator); w = sigmoid(1x1(ReLU(1x1(GAP(ReLU(conv3x3(spectrum))))))) with the 1x1 convs
    C -> C//reduction -> C (reduction 16: 64 -> 4 -> 64); output y * w.

DFGAN (registry ``"dfgan"``): the same generator with 5 groups x 10 FCABs and gamma 0.1
(5,717,129 parameters); its discriminator is registered as ``"dfgan"`` (4,852,481 parameters).

Free choices, documented
------------------------
* Spectrum size. The official code bilinearly resizes the shifted spectrum to 128x128 before the
  attention conv; with its 128 px LR training patches that is a no-op. Here the default
  (``spectrum_size=None``) is *no resize*: the attention is a conv3x3 + ReLU followed by a global
  average, so it is defined at any size, and at 128 px it is identical to the official layer. At
  other sizes the official resize only resamples the same frequency range on a coarser/finer grid
  (the average over it is approximately unchanged), while an exact spectrum avoids a size-dependent
  interpolation. ``spectrum_size=128`` reproduces the official behaviour (bilinear,
  ``align_corners=False``) for users who want it; the parameter count does not depend on it.
* Speed note: FFTs of sizes with large prime factors are slow (a 502 px tile = 2 x 251 roughly
  doubled the run time); callers that tile large images should prefer tile sizes with small factors.
* ``fftshift`` equals ``torch.fft.fftshift`` on every size (the official slicing equals it for even
  sizes); it is written as slicing + concatenation so the model exports to ONNX with resizable
  height and width (:mod:`microsr.models.fourier`, where the attention lives).
* The FFT runs in float32 even under mixed precision (half-precision FFTs need power-of-2 sizes).
* Channel ordering of PixelShuffle is PyTorch's (TF's depth_to_space differs; irrelevant when
  training from scratch).
* ``reduction`` gives ``max(1, n_feats // reduction)`` squeeze channels so tiny widths still work.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from microsr.models.blocks import check_scale, conv2d
from microsr.models.fourier import FourierAttentionBlock, FourierChannelAttention
from microsr.models.registry import register_discriminator, register_model, variant


class FCAB(FourierAttentionBlock):
    """Fourier channel attention block: ``x + FCA(GELU(conv(GELU(conv(x)))))``; (B,C,H,W) -> same."""

    def __init__(self, channels: int, reduction: int, gamma: float, spectrum_size: int | None) -> None:
        body = nn.Sequential(
            conv2d(channels, channels, 3), nn.GELU(), conv2d(channels, channels, 3), nn.GELU()
        )
        super().__init__(body, FourierChannelAttention(channels, reduction, gamma, spectrum_size))


class ResidualGroup(nn.Module):
    """``x + FCAB^n(x)`` (no group-end conv)."""

    def __init__(
        self, channels: int, n_blocks: int, reduction: int, gamma: float, spectrum_size: int | None
    ) -> None:
        super().__init__()
        self.blocks = nn.Sequential(
            *[FCAB(channels, reduction, gamma, spectrum_size) for _ in range(n_blocks)]
        )

    def forward(self, x: Tensor) -> Tensor:
        return x + self.blocks(x)


class DFCAN(nn.Module):
    """Deep Fourier channel attention network; LR (B, C_in, H, W) -> (B, C_out, sH, sW) in [0, 1].

    Parameters
    ----------
    in_channels, out_channels, scale : int
        Image channels and up-sampling factor (PixelShuffle, any integer >= 1).
    n_feats : int
        Feature width (64).
    n_groups, n_blocks : int
        Residual groups and FCABs per group (4 x 4 DFCAN; 5 x 10 DFGAN).
    gamma : float
        Spectrum power (0.8 DFCAN; 0.1 DFGAN).
    reduction : int
        Channel-attention squeeze ratio (16).
    spectrum_size : int or None
        See :class:`FourierChannelAttention` (default ``None``: no resize).
    """

    def __init__(
        self,
        in_channels: int = 1,
        out_channels: int = 1,
        scale: int = 2,
        *,
        n_feats: int = 64,
        n_groups: int = 4,
        n_blocks: int = 4,
        gamma: float = 0.8,
        reduction: int = 16,
        spectrum_size: int | None = None,
    ) -> None:
        super().__init__()
        check_scale(scale)
        self.scale = scale
        self.head = nn.Sequential(conv2d(in_channels, n_feats, 3), nn.GELU())
        self.body = nn.Sequential(
            *[ResidualGroup(n_feats, n_blocks, reduction, gamma, spectrum_size) for _ in range(n_groups)]
        )
        self.tail = nn.Sequential(
            conv2d(n_feats, n_feats * scale * scale, 3),
            nn.GELU(),
            nn.PixelShuffle(scale),
            conv2d(n_feats, out_channels, 3),
            nn.Sigmoid(),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.tail(self.body(self.head(x)))


# what DFCAN and the DFGAN generator share in the registry
_FAMILY = dict(
    input_grid="lr",
    tiny={"n_feats": 16, "n_groups": 2, "n_blocks": 2},
    default_loss="mse+0.1*ssim",
    output_activation="sigmoid",
)
# the class is the builder: its keyword arguments are the registered options
register_model(
    "dfcan", **_FAMILY, description="DFCAN (Qiao 2021): Fourier channel attention, 4 groups x 4 FCABs, 64 ch"
)(DFCAN)
register_model(
    "dfgan",
    **_FAMILY,
    discriminator="dfgan",
    description="DFGAN generator (Qiao 2021): DFCAN with 5 groups x 10 FCABs, gamma 0.1",
)(variant(DFCAN, "DFGAN generator: DFCAN's options, other defaults.", n_groups=5, n_blocks=10, gamma=0.1))


class DFGANDiscriminator(nn.Module):
    """DFGAN discriminator; image (B, C, H, W) -> logits (B, 1).

    conv3x3 C->w0 + LeakyReLU(0.1); for each width w in ``widths``: two conv3x3 (-> w, w -> w), each
    followed by LeakyReLU(0.1) (no stride, no normalisation); global average pool; dense
    widths[-1] -> ``hidden`` + LeakyReLU(0.1); dense hidden -> 1. The paper's final sigmoid lives in
    the BCE-with-logits loss. Defaults: w0 = 32, widths (32, 64, 128, 256, 512), hidden 256:
    4,852,481 parameters for 1 channel. Works at any input size (global pooling).
    """

    def __init__(
        self,
        in_channels: int = 1,
        *,
        stem: int = 32,
        widths: tuple[int, ...] = (32, 64, 128, 256, 512),
        hidden: int = 256,
        negative_slope: float = 0.1,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = [conv2d(in_channels, stem, 3), nn.LeakyReLU(negative_slope)]
        prev = stem
        for w in widths:
            layers += [
                conv2d(prev, w, 3),
                nn.LeakyReLU(negative_slope),
                conv2d(w, w, 3),
                nn.LeakyReLU(negative_slope),
            ]
            prev = w
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(
            nn.Linear(prev, hidden), nn.LeakyReLU(negative_slope), nn.Linear(hidden, 1)
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.features(x).mean(dim=(-2, -1)))


@register_discriminator("dfgan")
def build_dfgan_discriminator(
    in_channels: int,
    *,
    stem: int = 32,
    widths: Sequence[int] = (32, 64, 128, 256, 512),
    hidden: int = 256,
    negative_slope: float = 0.1,
) -> nn.Module:
    """DFGAN discriminator (see :class:`DFGANDiscriminator`)."""
    return DFGANDiscriminator(
        in_channels, stem=stem, widths=tuple(widths), hidden=hidden, negative_slope=negative_slope
    )
