"""Test-time augmentation: average a model's outputs over a group of rotations and mirrors.

Three groups, by name (:data:`TTA_GROUPS`): ``none`` (the input as it is), ``flips`` (the input,
mirrored left-right, up-down and both: valid whenever the degradation is symmetric under mirrors,
e.g. an anisotropic but axis-aligned PSF with binning) and ``all`` (the eight rotations by 90
degrees and mirrors: valid only for an isotropic degradation). Which group suits a user's images
is not known in advance: a degradation whose sampling grid is not centred on the HR pixels (every
second pixel taken) or whose PSF is elongated along one axis breaks the symmetry, and averaging
then blurs. So training measures it: :func:`microsr.engine.validate.choose_tta` scores each group on
the validation images at the end of training and the run records the choice (``model.json``
``tta``), which ``microsr predict --tta auto`` (the default) uses.

Each transform is exactly invertible (:mod:`microsr.data.augment`); outputs are mapped back and
averaged, the final image and every auxiliary output of a multi-output model alike.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from microsr.data.augment import dihedral, inverse_dihedral
from microsr.modelcard import ModelInfo
from microsr.models.outputs import SROutput

TTA_GROUPS: dict[str, tuple[int, ...]] = {"none": (0,), "flips": (0, 2, 4, 6), "all": tuple(range(8))}
TTA_NAMES = {"none": "the input alone", "flips": "the 4 mirrors", "all": "the 8 rotations and mirrors"}


def tta_transforms(tta: bool | str) -> tuple[int, ...]:
    """Dihedral transform indices of ``tta``: a group name, or a bool (True: ``all``, False: ``none``)."""
    if isinstance(tta, bool):
        return TTA_GROUPS["all" if tta else "none"]
    if tta not in TTA_GROUPS:
        raise ValueError(f"unknown test-time augmentation {tta!r}: choose one of {', '.join(TTA_GROUPS)}")
    return TTA_GROUPS[tta]


def recorded_tta(info: ModelInfo) -> str:
    """The group a model's card chose on its validation images (``none`` when it has none).

    The card of a training run, or the one a microsr bioimage.io package carries, so that microsr
    predicts a run and its package alike.
    """
    record = (info.card.model_extra or {}).get("tta") if info.card is not None else info.raw.get("tta")
    chosen = (record or {}).get("chosen", "none") if isinstance(record, dict) else "none"
    return chosen if chosen in TTA_GROUPS else "none"


def resolve_tta(tta: bool | str, info: ModelInfo) -> str:
    """``tta`` as a group name: ``auto`` becomes the model card's recorded choice."""
    if tta == "auto":
        return recorded_tta(info)
    if isinstance(tta, bool):
        return "all" if tta else "none"
    tta_transforms(tta)  # checks the name
    return tta


def _mean(outputs: list[Tensor]) -> Tensor:
    total = outputs[0]
    for y in outputs[1:]:
        total = total + y
    return total / len(outputs)


class TransformAverage(nn.Module):
    """``model`` averaged over the dihedral transforms ``ks`` of its input (and of a condition map).

    Outputs are averaged in float32 (a half-precision model's too); ``memory_format`` is that of
    each transformed input (``torch.channels_last`` where the model runs faster so).
    """

    def __init__(
        self,
        model: nn.Module,
        ks: tuple[int, ...],
        memory_format: torch.memory_format = torch.contiguous_format,
    ) -> None:
        super().__init__()
        self.model, self.ks, self.memory_format = model, tuple(ks), memory_format

    def forward(self, x: Tensor, *cond: Tensor) -> Tensor | SROutput:
        outs: list[Any] = []
        for k in self.ks:
            xi = dihedral(x, k).contiguous(memory_format=self.memory_format)
            y = self.model(xi, *(dihedral(c, k) for c in cond))
            if isinstance(y, SROutput):
                aux = {n: inverse_dihedral(t.float(), k) for n, t in y.aux.items()}
                outs.append(SROutput(inverse_dihedral(y.final.float(), k), aux))
            else:
                outs.append(inverse_dihedral(y.float(), k))
        if isinstance(outs[0], SROutput):
            aux = {n: _mean([o.aux[n] for o in outs]) for n in outs[0].aux}
            return SROutput(_mean([o.final for o in outs]), aux)
        return _mean(outs)
