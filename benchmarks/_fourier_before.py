"""The Fourier channel attention as microsr computed it before ``models/fourier.py`` (commit
f7debc2, ``models/dfcan.py``), for before/after timings in one process (benchmarks only).

Before: the complex ``fft2`` of the real features, ``abs``, ``+ 1e-8`` and ``** gamma`` on the whole
spectrum, ``torch.fft.fftshift`` (a copy), a ReLU that allocates and ``y * w`` as its own product
(the blocks' residual sum was a separate addition too; here the blocks' ``addcmul`` of today is
kept, so the "before" times are, if anything, slightly flattered). Same values as today's code
within float32 rounding (the models' tests check today's code against this formula).
"""

from __future__ import annotations

import types

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def _spectrum(self, y: Tensor) -> Tensor:
    mag = torch.fft.fft2(y.float()).abs()
    return torch.fft.fftshift((mag + 1e-8) ** self.gamma, dim=(-2, -1))


def _weights(self, y: Tensor) -> Tensor:
    spec = self.spectrum(y)
    if self.spectrum_size is not None and spec.shape[-2:] != (self.spectrum_size,) * 2:
        spec = F.interpolate(spec, size=(self.spectrum_size,) * 2, mode="bilinear", align_corners=False)
    a = F.relu(self.conv(spec.to(y.dtype)))
    w = a.mean(dim=(-2, -1), keepdim=True)
    return torch.sigmoid(self.up(F.relu(self.down(w)))).to(y.dtype)


def use_before(model: nn.Module) -> int:
    """Switch every Fourier channel attention of ``model`` to the earlier computation (in place);
    returns how many were switched."""
    from microsr.models.fourier import FourierChannelAttention

    n = 0
    for m in model.modules():
        if isinstance(m, FourierChannelAttention):
            m.spectrum = types.MethodType(_spectrum, m)  # type: ignore[method-assign]
            m.weights = types.MethodType(_weights, m)  # type: ignore[method-assign]
            n += 1
    return n
