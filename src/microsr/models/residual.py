"""Global bicubic residual: any generator's output plus the bicubic-upsampled input.

``create_model(name, ..., bicubic_residual=True)`` wraps a generator so that it learns only the
difference between the HR image and the bicubic interpolation of its input, as VDSR, DnCNN and the
geometry-prior network do by construction and as CSBDeep's CARE does on its upsampled input. At
initialisation the wrapped model therefore starts near bicubic instead of near zero, which matters
most for short training budgets. Measured with ``benchmarks/quality.py --budget medium`` (150
steps, EDSR-baseline, simulated microtubules at 500 photons): 27.82 -> 28.57 dB PSNR and
0.860 -> 0.885 SSIM. It adds no parameters. It is an option, off by default, because the
registered architectures follow their papers, and EDSR, RCAN, RDN, DFCAN and the rest have no
such skip there. Refused (see :func:`~microsr.models.registry.residual_refusal`) where the skip
exists already and for DFCAN/DFGAN, whose sigmoid output cannot be negative: tried on DFCAN, the
output saturated at 0 within 50 steps and the prediction stayed exactly bicubic.

For multi-output models the bicubic image is added to ``final`` and to every auxiliary output of
the same shape (MHTCUN's stage outputs, SRFBN's steps); outputs of other shapes (the geometry
network's parsing logits) are left alone.
"""

from __future__ import annotations

from torch import Tensor, nn

from microsr.models.blocks import bicubic_upsample
from microsr.models.outputs import SROutput


class BicubicResidual(nn.Module):
    """``net(x, *args) + bicubic_upsample(x, scale)``; the wrapped generator is ``self.net``.

    Parameters
    ----------
    net : nn.Module
        A generator mapping (B, C, H, W) to (B, C, scale*H, scale*W) or an ``SROutput``; it must
        have as many output channels as input channels.
    scale : int
        Its up-sampling factor.
    """

    def __init__(self, net: nn.Module, scale: int):
        super().__init__()
        self.net = net
        self.scale = scale

    def forward(self, x: Tensor, *args, **kwargs) -> Tensor | SROutput:
        """(B, C, H, W) (+ the generator's extra inputs) -> the generator's output + bicubic(x)."""
        out = self.net(x, *args, **kwargs)
        up = bicubic_upsample(x, self.scale)
        if isinstance(out, SROutput):
            aux = {k: v + up if v.shape == out.final.shape else v for k, v in out.aux.items()}
            return SROutput(final=out.final + up, aux=aux)
        return out + up
