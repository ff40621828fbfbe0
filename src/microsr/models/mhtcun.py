"""MHTCUN: Modified Hybrid Task Cascade U-Net (Gong, Ma, Evans, He, "Deep neural networks for image
super-resolution in optical microscopy by using modified hybrid task cascade U-Net", Progress In
Electromagnetics Research 173, 2021). No public code exists; this is built from the paper's prose
(sections 2-4) and SPEC.md 1.2. Blocks are in :mod:`microsr.models.mhtcun_parts`.

Data flow (HR grid, C = 64)
---------------------------
    LR (B, C_in, H, W) -> bicubic x scale -> (pad) -> conv3x3 C_in->C = x
    context = SpatialContext(x)                      feature-pyramid branch (Fig. 6)
    f_0 = UNet(x)                                    first "pooling module" replaced by a U-Net
    for stage i = 1..stages:
        f_i = FRM_i(x, f_{i-1})                      concat, conv3x3 2C->C, U-Net (Fig. 2)
        p_i, y_i = PixelBranch_i(f_i, p_{i-1}, context)   sums, 4 DS convs, conv3x3 -> image
    returns SROutput(final=y_stages, aux={"stage1": y_1, ...})  each (B, C_out, sH, sW)

Defining facts taken from the paper: bicubic x2 then a 3x3 conv; depthwise-separable convs
(3x3 depthwise, 1x1 pointwise) with swish; FCAB = two DS convs + swish, then DFCAN's Fourier channel
attention, + input; U-Net levels 64/128/256 with stride-2 conv down and PixelShuffle + conv3x3 up and
skip connections; FRM = concat + conv3x3 reduction + U-Net; x enters every FRM; spatial-context
branch = stride-2 3x3 convs, 1x1 laterals, transposed-conv upsampling, element-wise sum, four DS
convs and a 1x1 conv; pixel branches = element-wise sum of FRM features, previous branch features
and context, four DS convs, conv3x3 reconstruction; zero padding in every conv.

Ablation (paper 4.2): an n-stage MHTCUN keeps the input conv, the first U-Net, the context branch and
the FRMs/pixel branches of stages 1..n only; its last stage is the final output (the cascade loss
then supervises it with the GT, see :mod:`microsr.losses.cascade`). Parameters (1ch, x2):
stages=3: 6,694,563 (+1.43 % of 6.60M); stages=2: 5,033,338; stages=1: 3,372,113
(the scale does not change the count: 6,694,563 at x4 too).

Free choices (the paper's "#Params 26.40" is float32 MB, i.e. about 6.6M parameters)
------------------------------------------------------------------------------------
* Spectrum conv inside each FCAB's attention is depthwise-separable (``separable_attention=True``).
  With DFCAN's full conv3x3 there, even one FCAB per U-Net block gives 9,822,675 (+49 %), so the
  reported size rules it out; the option remains for experiments.
* U-Net blocks: ``n_blocks=2`` FCABs in each of e1 (C), e2 (2C), e3 (4C, encoder bottom), d3 (4C,
  "the lower resolution feature maps are processed by the FCAB" before upsampling) and d2 (2C); no
  FCAB after the last skip (the prose puts decoder FCABs before each upsampling).
* Up-sampling: PixelShuffle(2) first (4C -> C, 2C -> C/2 channels), then conv3x3 to the skip's width
  (C -> 2C, C/2 -> C); skips are element-wise additions ("skip connection is added").
  Down-sampling and up-sampling convs have no activation (the FCABs around them bring swish); the
  U-Net output is the last skip sum.
* Context branch: 3 pyramid levels (full, 1/2, 1/4 of the HR grid, the U-Net's depth), all C wide
  (a 64/128/256 pyramid would give 7,006,115, +6.2 %), swish after each stride-2 conv, FPN-style
  top-down path (ConvTranspose2d k=2 s=2 per level, summed with each level's 1x1 lateral).
* Previous-stage pixel features and context enter each pixel branch by plain element-wise sum
  (no 1x1 transforms); the first branch gets FRM features + context.
* FRM reduction conv has no activation; the reconstruction conv has no output activation and there
  is no global residual to the bicubic image (the paper mentions neither).
* FCA: gamma 0.8, reduction 16 (DFCAN's), ``max(1, C//16)`` squeeze channels, spectrum not resized
  (see :mod:`microsr.models.dfcan`). Biases everywhere (PyTorch defaults).
* ``tiny`` preset: ``n_feats=8, n_blocks=1`` (widths 8/16/32), 84,287 parameters.
* Size handling: the U-Net and the pyramid halve twice, so the bicubic image is reflect-padded at
  the bottom/right to a multiple of 4 (replicate if too small to reflect) and every stage output is
  cropped back to (sH, sW); any LR size works.
"""

from __future__ import annotations

from torch import Tensor, nn

from microsr.models.blocks import bicubic_upsample, check_scale, conv2d, pad_to_multiple
from microsr.models.mhtcun_parts import FRM, PixelBranch, SpatialContext, UNet
from microsr.models.outputs import SROutput
from microsr.models.registry import register_model

_MULTIPLE = 4  # two stride-2 levels in the U-Net and the context pyramid


class MHTCUN(nn.Module):
    """Modified hybrid task cascade U-Net; LR (B, C_in, H, W) -> :class:`SROutput`.

    Parameters
    ----------
    in_channels, out_channels, scale : int
        Image channels; ``scale`` is the bicubic up-sampling factor (2 or 4 in practice; any >= 1).
    n_feats : int
        Width C of x, the FRMs, branches and U-Net level 1 (levels are C, 2C, 4C); even.
    n_blocks : int
        FCABs per U-Net block (5 blocks per U-Net).
    stages : {1, 2, 3}
        Cascade stages built (paper 4.2 ablation); ``final`` is the last one.
    reduction, gamma, spectrum_size : FCA options (16, 0.8, None).
    separable_attention : bool
        Depthwise-separable spectrum conv in the FCA (True) or DFCAN's full conv3x3.
    context_levels : int
        Pyramid levels of the spatial-context branch (3); must be <= 3 (padding multiple of 4).
    checkpoint : bool
        Activation checkpointing of every FCAB while training: same outputs and gradients, training
        memory at batch 4 of 64 px LR less than half (``benchmarks/speed_memory.py``) for about one
        more forward pass of compute. Off by default; no effect on inference.
    """

    def __init__(
        self,
        in_channels: int = 1,
        out_channels: int = 1,
        scale: int = 2,
        *,
        n_feats: int = 64,
        n_blocks: int = 2,
        stages: int = 3,
        reduction: int = 16,
        gamma: float = 0.8,
        spectrum_size: int | None = None,
        separable_attention: bool = True,
        context_levels: int = 3,
        checkpoint: bool = False,
    ) -> None:
        super().__init__()
        if stages not in (1, 2, 3):
            raise ValueError(f"stages must be 1, 2 or 3, got {stages}")
        if n_feats < 2 or n_feats % 2:
            raise ValueError(f"n_feats must be an even number >= 2 (PixelShuffle), got {n_feats}")
        if not 1 <= context_levels <= 3:
            raise ValueError(f"context_levels must be 1, 2 or 3, got {context_levels}")
        check_scale(scale)
        self.scale = scale
        self.stages = stages
        opts = dict(
            reduction=reduction,
            gamma=gamma,
            spectrum_size=spectrum_size,
            separable_attention=separable_attention,
            checkpoint=checkpoint,
        )
        self.head = conv2d(in_channels, n_feats, 3)
        self.context = SpatialContext(n_feats, context_levels)
        self.unet = UNet(n_feats, n_blocks, opts)
        self.frms = nn.ModuleList(FRM(n_feats, n_blocks, opts) for _ in range(stages))
        self.branches = nn.ModuleList(PixelBranch(n_feats, out_channels) for _ in range(stages))

    def forward(self, lr: Tensor) -> SROutput:
        up = bicubic_upsample(lr, self.scale)
        h, w = up.shape[-2:]
        x = self.head(pad_to_multiple(up, _MULTIPLE))
        context = self.context(x)
        f = self.unet(x)
        p = None
        outputs: list[Tensor] = []
        for frm, branch in zip(self.frms, self.branches):
            f = frm(x, f)
            p, y = branch(f, p, context)
            outputs.append(y[..., :h, :w])
        aux = {f"stage{i + 1}": y for i, y in enumerate(outputs[:-1])}
        return SROutput(final=outputs[-1], aux=aux)


# the class is the builder: its keyword arguments are the registered options
register_model(
    "mhtcun",
    input_grid="hr",
    tiny={"n_feats": 8, "n_blocks": 1},
    default_loss="mhtcun-cascade",
    description="MHTCUN (Gong 2021): 3-stage hybrid task cascade of FCAB U-Nets, ~6.7M params",
)(MHTCUN)
