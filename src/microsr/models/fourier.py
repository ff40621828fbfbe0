"""Fourier channel attention (FCA) of DFCAN/DFGAN (Qiao et al., Nature Methods 2021), shared by
DFCAN, DFGAN and MHTCUN.

FCA(y), y (B, C, H, W):
    spectrum = fftshift((|FFT2(y)| + 1e-8) ** gamma) per channel;
    w = sigmoid(1x1(ReLU(1x1(GAP(ReLU(conv(spectrum)))))));  output y * w.

The centring shift is written as slicing + concatenation (:func:`fftshift2d`) rather than
``torch.fft.fftshift``: both give the same values on odd and even sizes, but ``fftshift`` is a
``roll``, which the ONNX exporter (torch 2.13, dynamo) cannot export when height and width are
resizable, while slices and concatenation export at any size.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from microsr.models.blocks import conv2d


def fftshift2d(x: Tensor) -> Tensor:
    """``torch.fft.fftshift(x, dim=(-2, -1))`` by slicing + concatenation (exports to ONNX with
    resizable sizes): index ``n // 2`` of each of the last two axes moves to 0."""
    for dim in (-2, -1):
        n = x.shape[dim]
        k = n - n // 2
        x = torch.cat([x.narrow(dim, k, n - k), x.narrow(dim, 0, k)], dim=dim)
    return x


class FourierChannelAttention(nn.Module):
    """DFCAN's Fourier channel attention: re-weights channels by statistics of their spectra.

    Parameters
    ----------
    channels : int
        Feature channels C.
    reduction : int
        Squeeze ratio; the bottleneck has ``max(1, C // reduction)`` channels.
    gamma : float
        Power applied to the FFT magnitude (0.8 DFCAN, 0.1 DFGAN).
    spectrum_size : int or None
        ``None``: use the spectrum at its own size; an int resizes the shifted spectrum to
        ``spectrum_size`` x ``spectrum_size`` (bilinear) like the official code.
    conv : nn.Module or None
        The C->C spatial conv applied to the spectrum (before ReLU); default conv3x3 with bias.
        MHTCUN passes a depthwise-separable conv here.

    Shapes: (B, C, H, W) -> (B, C, H, W).
    """

    def __init__(
        self,
        channels: int,
        reduction: int = 16,
        gamma: float = 0.8,
        spectrum_size: int | None = None,
        conv: nn.Module | None = None,
    ) -> None:
        super().__init__()
        squeeze = max(1, channels // reduction)
        self.gamma = float(gamma)
        self.spectrum_size = spectrum_size
        self.conv = conv if conv is not None else conv2d(channels, channels, 3)
        self.down = nn.Conv2d(channels, squeeze, 1)
        self.up = nn.Conv2d(squeeze, channels, 1)

    def spectrum(self, y: Tensor) -> Tensor:
        """``fftshift((|FFT2(y)| + 1e-8) ** gamma)`` per channel, float32, same shape as ``y``."""
        mag = torch.fft.fft2(y.float()).abs()
        return fftshift2d((mag + 1e-8) ** self.gamma)

    def forward(self, y: Tensor) -> Tensor:
        spec = self.spectrum(y)
        if self.spectrum_size is not None and spec.shape[-2:] != (self.spectrum_size,) * 2:
            spec = F.interpolate(spec, size=(self.spectrum_size,) * 2, mode="bilinear", align_corners=False)
        a = F.relu(self.conv(spec.to(y.dtype)))
        w = a.mean(dim=(-2, -1), keepdim=True)
        w = torch.sigmoid(self.up(F.relu(self.down(w))))
        return y * w.to(y.dtype)
