"""Model folders: ``model.json`` + ``weights/*.safetensors``, saved and loaded without pickle.

Layout (see ``docs/dev/interfaces.md``)::

    FOLDER/model.json                 {"format": "microsr-model/1", "architecture": {...}, ...}
    FOLDER/weights/best.safetensors   weights with the best validation score
    FOLDER/weights/last.safetensors   weights at the end of training

A training run folder is a model folder. Loading rebuilds the architecture from the registry with
the stored options and loads the tensors with :func:`safetensors.torch.load_file`; nothing is ever
unpickled, so a model folder from a stranger cannot run code.
"""

from __future__ import annotations

import inspect
import json
import logging
import os
import platform
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch
from torch import nn

from microsr.errors import InputError

log = logging.getLogger("microsr.inference")

MODEL_FORMAT = "microsr-model/1"
WEIGHT_KINDS = ("best", "last")


@dataclass
class ModelInfo:
    """What a model folder says about its model.

    Attributes
    ----------
    folder : Path
        The model folder.
    name : str
        Registry name of the architecture, e.g. ``"dfcan"``.
    options : dict
        Architecture options passed to ``create_model``.
    tiny : bool
        Whether the architecture's small preset was used.
    in_channels, out_channels, scale : int
        Channels in/out and the up-sampling factor.
    normalization : dict
        The stored ``NormConfig`` as a plain dict (``kind``, ``low``, ``high``, ...).
    weights : Path
        The safetensors file that was loaded.
    needs_mask : bool
        True when the model needs a parsing mask *at prediction*: its spec says it uses masks and
        its ``forward`` takes a second input (``geometry-prior``, ``sftgan``; not
        ``geometry-prior-full``, which predicts its own map and needs masks only for training).
    raw : dict
        The whole ``model.json``.
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


def takes_mask(model: nn.Module) -> bool:
    """True when ``model.forward`` accepts a second input (the parsing mask)."""
    params = [
        p
        for p in inspect.signature(model.forward).parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    return len(params) >= 2


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_weights(model: nn.Module, path: str | os.PathLike[str]) -> Path:
    """Write the model's ``state_dict`` as safetensors, atomically. Returns the path."""
    from safetensors.torch import save

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    _atomic_write_bytes(path, save(state))
    return path


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
) -> Path:
    """Write (or update) a model folder: ``model.json`` and the weights named in ``which``.

    Parameters
    ----------
    folder : path
        Destination; created if needed.
    model : nn.Module
        The generator whose ``state_dict`` is saved.
    name, scale, in_channels, out_channels, options, tiny
        Arguments that rebuild it with ``create_model(name, in_channels, out_channels, scale,
        tiny=tiny, **options)``.
    normalization : dict or None
        The ``NormConfig`` used in training as a dict (``None`` means ``{"kind": "none"}``).
    data, validation : dict or None
        Data summary and validation metrics to record.
    which : "best", "last" or a tuple of them
        Which weight files to write now (``last`` at the end of training, ``best`` on improvement).
    extra : dict or None
        Further top-level keys for ``model.json``.

    Returns
    -------
    Path
        The folder.
    """
    import microsr

    folder = Path(folder)
    (folder / "weights").mkdir(parents=True, exist_ok=True)
    kinds = (which,) if isinstance(which, str) else tuple(which)
    for kind in kinds:
        if kind not in WEIGHT_KINDS:
            raise ValueError(f"which must be 'best' or 'last', got {kind!r}")
        save_weights(model, folder / "weights" / f"{kind}.safetensors")
    doc = {
        "format": MODEL_FORMAT,
        "architecture": {
            "name": name,
            "options": dict(options or {}),
            "tiny": bool(tiny),
            "in_channels": int(in_channels),
            "out_channels": int(out_channels),
            "scale": int(scale),
        },
        "normalization": dict(normalization or {"kind": "none"}),
        "data": dict(data or {}),
        "validation": dict(validation or {}),
        "versions": {
            "microsr": microsr.__version__,
            "torch": torch.__version__.split("+")[0],
            "python": platform.python_version(),
        },
        "weights": {k: f"weights/{k}.safetensors" for k in WEIGHT_KINDS},
        **(extra or {}),
    }
    _atomic_write_bytes(folder / "model.json", (json.dumps(doc, indent=2) + "\n").encode())
    return folder


def read_model_json(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """Parse and check ``FOLDER/model.json`` (``folder`` may also be the json file itself)."""
    folder = Path(folder)
    path = folder if folder.suffix == ".json" else folder / "model.json"
    if not folder.exists():
        raise InputError(folder, "model folder not found")
    if not path.is_file():
        raise InputError(folder, "not a model folder: no model.json (give a training run folder)")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(path, f"model.json is not readable JSON ({exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != MODEL_FORMAT:
        fmt = doc.get("format") if isinstance(doc, dict) else None
        raise InputError(path, f"unknown model format {fmt!r}; this microsr reads {MODEL_FORMAT!r}")
    arch = doc.get("architecture")
    if not isinstance(arch, dict) or not isinstance(arch.get("name"), str):
        raise InputError(path, "model.json has no architecture name")
    try:
        int(arch.get("scale", 0))
    except (TypeError, ValueError):
        raise InputError(path, f"model.json has an invalid scale {arch.get('scale')!r}") from None
    if int(arch.get("scale", 0)) < 1:
        raise InputError(path, "model.json has no valid scale")
    return doc


def load_model_folder(
    folder: str | os.PathLike[str],
    *,
    weights: Literal["best", "last"] = "best",
    device: str | torch.device | None = None,
) -> tuple[nn.Module, ModelInfo]:
    """Rebuild a model from its folder and load its weights.

    Parameters
    ----------
    folder : path
        A model / training run folder (or its ``model.json``).
    weights : {"best", "last"}
        Which weights to load; if the requested file is missing the other one is used (with a
        warning), e.g. a run stopped before its first validation has only ``last``.
    device : str, torch.device or None
        Where to put the model (``None``: CUDA when available, else CPU).

    Returns
    -------
    (nn.Module, ModelInfo)
        The model in eval mode on ``device`` and what its folder says about it.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    from microsr.models import create_model, get_spec

    if weights not in WEIGHT_KINDS:
        raise InputError(None, f"--weights must be 'best' or 'last', not {weights!r}")
    doc = read_model_json(folder)
    root = Path(folder)
    root = root.parent if root.suffix == ".json" else root
    arch = doc["architecture"]
    names = dict(doc.get("weights") or {})
    candidates = [weights] + [k for k in WEIGHT_KINDS if k != weights]
    paths = [root / names.get(k, f"weights/{k}.safetensors") for k in candidates]
    found = next((p for p in paths if p.is_file()), None)
    if found is None:
        raise InputError(root, f"no weights: neither {paths[0]} nor {paths[1]} exists")
    if found != paths[0]:
        log.warning("%s not found; using %s", paths[0].name, found.name)
    try:
        spec = get_spec(arch["name"])
    except KeyError as exc:
        raise InputError(root / "model.json", str(exc.args[0])) from None
    options = dict(arch.get("options") or {})
    try:
        model = create_model(
            arch["name"],
            int(arch.get("in_channels", 1)),
            int(arch.get("out_channels", 1)),
            int(arch["scale"]),
            tiny=bool(arch.get("tiny", False)),
            **options,
        )
    except TypeError as exc:
        raise InputError(
            root / "model.json", f"architecture options do not fit {arch['name']}: {exc}"
        ) from None
    try:
        state = load_file(str(found))
    except (SafetensorError, OSError, ValueError) as exc:
        raise InputError(found, f"weights file is corrupt or not safetensors ({exc})") from None
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0]
        raise InputError(
            found, f"weights do not match the {arch['name']} architecture in model.json ({first})"
        ) from None
    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    model.to(device).eval()
    info = ModelInfo(
        folder=root,
        name=arch["name"],
        options=options,
        tiny=bool(arch.get("tiny", False)),
        in_channels=int(arch.get("in_channels", 1)),
        out_channels=int(arch.get("out_channels", 1)),
        scale=int(arch["scale"]),
        normalization=dict(doc.get("normalization") or {"kind": "none"}),
        weights=found,
        needs_mask=bool(spec.needs_mask) and takes_mask(model),
        raw=doc,
    )
    return model, info
