"""Leukocyte SR with a geometry prior (Hua, Cai, Zhou, Yan, Cao, J. Biomed. Opt. 25(10) 106501, 2020).

Defining facts (seed ``leukocyte-geometry-prior-paper.md`` sections 2.1-2.4, SPEC 1.3)
--------------------------------------------------------------------------------------
* The LR image (B, C, h, w) is bicubic-upsampled first; everything runs on the HR grid (sh, sw).
* Prior network: the U-Net of Ronneberger 2015 with halved widths (32, 64, 128, 256, 512) and zero
  ('same') padding, giving a 3-channel parsing map. The variant that gives the published 7,759,587
  parameters (1 channel in) is the *original* U-Net: double conv3x3 (bias) + ReLU, no batch norm,
  2x2 max-pool down, 2x2 stride-2 transposed conv halving the channels on the way up, concat with the
  skip, double conv3x3 + ReLU, final 1x1 conv (bias) to 3 logits. (With BN: 7,765,475; with bilinear
  up-sampling: 7,846,147 or 4,315,683 -- none of them match.)
* SR network: LeakyReLU(0.2) everywhere, 64 channels, every conv 3x3 with bias except the last (1x1).
  Residual block = [conv3x3 + LReLU] x 2 + identity skip (EDSR-like, no BN).
  f = LReLU(conv3x3(x_bic)); LRenc = 3 blocks(f); MaskEnc = 3 blocks(LReLU(conv3x3 3->64 (map)));
  decoder: LReLU(conv3x3 192->64 ([f, LRenc, MaskEnc])), N blocks, conv1x1 64->C_out; + x_bic.
  With N = 3 this is 777,857 parameters (1 channel).
* No-prior ablation (seed Fig. 1b): no mask encoder, decoder on [f, LRenc] = 128 channels (517,633).

Registered models (the design choice that keeps the SPEC count and end-to-end training)
-------------------------------------------------------------------------------------
``geometry-prior`` (777,857)
    The SR network alone, guided by a *given* parsing map: ``forward(lr, mask)`` with ``mask`` the
    one-hot map (B, 3, sh, sw) (background, cytoplasm, nucleus) on the HR grid. It needs the map at
    training *and* at prediction time (like SFTGAN). Returns a plain tensor.
``geometry-prior-full`` (777,857 + 7,759,587 = 8,537,444)
    The paper's end-to-end model: prior U-Net on the bicubic input -> logits; the SR network is fed
    ``sigmoid(logits)``; ``forward(lr)`` returns ``SROutput(final=sr, aux={"parsing": logits})``.
    Masks are needed for training (the BCE term) but not for prediction.
``geometry-prior-noprior`` (517,633)
    The ablation without prior network and mask encoder; ``forward(lr)`` returns a tensor.

Convention for callers: a model's ``forward`` takes a ``mask`` keyword exactly when it must be fed
the parsing map (``"mask" in inspect.signature(model.forward).parameters``).

Free choices (not in the paper)
-------------------------------
* The map given to the mask encoder is ``sigmoid(logits)``: the seed trains the prior with binary
  cross entropy ("as in U-net"), i.e. per-channel probabilities.
* Sizes not divisible by 2**depth (16) are reflect-padded at the bottom/right before the U-Net and the
  output cropped back (replicate padding when the image is too small to reflect).
* ``in_channels`` > 1 is accepted (the first convs take C channels); the seed's RGB recipe is to run
  on Y only (see :func:`microsr.data.color.super_resolve_rgb`).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from microsr.models.blocks import bicubic_upsample
from microsr.models.geometry_prior_nets import GeometryPriorSR, PriorUNet
from microsr.models.outputs import SROutput
from microsr.models.registry import register_model


def _check_mask(mask: Tensor | None, x_bic: Tensor, n_classes: int) -> Tensor:
    if mask is None:
        raise ValueError(
            "geometry-prior needs a parsing map: call model(lr, mask) with the one-hot map "
            "(B, 3, s*h, s*w) (background, cytoplasm, nucleus); use 'geometry-prior-full' to "
            "predict the map from the image, or 'geometry-prior-noprior' to work without one"
        )
    want = (x_bic.shape[0], n_classes, *x_bic.shape[-2:])
    if tuple(mask.shape) != want:
        raise ValueError(f"parsing map has shape {tuple(mask.shape)}, expected {want} (HR grid)")
    return mask.to(x_bic.dtype)


class _MapSR(nn.Module):
    """The seed's SR network on the bicubic grid, with a mask encoder when ``use_prior``.

    ``decoder_blocks`` is the paper's N: 777,857 parameters with N = 3 (517,633 without the mask
    encoder).
    """

    use_prior = True

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        scale: int,
        *,
        width: int = 64,
        encoder_blocks: int = 3,
        decoder_blocks: int = 3,
    ):
        super().__init__()
        self.scale = scale
        self.sr = GeometryPriorSR(
            in_channels, out_channels, width, encoder_blocks, decoder_blocks, use_prior=self.use_prior
        )


class GeometryPriorGivenMap(_MapSR):
    """``geometry-prior``: SR network fed a given parsing map; ``forward(lr, mask)``."""

    def forward(self, lr: Tensor, mask: Tensor | None = None) -> Tensor:
        x = bicubic_upsample(lr, self.scale)
        return self.sr(x, _check_mask(mask, x, 3))


class GeometryPriorNoPrior(_MapSR):
    """``geometry-prior-noprior``: the seed's Fig. 1b ablation; ``forward(lr)`` -> tensor."""

    use_prior = False

    def forward(self, lr: Tensor) -> Tensor:
        return self.sr(bicubic_upsample(lr, self.scale))


class GeometryPriorFull(nn.Module):
    """``geometry-prior-full``: prior U-Net + SR network, trained end to end (seed eq. 2).

    Prior U-Net (7,759,587) + SR network (777,857) = 8,537,444 parameters for 1 channel.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        scale: int,
        *,
        width: int = 64,
        encoder_blocks: int = 3,
        decoder_blocks: int = 3,
        prior_width: int = 32,
        prior_depth: int = 4,
    ):
        super().__init__()
        self.scale = scale
        self.prior = PriorUNet(in_channels, 3, prior_width, prior_depth)
        self.sr = GeometryPriorSR(
            in_channels, out_channels, width, encoder_blocks, decoder_blocks, use_prior=True
        )

    def forward(self, lr: Tensor) -> SROutput:
        x = bicubic_upsample(lr, self.scale)
        logits = self.prior(x)
        return SROutput(final=self.sr(x, torch.sigmoid(logits)), aux={"parsing": logits})


_TINY = {"width": 8, "encoder_blocks": 1, "decoder_blocks": 1}
# what the three registered models share; the classes are the builders: their keyword arguments are
# the registered options
_FAMILY = dict(input_grid="hr", default_loss="geometry-prior", global_skip=True)
register_model(
    "geometry-prior",
    **_FAMILY,
    tiny=_TINY,
    needs_mask=True,
    mask_input=True,
    description="Hua 2020 leukocyte SR net guided by a given parsing map (mask needed "
    "for training and prediction)",
)(GeometryPriorGivenMap)
register_model(
    "geometry-prior-noprior",
    **_FAMILY,
    tiny=_TINY,
    description="Hua 2020 ablation without prior network (seed Fig. 1b)",
)(GeometryPriorNoPrior)
register_model(
    "geometry-prior-full",
    **_FAMILY,
    tiny={**_TINY, "prior_width": 4, "prior_depth": 2},
    needs_mask=True,
    description="Hua 2020 end to end: prior U-Net predicts the parsing map, SR net uses "
    "it (masks for training only)",
)(GeometryPriorFull)
