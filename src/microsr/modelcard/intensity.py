"""Which intensity normalisation a prediction applies: each image's own, or the training data's.

``image`` (the default, CSBDeep's convention) normalises every input with the model's
``NormConfig`` computed on that input (e.g. its 2nd and 99.8th percentiles): robust to a change of
exposure or detector gain between acquisitions. ``training`` applies the training LR images' own
mapping in raw units, recorded at training as ``data.lr_intensity`` in ``model.json``, as a
``fixed`` normalisation: the same intensity means the same input to the network as in training.
That is right for images of the same acquisition or of the same microscope settings, where
percentiles computed on a field with other content (more background, fewer cells) would shift the
input the network sees (measured in docs/real-data.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from microsr.data.normalize import NormConfig
from microsr.errors import InputError
from microsr.io.image import one_line
from microsr.modelcard.schema import ModelCard

NORMALIZATIONS = ("image", "training")


def prediction_normalization(card: ModelCard, mode: str, where: Path) -> dict[str, Any]:
    """The ``NormConfig`` (as a dict) that prediction applies in ``mode`` (see the module docstring)."""
    if mode == "image":
        return dict(card.normalization)
    if mode != "training":
        raise InputError(None, f"--normalization must be one of {', '.join(NORMALIZATIONS)}, not {mode!r}")
    rec = card.data.get("lr_intensity")
    try:
        vmin, vmax = float(rec["vmin"]), float(rec["vmax"])  # type: ignore[index]
    except (TypeError, KeyError, ValueError):
        raise InputError(
            where,
            "the model does not record its training intensities (data.lr_intensity: trained by an "
            "earlier microsr); use --normalization image",
        ) from None
    try:
        return NormConfig(kind="fixed", vmin=vmin, vmax=vmax).model_dump()
    except ValueError as exc:
        raise InputError(where, f"data.lr_intensity is not a usable range ({one_line(exc)})") from None
