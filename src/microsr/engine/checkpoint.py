"""Resume state: weights, optimiser/scheduler state, counters and RNG states, without pickled objects.

``checkpoint/last.pt`` is written with ``torch.save`` of a dict holding only tensors and plain Python
types (numbers, strings, lists, tuples, dicts, ``None``) and read back with
``torch.load(..., weights_only=True)``, which refuses anything else; a checkpoint from a stranger
therefore cannot run code. Every write goes to a temporary file in the same folder and is moved
into place with ``os.replace``, so an interrupted save never leaves a half-written file.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from microsr.errors import InputError
from microsr.io._atomic import atomic_path

CHECKPOINT_FORMAT = "microsr-checkpoint/1"


def atomic_write(path: Path, write: Callable[[Any], None]) -> Path:
    """Call ``write(file_object)`` on a temporary file beside ``path``, then rename it to ``path``."""
    path = Path(path)
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:  # created with the umask's mode
        write(fh)
    return path


def rng_state() -> dict[str, Any]:
    """States of Python's, NumPy's and torch's (CPU and CUDA) global generators as plain types."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    py_version, py_state, py_gauss = random.getstate()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": {
            "kind": str(kind),
            "keys": torch.from_numpy(np.asarray(keys, dtype=np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached": float(cached),
        },
        "python": {"version": int(py_version), "state": list(py_state), "gauss": py_gauss},
    }


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore the generators saved by :func:`rng_state`."""
    torch.set_rng_state(state["torch"])
    if state.get("cuda") and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    npst = state["numpy"]
    np.random.set_state(
        (npst["kind"], npst["keys"].numpy().astype(np.uint32), npst["pos"], npst["has_gauss"], npst["cached"])
    )
    py = state["python"]
    random.setstate((py["version"], tuple(py["state"]), py["gauss"]))


def _cpu(obj: Any) -> Any:
    """Move every tensor of a nested structure to the CPU (checkpoints load on any machine)."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu()
    if isinstance(obj, dict):
        return {k: _cpu(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_cpu(v) for v in obj)
    return obj


def save_checkpoint(path: Path, state: dict[str, Any]) -> Path:
    """Write a resume state atomically.

    Parameters
    ----------
    path : Path
        Usually ``RUN/checkpoint/last.pt``.
    state : dict
        Keys used by the engine: ``step`` (next step to run), ``model``, ``optimizer``,
        ``scheduler``, ``discriminator``, ``d_optimizer`` (state dicts or ``None``), ``tracker``
        (best metric and early-stopping counters), ``rng`` (:func:`rng_state`), ``fingerprint``.
    """
    doc = {"format": CHECKPOINT_FORMAT, **_cpu(state)}
    return atomic_write(Path(path), lambda fh: torch.save(doc, fh))


def load_checkpoint(path: Path) -> dict[str, Any]:
    """Read a resume state with ``weights_only=True``.

    Raises
    ------
    InputError
        When the file is missing, unreadable, holds other objects than tensors and plain types, or
        is not a microsr checkpoint.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(
            path.parent.parent,
            "no checkpoint to resume from (checkpoint/last.pt is missing); start a new run without --resume",
        )
    try:
        doc = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # corrupt file or forbidden objects; the message names the cause
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(path, f"checkpoint is unreadable or unsafe ({first})") from None
    if not isinstance(doc, dict) or doc.get("format") != CHECKPOINT_FORMAT:
        raise InputError(path, "not a microsr checkpoint")
    return doc
