"""Arithmetic precision of inference: float32 (default) or opt-in bfloat16 autocast.

Measured on this project's reference CPU (AMD EPYC with AVX512-BF16; ``benchmarks/speed.py
--variant-models``): bfloat16 autocast ran EDSR-baseline 1.8-2.0x, RCAN 1.8x and DFCAN 1.3x faster
than float32, and moved outputs by 0.6-1.3 % of their range. That error is visible in quantitative
measurements, so float32 stays the default and bfloat16 is a flag for users who want speed.

On CPUs without native bfloat16 instructions oneDNN emulates it, which was 10-300x *slower*; we
refuse ``"bf16"`` there instead of silently running slower (``torch.ops.mkldnn._is_mkldnn_bf16_supported``
is PyTorch's own test for the fast path). Autocast itself is PyTorch's (``torch.autocast``): it runs
convolutions and matrix products in bfloat16 and keeps precision-sensitive operations in float32.
"""

from __future__ import annotations

import contextlib
from contextlib import AbstractContextManager as ContextManager

import torch

from microsr.errors import InputError

PRECISIONS = ("fp32", "bf16")
_DEVICES = "auto, cpu, cuda (or gpu) or cuda:N"


def resolve_device(device: str | torch.device | None) -> torch.device:
    """The torch device for a user's ``--device``: ``None``/``"auto"``, ``"cpu"``, ``"cuda"``
    (alias ``"gpu"``) or ``"cuda:N"``.

    Raises
    ------
    InputError
        An unknown name, or CUDA requested on a machine without a CUDA GPU (one line, instead of
        torch's traceback at the first tensor moved there).
    """
    name = str(device).strip().lower() if device is not None else "auto"
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "gpu" or name.startswith("gpu:"):
        name = "cuda" + name[3:]
    try:
        dev = torch.device(name)
    except RuntimeError:
        raise InputError(None, f"--device must be {_DEVICES}, not {str(device)!r}") from None
    if dev.type not in ("cpu", "cuda"):
        raise InputError(None, f"--device must be {_DEVICES}, not {str(device)!r}")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise InputError(None, f"--device {device}: no CUDA GPU is available here; use --device cpu")
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise InputError(None, f"--device {device}: this machine has {torch.cuda.device_count()} CUDA GPU(s)")
    return dev


def bf16_supported(device: torch.device) -> bool:
    """Whether ``device`` runs bfloat16 natively (CUDA: compute capability; CPU: AVX512-BF16/AMX)."""
    if device.type == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        try:
            return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
        except (AttributeError, RuntimeError):  # PyTorch built without oneDNN
            return False
    return False


def check_precision(precision: str, device: torch.device) -> None:
    """Raise ``ValueError`` with the reason if ``precision`` cannot be used on ``device``."""
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; choose one of {', '.join(PRECISIONS)}")
    if precision == "bf16" and not bf16_supported(device):
        raise ValueError(
            f"bf16 needs native bfloat16 support, which this {device.type.upper()} lacks "
            "(emulated bfloat16 is many times slower than fp32); use fp32"
        )


def autocast(precision: str, device: torch.device) -> ContextManager:
    """Context in which model calls run at ``precision`` (checked with :func:`check_precision`)."""
    check_precision(precision, device)
    if precision == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
