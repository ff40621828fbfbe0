"""The MHTCUN cascade loss (Gong et al. 2021, section 3 and ablation 4.2), registered as
``"mhtcun-cascade"``.

Paper facts
-----------
* Stage 1 is supervised by the "4x blurred" ground truth: the GT down-sampled by a factor of four and
  up-sampled back to its size with bilinear interpolation; stage 2 by the "2x blurred" GT (factor
  two); stage 3 by the GT itself.
* Per-stage loss ``L_i = MSE + 0.1 (1 - SSIM)`` (alpha 1, beta 0.1); total
  ``0.3 L_1 + 0.3 L_2 + 1.0 L_3``.
* Ablation (4.2): with fewer stages the *last* stage is always supervised by the GT and the earlier
  ones by the next blur levels. Two stages: stage 1 <- 2x blurred GT, stage 2 <- GT. One stage:
  stage 1 <- GT. In general stage i of S is compared with the GT blurred by ``2 ** (S - i)``, with
  the weight of that target (the last S entries of ``weights``: 0.3 for 4x, 0.3 for 2x, 1.0 for GT).

Free choices, documented
------------------------
* Down-sampling method (the paper names only the bilinear up-sampling): ``down_mode="area"`` (default)
  averages f x f blocks (``F.interpolate(mode="area")``, i.e. adaptive average pooling), the
  anti-aliased reduction a "blur" calls for; ``down_mode="bilinear"`` uses PyTorch's bilinear resize
  without anti-aliasing (what a plain ``F.interpolate(scale_factor=1/f, mode="bilinear")`` in the
  authors' PyTorch 1.8 code would have done). Sizes that are not multiples of f are reduced to
  ``max(1, size // f)``. The up-sampling is bilinear with ``align_corners=False`` back to the exact GT
  size. Targets are built without gradients.
* SSIM is :func:`microsr.losses.pixel.ssim_torch` (Gaussian window 11 px, sigma 1.5, K1 0.01,
  K2 0.03, data range 1, valid region; equal to ``pytorch_msssim.ssim``), so HR patches need at least
  11 px per side. Losses are computed in float32.
* ``parts`` holds each stage's unweighted ``L_i`` under ``"stage1"``, ``"stage2"``, ``"stage3"``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from microsr.losses.pixel import ssim_torch
from microsr.losses.registry import LossFn, register_loss
from microsr.models.outputs import SROutput

_STAGE_KEY = re.compile(r"^stage(\d+)$")


def blurred_target(hr: Tensor, factor: int, down_mode: str = "area") -> Tensor:
    """The GT "blurred by ``factor``": down-sample by ``factor`` then bilinear back to its size.

    Parameters
    ----------
    hr : Tensor
        Ground truth (B, C, H, W).
    factor : int
        Blur level (4 for stage 1, 2 for stage 2 of the 3-stage cascade); 1 returns ``hr``.
    down_mode : {"area", "bilinear"}
        How to down-sample (see the module docstring).

    Returns
    -------
    Tensor
        (B, C, H, W), detached.
    """
    if factor == 1:
        return hr
    if down_mode not in ("area", "bilinear"):
        raise ValueError(f"down_mode must be 'area' or 'bilinear', got {down_mode!r}")
    h, w = hr.shape[-2:]
    small_size = (max(1, h // factor), max(1, w // factor))
    with torch.no_grad():
        src = hr.float()
        if down_mode == "area":
            small = F.interpolate(src, size=small_size, mode="area")
        else:
            small = F.interpolate(src, size=small_size, mode="bilinear", align_corners=False)
        return F.interpolate(small, size=(h, w), mode="bilinear", align_corners=False)


def stage_outputs(output: Tensor | SROutput) -> list[Tensor]:
    """The cascade's stage images in order: ``aux["stage1"], ..., final``.

    A plain tensor is a one-stage output. Other ``aux`` entries are ignored; the ``stageN`` keys must
    be ``stage1 .. stageK`` without gaps (``final`` is stage K + 1).
    """
    if not isinstance(output, SROutput):
        return [output]
    numbered = sorted(int(m[1]) for key in output.aux if (m := _STAGE_KEY.match(key)))
    if numbered != list(range(1, len(numbered) + 1)):
        raise ValueError(f"cascade outputs must be named stage1..stageK in aux, got {sorted(output.aux)}")
    return [output.aux[f"stage{i}"] for i in numbered] + [output.final]


def stage_loss(pred: Tensor, target: Tensor, ssim_weight: float = 0.1) -> Tensor:
    """``MSE(pred, target) + ssim_weight * (1 - SSIM(pred, target))`` in float32 (scalar)."""
    pred, target = pred.float(), target.float()
    return F.mse_loss(pred, target) + ssim_weight * (1.0 - ssim_torch(pred, target, 1.0))


@register_loss("mhtcun-cascade")
def cascade_loss(
    weights: Sequence[float] = (0.3, 0.3, 1.0),
    ssim_weight: float = 0.1,
    down_mode: str = "area",
) -> LossFn:
    """MHTCUN's deep-supervision loss.

    Parameters
    ----------
    weights : sequence of float
        Weights of the targets from the most blurred to the GT (0.3 for 4x, 0.3 for 2x, 1.0 for GT);
        an S-stage output uses the last S of them.
    ssim_weight : float
        beta of ``MSE + beta (1 - SSIM)`` (0.1).
    down_mode : {"area", "bilinear"}
        Down-sampling used to blur the GT.

    Returns
    -------
    LossFn
        ``loss(output, batch) -> (total, {"stage1": L_1, ...})`` where ``output`` is an
        :class:`SROutput` (final = last stage, aux ``stage1``...) or a plain tensor (one stage).
    """
    weights = tuple(float(w) for w in weights)
    if any(w < 0 for w in weights):
        raise ValueError(f"cascade weights must be non-negative, got {weights}")
    if down_mode not in ("area", "bilinear"):
        raise ValueError(f"down_mode must be 'area' or 'bilinear', got {down_mode!r}")

    def loss(output: Tensor | SROutput, batch: dict[str, Tensor]) -> tuple[Tensor, dict[str, Tensor]]:
        stages = stage_outputs(output)
        n = len(stages)
        if n > len(weights):
            raise ValueError(f"{n} cascade stages but only {len(weights)} weights {weights}")
        hr = batch["hr"]
        total = None
        parts: dict[str, Tensor] = {}
        for i, (pred, weight) in enumerate(zip(stages, weights[-n:]), start=1):
            target = blurred_target(hr, 2 ** (n - i), down_mode)
            value = stage_loss(pred, target, ssim_weight)
            total = weight * value if total is None else total + weight * value
            parts[f"stage{i}"] = value.detach()
        assert total is not None  # a model has at least one stage
        return total, parts

    loss.__name__ = "mhtcun_cascade_loss"
    return loss
