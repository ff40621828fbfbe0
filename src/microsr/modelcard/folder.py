"""Model folders: ``model.json`` + ``weights/*.safetensors``, saved and loaded without pickle.

Layout (see ``docs/dev/interfaces.md``)::

    FOLDER/model.json                 the ModelCard (microsr.modelcard.schema)
    FOLDER/weights/best.safetensors   weights with the best validation score
    FOLDER/weights/last.safetensors   weights at the end of training

A training run folder is a model folder. Loading rebuilds the architecture from the registry with
the stored options and loads the tensors with :func:`safetensors.torch.load_file`; nothing is ever
unpickled, so a model folder from a stranger cannot run code. Every file is written atomically
(:func:`microsr.io._atomic.atomic_path`).
"""

from __future__ import annotations

import json
import logging
import os
import platform
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch
from pydantic import ValidationError
from torch import nn

from microsr.errors import InputError
from microsr.io._atomic import atomic_path
from microsr.io.image import one_line
from microsr.modelcard.guard import (
    MAX_MODEL_JSON_BYTES,
    check_inside,
    check_options,
    check_weight_header,
    estimate,
    meta_build,
    shapes,
)
from microsr.modelcard.intensity import prediction_normalization
from microsr.modelcard.schema import (
    FORMAT_NAME,
    FORMAT_VERSION,
    LEGACY_FORMAT,
    WEIGHT_KINDS,
    ArchitectureCard,
    ModelCard,
    first_error,
)

log = logging.getLogger("microsr.inference")


@dataclass
class ModelInfo:
    """What a model folder says about its model (the card's fields, flattened for callers).

    ``needs_mask`` is True when the model needs a parsing mask *at prediction*: its
    ``ModelSpec.mask_input`` (``geometry-prior``, ``sftgan``; not ``geometry-prior-full``, which
    predicts its own map and needs masks only for training). ``weights`` is the file loaded.
    """

    folder: Path
    name: str
    options: dict[str, Any]
    tiny: bool
    in_channels: int
    out_channels: int
    scale: int
    normalization: dict[str, Any]
    weights: Path
    needs_mask: bool = False
    raw: dict[str, Any] = field(default_factory=dict)
    card: ModelCard | None = None


def write_bytes_atomic(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return path


def save_weights(model: nn.Module, path: str | os.PathLike[str]) -> Path:
    """Write the model's ``state_dict`` as safetensors, atomically. Returns the path."""
    from safetensors.torch import save

    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    return write_bytes_atomic(Path(path), save(state))


def write_card(folder: str | os.PathLike[str], card: ModelCard) -> Path:
    """Write ``FOLDER/model.json`` from ``card`` atomically; returns its path."""
    text = json.dumps(card.model_dump(mode="json"), indent=2) + "\n"
    return write_bytes_atomic(Path(folder) / "model.json", text.encode())


def save_model_folder(
    folder: str | os.PathLike[str],
    model: nn.Module,
    *,
    name: str,
    scale: int,
    in_channels: int = 1,
    out_channels: int = 1,
    options: dict[str, Any] | None = None,
    tiny: bool = False,
    normalization: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
    validation: dict[str, Any] | None = None,
    which: Literal["best", "last"] | tuple[str, ...] = ("best", "last"),
    extra: dict[str, Any] | None = None,
    pixel_size: float | None = None,
) -> Path:
    """Write (or update) a model folder: ``model.json`` and the weights named in ``which``.

    ``name, scale, in_channels, out_channels, options, tiny`` rebuild the model with
    ``create_model``; ``normalization`` is the training ``NormConfig`` as a dict; ``data`` and
    ``validation`` are recorded as given; ``which`` says which weight files to write now (``last``
    at the end of training, ``best`` on improvement); ``extra`` adds fields (e.g. ``training``).
    Returns the folder.
    """
    import microsr

    folder = Path(folder)
    kinds = (which,) if isinstance(which, str) else tuple(which)
    for kind in kinds:
        if kind not in WEIGHT_KINDS:
            raise ValueError(f"which must be 'best' or 'last', got {kind!r}")
        save_weights(model, folder / "weights" / f"{kind}.safetensors")
    card = ModelCard(
        format=FORMAT_NAME,
        format_version=FORMAT_VERSION,
        architecture=ArchitectureCard(
            name=name,
            options=dict(options or {}),
            tiny=bool(tiny),
            in_channels=int(in_channels),
            out_channels=int(out_channels),
            scale=int(scale),
        ),
        normalization=dict(normalization or {"kind": "none"}),
        pixel_size=pixel_size,
        data=dict(data or {}),
        validation=dict(validation or {}),
        versions={
            "microsr": microsr.__version__,
            "torch": torch.__version__.split("+")[0],
            "python": platform.python_version(),
        },
        **(extra or {}),
    )
    folder.mkdir(parents=True, exist_ok=True)
    write_card(folder, card)
    return folder


def _json_path(folder: Path) -> Path:
    return folder if folder.suffix == ".json" else folder / "model.json"


def read_model_card(folder: str | os.PathLike[str]) -> ModelCard:
    """Parse and check ``FOLDER/model.json`` (``folder`` may also be the json file itself)."""
    folder = Path(folder)
    path = _json_path(folder)
    if not folder.exists():
        raise InputError(folder, "model folder not found")
    if not path.is_file():
        raise InputError(folder, "not a model folder: no model.json (give a training run folder)")
    if path.stat().st_size > MAX_MODEL_JSON_BYTES:
        raise InputError(path, f"model.json is {path.stat().st_size:,} bytes; a model card is a few kB")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(path, f"model.json is not readable JSON ({exc})") from None
    except RecursionError:
        raise InputError(path, "model.json is not readable JSON (nested too deeply)") from None
    fmt = doc.get("format") if isinstance(doc, dict) else None
    if fmt not in (FORMAT_NAME, LEGACY_FORMAT):
        raise InputError(path, f"unknown model format {fmt!r}; this microsr reads {FORMAT_NAME!r}")
    try:
        return ModelCard.model_validate(doc)
    except ValidationError as exc:
        raise InputError(path, f"invalid model.json: {first_error(exc)}") from None


def read_model_json(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """The checked ``model.json`` as a plain dict (see :func:`read_model_card`)."""
    return read_model_card(folder).model_dump(mode="json")


def _find_weights(root: Path, card: ModelCard, weights: str) -> Path:
    candidates = [weights] + [k for k in WEIGHT_KINDS if k != weights]
    paths = [root / card.weight_path(k) for k in candidates]
    found = next((p for p in paths if p.is_file()), None)
    if found is None:
        raise InputError(root, f"no weights: neither {paths[0]} nor {paths[1]} exists")
    if found != paths[0]:
        log.warning("%s not found; using %s", paths[0].name, found.name)
    return found


def build_from_card(card: ModelCard, where: Path, weights: Path | None = None) -> nn.Module:
    """The untrained network the card describes (``where`` names the file in errors).

    It is first built on the meta device (:mod:`microsr.modelcard.guard`): options out of range,
    a model too large for the available memory or (given ``weights``) a weight file whose header
    declares other tensors are refused before anything is allocated.
    """
    from microsr.models import create_model, get_spec

    arch = card.architecture
    try:
        get_spec(arch.name)
    except KeyError as exc:
        raise InputError(where, str(exc.args[0])) from None
    check_options(arch.options, where)

    def build() -> nn.Module:
        return create_model(
            arch.name, arch.in_channels, arch.out_channels, arch.scale, tiny=arch.tiny, **arch.options
        )

    try:
        meta = meta_build(build)
    except (TypeError, ValueError, RuntimeError, AssertionError, ZeroDivisionError) as exc:
        raise InputError(where, f"architecture options do not fit {arch.name}: {one_line(exc)}") from None
    estimate(meta, arch.name, where)
    if weights is not None:
        check_weight_header(weights, shapes(meta), arch.name)
    return build()


def load_model_folder(
    folder: str | os.PathLike[str],
    *,
    weights: Literal["best", "last"] = "best",
    device: str | torch.device | None = None,
    normalization: str = "image",
) -> tuple[nn.Module, ModelInfo]:
    """Rebuild a model from its folder (or ``model.json``) and load its weights.

    ``weights`` picks ``best`` or ``last``; if that file is missing the other one is used (with a
    warning), e.g. a run stopped before its first validation has only ``last``. ``device``:
    ``None`` means CUDA when available, else CPU. ``normalization`` (``image`` or ``training``, see
    :mod:`microsr.modelcard.intensity`) sets ``info.normalization``. Returns the model in eval mode
    and its info.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    from microsr.models import get_spec

    if weights not in WEIGHT_KINDS:
        raise InputError(None, f"--weights must be 'best' or 'last', not {weights!r}")
    card = read_model_card(folder)
    root = Path(folder)
    root = root.parent if root.suffix == ".json" else root
    norm = prediction_normalization(card, normalization, root / "model.json")
    found = _find_weights(root, card, weights)
    arch = card.architecture
    check_inside(found, root)
    model = build_from_card(card, root / "model.json", found)
    try:
        state = load_file(str(found))
    except (SafetensorError, OSError, ValueError) as exc:
        raise InputError(found, f"weights file is corrupt or not safetensors ({exc})") from None
    broken = [k for k, v in state.items() if v.is_floating_point() and not bool(torch.isfinite(v).all())]
    if broken:
        raise InputError(
            found,
            f"the model's weights hold NaN or infinite values ({len(broken)} of {len(state)} tensors, "
            f"e.g. {broken[0]}): its training diverged; retrain it or try the other --weights",
        )
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0]
        raise InputError(
            found, f"weights do not match the {arch.name} architecture in model.json ({first})"
        ) from None
    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    model.to(device).eval()
    info = ModelInfo(
        folder=root,
        name=arch.name,
        options=dict(arch.options),
        tiny=arch.tiny,
        in_channels=arch.in_channels,
        out_channels=arch.out_channels,
        scale=arch.scale,
        normalization=norm,
        weights=found,
        needs_mask=get_spec(arch.name).mask_input,
        raw=card.model_dump(mode="json"),
        card=card,
    )
    return model, info
