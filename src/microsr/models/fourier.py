"""Fourier channel attention (FCA) of DFCAN/DFGAN (Qiao et al., Nature Methods 2021), shared by
DFCAN, DFGAN and MHTCUN.

FCA(y), y (B, C, H, W):
    spectrum = fftshift((|FFT2(y)| + 1e-8) ** gamma) per channel;
    w = sigmoid(1x1(ReLU(1x1(GAP(ReLU(conv(spectrum)))))));  output y * w.

The centring shift is written as slicing + concatenation (:func:`fftshift2d`) rather than
``torch.fft.fftshift``: both give the same values on odd and even sizes, but ``fftshift`` is a
``roll``, which the ONNX exporter (torch 2.13, dynamo) cannot export when height and width are
resizable, while slices and concatenation export at any size.

How the spectrum is computed (same values as the formula above, within float32 rounding):

* The input is real, so its spectrum is Hermitian, ``|F(u, v)| = |F(-u, -v)|``: a real-input FFT
  (``rfft2``, half the columns, half the work of the complex ``fft2``) gives every magnitude, and
  ``+ 1e-8`` and ``** gamma`` run on that half only.
* The full, centred spectrum is then built by one gather from the half spectrum
  (:func:`shifted_half_index`): the mirroring and the ``fftshift`` are both moved into the index,
  so there is no separate shift copy. The gather writes the layout the spectrum conv reads
  (channels-last when the features are channels-last, as in tiled prediction).
* Channels-last features are transformed in their own layout, as two 1-D FFTs over the strided
  axes (``rfft`` over X, then ``fft`` over Y): ``rfft2`` on them first copies them to a contiguous
  layout, and that permuted copy cost more than the FFT itself (one thread, 64 x 256^2: 31 ms for
  ``rfft2`` against 13 ms for the two 1-D FFTs).
* Without autograd (prediction), the magnitude is ``sqrt(re^2 + im^2)`` by one ``addcmul`` instead
  of the overflow-safe complex ``abs`` (3.5 against 12 ms there) and the power is
  ``exp(gamma * log(.))`` in place (1.5 against 6.5 ms for ``pow``); equal within float32
  rounding. Training keeps ``abs`` and ``pow``: ``abs`` has a zero gradient at a zero coefficient,
  where the square root's is not finite.
* ``y * w`` and the block's residual sum are one ``addcmul`` (:meth:`FourierChannelAttention.weights`).
"""

from __future__ import annotations

from functools import lru_cache

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint as activation_checkpoint

from microsr.models.blocks import conv2d


def fftshift2d(x: Tensor) -> Tensor:
    """``torch.fft.fftshift(x, dim=(-2, -1))`` by slicing + concatenation (exports to ONNX with
    resizable sizes): index ``n // 2`` of each of the last two axes moves to 0."""
    for dim in (-2, -1):
        n = x.shape[dim]
        k = n - n // 2
        x = torch.cat([x.narrow(dim, k, n - k), x.narrow(dim, 0, k)], dim=dim)
    return x


def _half_index(h: int, w: int, device: torch.device) -> Tensor:
    """(h, w) int64: flat index into the (h, w // 2 + 1) half spectrum of each position of the
    centred full spectrum (``fftshift`` of the full one)."""
    # no tensor % size below: the ONNX exporter cannot take a remainder by a symbolic size
    u = torch.arange(h, device=device) - h // 2
    u = torch.where(u < 0, u + h, u)  # unshifted row of each centred row, (i - h // 2) mod h
    v = torch.arange(w, device=device) - w // 2
    v = torch.where(v < 0, v + w, v)  # unshifted column of each centred column
    mirror = v > w // 2  # columns missing from the half spectrum: use |F(-u, -v)|
    neg_u = torch.where(u == 0, u, h - u)  # (-u) mod h
    rows = torch.where(mirror[None, :], neg_u[:, None], u[:, None])
    cols = torch.where(mirror, w - v, v)[None, :]
    return rows * (w // 2 + 1) + cols


@lru_cache(maxsize=64)
def _cached_half_index(h: int, w: int, device: torch.device) -> Tensor:
    with torch.inference_mode(False):  # a normal tensor, usable by autograd after inference mode
        return _half_index(h, w, device)


def shifted_half_index(h: int, w: int, device: torch.device) -> Tensor:
    """Flat gather index (h * w,) from a flattened half spectrum to the centred full spectrum.

    Cached per size in eager mode; computed in the graph while tracing (export, compile), where
    sizes may be symbolic.
    """
    if torch.compiler.is_compiling() or not isinstance(h, int):
        return _half_index(h, w, device).flatten()
    return _cached_half_index(h, w, device).flatten()


def _power(spec: Tensor, gamma: float, plain: bool) -> Tensor:
    """``(|spec| + 1e-8) ** gamma`` of a complex spectrum, float32, in the layout of ``spec``;
    ``plain``: by ``abs`` and ``pow`` (for autograd and export), else by the faster forms."""
    if plain:  # abs keeps its input, not its output, so the in-place add is safe
        return torch.pow(spec.abs().add_(1e-8), gamma)
    ri = torch.view_as_real(spec)
    re, im = ri[..., 0], ri[..., 1]
    mag = torch.addcmul(re * re, im, im).sqrt_().add_(1e-8)
    return mag.log_().mul_(gamma).exp_()


def centred_magnitude(y: Tensor, gamma: float) -> Tensor:
    """``fftshift((|FFT2(y)| + 1e-8) ** gamma)`` over the last two axes, float32, shape of ``y``;
    channels-last when ``y`` is (see the module docstring for how it is computed)."""
    b, c, h, w = y.shape
    y = y.float()
    idx = shifted_half_index(h, w, y.device)
    if torch.compiler.is_compiling() or not isinstance(h, int):  # traced for export: plain ops
        half = _power(torch.fft.rfft2(y), gamma, plain=True)
        # sizes from y: the exporter cannot read a complex one
        return half.reshape(b, c, h * (w // 2 + 1)).index_select(2, idx).view(b, c, h, w)
    autograd = torch.is_grad_enabled() and y.requires_grad
    if c > 1 and y.is_contiguous(memory_format=torch.channels_last):
        spec = torch.fft.fft(torch.fft.rfft(y.permute(0, 2, 3, 1), dim=2), dim=1)  # (B, H, W', C)
        half = _power(spec, gamma, plain=autograd).reshape(b, h * (w // 2 + 1), c)
        return half.index_select(1, idx).view(b, h, w, c).permute(0, 3, 1, 2)
    half = _power(torch.fft.rfft2(y), gamma, plain=autograd).reshape(b, c, h * (w // 2 + 1))
    # gather along the last axis: about 4x faster than index_select there (64 x 128^2: 1.1 vs 4.8 ms)
    return torch.gather(half, 2, idx.expand(b, c, -1)).view(b, c, h, w)


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
        return centred_magnitude(y, self.gamma)

    def weights(self, y: Tensor) -> Tensor:
        """The channel weights w, (B, C, 1, 1) in (0, 1), in the dtype of ``y``."""
        spec = self.spectrum(y)
        if self.spectrum_size is not None and spec.shape[-2:] != (self.spectrum_size,) * 2:
            spec = F.interpolate(spec, size=(self.spectrum_size,) * 2, mode="bilinear", align_corners=False)
        a = F.relu(self.conv(spec.to(y.dtype)), inplace=True)  # the conv keeps its input, not its output
        w = a.mean(dim=(-2, -1), keepdim=True)
        return torch.sigmoid(self.up(F.relu(self.down(w)))).to(y.dtype)

    def forward(self, y: Tensor) -> Tensor:
        return y * self.weights(y)


class FourierAttentionBlock(nn.Module):
    """``x + FCA(body(x))`` in one pass (``torch.addcmul``): DFCAN's FCAB and MHTCUN's MFCAB.

    ``body`` maps (B, C, H, W) to the same shape; ``attention`` gives its channel weights. With
    ``checkpoint`` (training only) the block keeps just its input for the backward pass and
    recomputes its inside then (activation checkpointing: less memory, about one more forward).
    """

    def __init__(self, body: nn.Module, attention: FourierChannelAttention, checkpoint: bool = False) -> None:
        super().__init__()
        self.checkpoint = checkpoint
        self.body = body
        self.attention = attention

    def _block(self, x: Tensor) -> Tensor:
        y = self.body(x)
        return torch.addcmul(x, y, self.attention.weights(y))

    def forward(self, x: Tensor) -> Tensor:
        if self.checkpoint and torch.is_grad_enabled() and x.requires_grad:
            out: Tensor = activation_checkpoint(self._block, x, use_reentrant=False)
            return out
        return self._block(x)
