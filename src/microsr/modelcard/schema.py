"""The typed schema of ``model.json``: what a model folder says about its model.

``model.json`` is parsed with pydantic into a :class:`ModelCard`; every field has a type and the
bounds known so far (channels and scale positive and small, weight paths relative and inside the
folder). Further bounds go on the fields here, so that reading, writing and exporting share them.

Versions (``format_version``):

1. ``{"format": "microsr-model/1", ...}`` without ``format_version`` (folders written before the
   schema existed); read as version 1.
2. ``{"format": "microsr-model", "format_version": 2, ...}``: adds ``pixel_size`` (optional).

A newer ``format_version`` than this microsr knows is refused with one line, not guessed at.
"""

from __future__ import annotations

from pathlib import PurePosixPath, PureWindowsPath
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

FORMAT_NAME: Final = "microsr-model"
LEGACY_FORMAT = "microsr-model/1"
FORMAT_VERSION = 2
WEIGHT_KINDS: tuple[Literal["best"], Literal["last"]] = ("best", "last")


class ArchitectureCard(BaseModel):
    """Arguments that rebuild the network with :func:`microsr.models.create_model`."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    options: dict[str, Any] = Field(default_factory=dict)
    tiny: bool = False
    in_channels: int = Field(default=1, ge=1, le=64)
    out_channels: int = Field(default=1, ge=1, le=64)
    scale: int = Field(ge=1, le=16)


def _check_relative(path: str) -> str:
    """A weight path must be relative and stay inside the model folder."""
    for flavour in (PurePosixPath(path), PureWindowsPath(path)):
        if flavour.is_absolute() or flavour.drive or ".." in flavour.parts:
            raise ValueError(f"weight path {path!r} must be relative and inside the model folder")
    if not path.endswith(".safetensors"):
        raise ValueError(f"weight path {path!r} must name a .safetensors file")
    return path


class ModelCard(BaseModel):
    """``model.json`` as a typed object (see the module docstring for versions).

    Attributes
    ----------
    format, format_version
        ``"microsr-model"`` and :data:`FORMAT_VERSION` when written by this microsr.
    architecture : ArchitectureCard
    normalization : dict
        The training ``NormConfig`` as a dict (``{"kind": "none"}`` if there was none).
    pixel_size : float or None
        LR pixel size in micrometres of the training images, when their files recorded it.
    data, validation, versions, training : dict
        Training-data summary, validation metrics, library versions, training summary.
    weights : dict
        ``{"best": "weights/best.safetensors", "last": ...}``, relative to the folder.
    """

    model_config = ConfigDict(extra="allow")

    format: Literal["microsr-model", "microsr-model/1"] = FORMAT_NAME
    format_version: int = Field(default=FORMAT_VERSION, ge=1)
    architecture: ArchitectureCard
    normalization: dict[str, Any] = Field(default_factory=lambda: {"kind": "none"})
    pixel_size: float | None = Field(default=None, gt=0, le=1e4)
    data: dict[str, Any] = Field(default_factory=dict)
    validation: dict[str, Any] = Field(default_factory=dict)
    versions: dict[str, str] = Field(default_factory=dict)
    weights: dict[Literal["best", "last"], str] = Field(
        default_factory=lambda: {k: f"weights/{k}.safetensors" for k in WEIGHT_KINDS}
    )
    training: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _legacy(cls, doc: Any) -> Any:
        if isinstance(doc, dict) and doc.get("format") == LEGACY_FORMAT and "format_version" not in doc:
            doc = {**doc, "format_version": 1}
        return doc

    @field_validator("format_version")
    @classmethod
    def _known_version(cls, v: int) -> int:
        if v > FORMAT_VERSION:
            raise ValueError(
                f"format_version {v} was written by a newer microsr (this one reads up to {FORMAT_VERSION})"
            )
        return v

    @field_validator("weights")
    @classmethod
    def _relative_weights(cls, v: dict[str, str]) -> dict[str, str]:
        return {k: _check_relative(p) for k, p in v.items()}

    @field_validator("normalization")
    @classmethod
    def _norm_kind(cls, v: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(v.get("kind", "none"), str):
            raise ValueError("normalization.kind must be a string")
        return v

    def weight_path(self, kind: str) -> str:
        """Relative path of the ``best`` or ``last`` weights."""
        return self.weights.get(kind, f"weights/{kind}.safetensors")  # type: ignore[call-overload]


def first_error(exc: ValidationError) -> str:
    """One line for the first problem pydantic found, naming the field."""
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err.get("loc", ())) or "model.json"
    msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
    return f"{where}: {msg}"
