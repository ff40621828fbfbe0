"""Model folders as untrusted input: bounded options, memory and tensor shapes checked first.

A ``model.json`` from elsewhere decides what :func:`~microsr.models.create_model` allocates, so
before the network is built for real:

* every architecture option must be a plain value in a small range (:func:`check_options`: numbers
  finite and at most :data:`MAX_OPTION_INT` in size, short strings, short lists of those);
* the network is first built on PyTorch's ``meta`` device, which records every parameter's shape
  without allocating memory; the memory the real model needs is estimated from it and refused in
  one line when it exceeds what is available (:func:`microsr.io.guard.check_memory`);
* the tensor names and shapes in the safetensors header (read without loading any tensor) must
  equal those of the meta model, so a mismatched or hostile weight file is refused before any
  weight is read (:func:`check_weight_header`).

The weight file must also lie inside the model folder after symbolic links are resolved
(:func:`check_inside`); the schema already refuses absolute paths and ``..``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch
from torch import nn

from microsr.errors import InputError
from microsr.io.guard import check_memory

MAX_OPTION_INT = 1024  # widths, depths, kernel sizes: 4x the largest built-in (EDSR, 256 features)
MAX_OPTION_FLOAT = 1e6
MAX_OPTION_STR = 100
MAX_OPTION_LIST = 16
MAX_MODEL_JSON_BYTES = 1 << 20  # a real model.json is a few kB
BYTES_PER_PARAMETER = 3 * 4  # float32 model, the loaded state dict and a device copy


def _check_scalar(key: str, value: Any, where: Path) -> None:
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, int):
        if abs(value) > MAX_OPTION_INT:
            raise InputError(
                where, f"architecture option {key!r} = {value} is out of range (|value| <= {MAX_OPTION_INT})"
            )
        return
    if isinstance(value, float):
        if not math.isfinite(value) or abs(value) > MAX_OPTION_FLOAT:
            raise InputError(
                where,
                f"architecture option {key!r} = {value} is not a finite number below {MAX_OPTION_FLOAT:g}",
            )
        return
    if isinstance(value, str):
        if len(value) > MAX_OPTION_STR:
            raise InputError(
                where,
                f"architecture option {key!r} is a string of {len(value)} characters (at most {MAX_OPTION_STR})",
            )
        return
    raise InputError(
        where, f"architecture option {key!r} must be a number, string or list, not {type(value).__name__}"
    )


def check_options(options: dict[str, Any], where: Path) -> None:
    """Refuse architecture options that are not plain, small values (see module docstring)."""
    for key, value in options.items():
        if isinstance(value, (list, tuple)):
            if len(value) > MAX_OPTION_LIST:
                raise InputError(
                    where,
                    f"architecture option {key!r} is a list of {len(value)} items (at most {MAX_OPTION_LIST})",
                )
            for item in value:
                _check_scalar(key, item, where)
        else:
            _check_scalar(key, value, where)


def shapes(module: nn.Module) -> dict[str, tuple[int, ...]]:
    """Name -> shape of every tensor in ``module.state_dict()``."""
    return {k: tuple(v.shape) for k, v in module.state_dict().items()}


def estimate(meta_model: nn.Module, name: str, where: Path) -> None:
    """Refuse a model whose parameters and buffers would not fit in the available memory."""
    n = sum(v.numel() for v in meta_model.state_dict().values())
    check_memory(n * BYTES_PER_PARAMETER, f"the {name} model in {where} ({n:,} parameters)")


def check_weight_header(path: Path, expected: dict[str, tuple[int, ...]], name: str) -> None:
    """Compare the tensors a safetensors file declares with the model's, reading only the header."""
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="pt") as f:
            declared = {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}
    except (SafetensorError, OSError, ValueError) as exc:
        raise InputError(path, f"weights file is corrupt or not safetensors ({exc})") from None
    missing = sorted(expected.keys() - declared.keys())
    unexpected = sorted(declared.keys() - expected.keys())
    wrong = sorted(k for k in expected.keys() & declared.keys() if expected[k] != declared[k])
    if missing or unexpected or wrong:
        if wrong:
            k = wrong[0]
            detail = f"{k} is {list(declared[k])} in the file but {list(expected[k])} in the model"
        elif missing:
            detail = f"{len(missing)} tensor(s) missing, e.g. {missing[0]}"
        else:
            detail = f"{len(unexpected)} unexpected tensor(s), e.g. {unexpected[0]}"
        raise InputError(path, f"weights do not match the {name} architecture in model.json ({detail})")


def check_inside(path: Path, root: Path) -> None:
    """Refuse a weight file that resolves (through symbolic links) to outside the model folder."""
    try:
        inside = path.resolve().is_relative_to(root.resolve())
    except (OSError, RuntimeError):
        inside = False
    if not inside:
        raise InputError(path, f"weight file lies outside the model folder {root}; copy it into the folder")


def meta_build(build: Any) -> nn.Module:
    """Run ``build()`` with tensors created on the meta device (no memory for parameters)."""
    with torch.device("meta"):
        return build()
