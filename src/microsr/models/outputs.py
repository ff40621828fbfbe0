"""The named container that multi-output models return."""

from __future__ import annotations

from dataclasses import dataclass, field

from torch import Tensor


@dataclass
class SROutput:
    """Output of a model with more than one output.

    Attributes
    ----------
    final : Tensor
        The super-resolved image, shape (B, out_channels, scale*H, scale*W). Prediction uses only this.
    aux : dict[str, Tensor]
        Named intermediate outputs that their losses supervise, e.g. ``{"stage1": ..., "stage2": ...}``
        for MHTCUN or ``{"parsing": logits}`` (B, 3, sH, sW) for the geometry-prior network.
    """

    final: Tensor
    aux: dict[str, Tensor] = field(default_factory=dict)


def final_output(output: Tensor | SROutput) -> Tensor:
    """Return the super-resolved image of a plain or multi-output model."""
    return output.final if isinstance(output, SROutput) else output
