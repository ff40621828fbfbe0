"""Loss of the leukocyte geometry-prior seed (Hua et al., J. Biomed. Opt. 2020, section 2.3, eq. 5).

``L = mean(rho(SR - HR)) + lambda * BCE(parsing logits, ground-truth map)``, with the Charbonnier
penalty ``rho(x) = sqrt(x^2 + eps^2)``, ``eps = 1e-3`` and ``lambda = 1``.

Facts and choices
-----------------
* The seed says the prior term "follows the binary cross entropy loss used in Unet": it is *binary*
  cross entropy on each of the 3 channels (background, cytoplasm, nucleus) of the map against the
  one-hot ``batch["mask"]`` (B, 3, sH, sW), computed from logits (``binary_cross_entropy_with_logits``,
  numerically equal to sigmoid + BCE) and averaged over all elements. It is not a 3-class softmax
  cross entropy.
* The BCE term is added only when the model predicted a map (``SROutput.aux["parsing"]``, i.e.
  ``geometry-prior-full``). For ``geometry-prior`` (map given as input) and
  ``geometry-prior-noprior`` the loss is the Charbonnier term alone.
* Both terms are means over pixels (the seed's 1/N sum over the batch of per-image means).
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from microsr.losses.pixel import charbonnier
from microsr.losses.registry import LossFn, register_loss
from microsr.models.outputs import SROutput, final_output


@register_loss("geometry-prior")
def geometry_prior_loss(eps: float = 1e-3, bce_weight: float = 1.0) -> LossFn:
    """Charbonnier on the SR image + ``bce_weight`` x per-channel BCE on the predicted parsing map.

    Parameters
    ----------
    eps : float
        Charbonnier epsilon (1e-3 in the seed).
    bce_weight : float
        lambda of the seed's eq. 3 (1.0).

    Returns
    -------
    loss(output, batch) -> (total, {"charbonnier": ..., "bce": ...}); ``"bce"`` only when the output
    carries ``aux["parsing"]``, which then requires ``batch["mask"]`` of the same shape.
    """
    if eps <= 0:
        raise ValueError(f"eps must be positive, got {eps}")
    if bce_weight < 0:
        raise ValueError(f"bce_weight must be non-negative, got {bce_weight}")

    def loss(output: Tensor | SROutput, batch: dict[str, Tensor]) -> tuple[Tensor, dict[str, Tensor]]:
        sr_term = charbonnier(final_output(output), batch["hr"], eps)
        parts = {"charbonnier": sr_term.detach()}
        logits = output.aux.get("parsing") if isinstance(output, SROutput) else None
        if logits is None:
            return sr_term, parts
        mask = batch.get("mask")
        if mask is None:
            raise ValueError(
                "the geometry-prior loss needs ground-truth parsing maps (batch['mask']) to train "
                "the prior network; give the training data a mask folder"
            )
        if mask.shape != logits.shape:
            raise ValueError(
                f"parsing map shape {tuple(mask.shape)} does not match the predicted {tuple(logits.shape)}"
            )
        bce = F.binary_cross_entropy_with_logits(logits, mask.to(logits.dtype))
        parts["bce"] = bce.detach()
        return sr_term + bce_weight * bce, parts

    return loss
