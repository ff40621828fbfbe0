"""Inference backends: exact float32 PyTorch (``"torch"``, the default) or ONNX Runtime (``"onnx"``).

``"onnx"`` exports the loaded network once to ONNX (:func:`microsr.export.weights.save_onnx`: the
dynamo exporter, opset 18, resizable batch, height and width) and runs it with ONNX Runtime's CPU
provider behind the ``nn.Module`` call that tiled prediction makes
(:class:`microsr.export.importer.OnnxModule`), with as many threads as PyTorch uses. The exported
file is cached on disk under a key of everything that defines the network (architecture name,
options, scale, channels, a SHA-256 of the weights) and of the torch and exporter versions, so a
second prediction with the same model loads the file instead of exporting again (exporting takes
seconds to a minute per model; loading a cached file, a fraction of a second). The cache folder is
``$MICROSR_CACHE_DIR/onnx``, else ``$XDG_CACHE_HOME/microsr/onnx``, else ``~/.cache/microsr/onnx``.

ONNX Runtime computes in float32 too, but with its own kernels, so outputs differ from PyTorch's by
float32 rounding (about 1e-6 of the output range; the tests bound it). Whether it is faster depends
on the model: the speed table in ``docs/benchmarks.md`` compares both per registered model.
The backend is for single-input models on the CPU: models that take a parsing map at prediction,
bfloat16 autocast and CUDA devices are refused with a one-line error.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from microsr.errors import InputError
from microsr.modelcard import ModelInfo
from microsr.models import final_output

log = logging.getLogger("microsr.inference")

BACKENDS = ("torch", "onnx")
_EXAMPLE = 64  # LR edge of the example input the exporter traces (sizes stay resizable)


class FinalImage(nn.Module):
    """The network with one tensor out (the ``final`` image of multi-output models)."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return final_output(self.net(x))


def cache_dir() -> Path:
    """Folder of the cached ONNX files (see the module docstring)."""
    if os.environ.get("MICROSR_CACHE_DIR"):
        return Path(os.environ["MICROSR_CACHE_DIR"]) / "onnx"
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "microsr" / "onnx"


def cache_key(model: nn.Module, info: ModelInfo) -> str:
    """SHA-256 of the architecture, its options, the weights and the exporter's versions."""
    import onnxscript

    from microsr.export.weights import ONNX_OPSET

    h = hashlib.sha256()
    spec = [info.name, info.options, info.tiny, info.scale, info.in_channels, info.out_channels]
    versions = [torch.__version__, onnxscript.__version__, ONNX_OPSET]
    h.update(json.dumps([spec, versions], sort_keys=True, default=str).encode())
    for name, t in sorted(model.state_dict().items()):
        h.update(name.encode())
        h.update(t.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def onnx_path(model: nn.Module, info: ModelInfo) -> Path:
    """Where the ONNX file of this model is (or will be) cached."""
    return cache_dir() / f"{info.name}-{cache_key(model, info)[:32]}.onnx"


def check_backend(backend: str, info: ModelInfo, device: torch.device, precision: str) -> None:
    """Raise :class:`InputError` (one line) when ``backend`` cannot run this model here."""
    if backend not in BACKENDS:
        raise InputError(None, f"--backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
    if backend == "torch":
        return
    if info.needs_mask:
        raise InputError(info.folder, f"--backend onnx: model {info.name!r} takes a parsing map; use torch")
    if precision != "fp32":
        raise InputError(None, f"--backend onnx computes in float32; leave out --precision {precision}")
    if device.type != "cpu":
        raise InputError(None, f"--backend onnx runs on the CPU; use --device cpu, not {device}")
    missing = [m for m in ("onnxruntime", "onnxscript") if importlib.util.find_spec(m) is None]
    if missing:
        raise InputError(None, f"--backend onnx needs {', '.join(missing)}: pip install 'microsr[export]'")


def with_backend(
    model: nn.Module,
    info: ModelInfo,
    backend: str = "torch",
    *,
    precision: str = "fp32",
    announce: Callable[[str], None] | None = None,
) -> nn.Module:
    """``model`` itself for ``"torch"``; for ``"onnx"`` a module that runs its cached ONNX export.

    ``model`` is the loaded network (eval mode); checks as :func:`check_backend`. ``announce``
    receives a one-line note before an export (the slow first run); default: the log.
    """
    from microsr.inference.tiling import model_device

    check_backend(backend, info, model_device(model), precision)
    if backend == "torch":
        return model
    from microsr.export.importer import OnnxModule
    from microsr.export.weights import save_onnx

    path = onnx_path(model, info)
    if not path.is_file():
        (announce or log.info)(f"exporting {info.name} to ONNX once (cached as {path})")
        path.parent.mkdir(parents=True, exist_ok=True)
        example = torch.rand(1, info.in_channels, _EXAMPLE, _EXAMPLE)
        save_onnx(FinalImage(model).eval(), example, path, "input", "output")
    return OnnxModule(path.read_bytes(), threads=torch.get_num_threads()).eval()
