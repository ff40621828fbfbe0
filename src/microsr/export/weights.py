"""Weight files of a bioimage.io package: state dict, TorchScript, ONNX; each checked on the test image.

* ``pytorch_state_dict``: ``torch.save`` of a plain ``dict[str, Tensor]``, which consumers load with
  ``torch.load(..., weights_only=True)`` (the bioimage.io PyTorch backend does).
* ``torchscript``: ``torch.jit.trace`` of the network (works for every single-input architecture;
  ``torch.jit.script`` does not).
* ``onnx``: the dynamo exporter at opset 18 with resizable height and width.

Every file is written to a temporary name and renamed; every format is run on the test input and
must reproduce the reference prediction within ``tolerance`` of the output range.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from microsr.io._atomic import atomic_path

FORMATS = ("pytorch_state_dict", "torchscript", "onnx")
FILE_NAMES = {
    "pytorch_state_dict": "weights.pt",
    "torchscript": "weights_torchscript.pt",
    "onnx": "weights.onnx",
}
ONNX_OPSET = 18


def save_state_dict(model: nn.Module, path: Path) -> Path:
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    with atomic_path(path) as tmp:
        torch.save(state, tmp)
    return path


def save_torchscript(model: nn.Module, example: torch.Tensor, path: Path) -> Path:
    with warnings.catch_warnings():  # trace is deprecated in favour of torch.export in torch 2.13
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(model, example, check_trace=False)
    with atomic_path(path) as tmp:
        traced.save(str(tmp))
    return path


def save_onnx(model: nn.Module, example: torch.Tensor, path: Path, input_name: str, output_name: str) -> Path:
    dim = torch.export.Dim
    sizes = {
        0: dim("batch", min=1, max=1024),
        2: dim("height", min=8, max=8192),
        3: dim("width", min=8, max=8192),
    }
    pair = example.expand(2, *example.shape[1:])  # a batch of one would fix the batch size at 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(
            model,
            (pair,),
            dynamo=True,
            opset_version=ONNX_OPSET,
            dynamic_shapes={"x": sizes},
            input_names=[input_name],
            output_names=[output_name],
            verbose=False,
        )
    if program is None:
        raise RuntimeError("torch.onnx.export returned no program")
    with atomic_path(path) as tmp:
        program.save(str(tmp))
    return path


def run_format(fmt: str, path: Path, x: np.ndarray, model: nn.Module | None = None) -> np.ndarray:
    """Predict ``x`` (B, C, H, W float32) with a saved weight file of format ``fmt``."""
    t = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    if fmt == "onnx":
        import onnxruntime as ort

        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        return session.run(None, {session.get_inputs()[0].name: t.numpy()})[0]
    with torch.no_grad():
        if fmt == "torchscript":
            return torch.jit.load(str(path), map_location="cpu")(t).numpy()
        if model is None:
            raise ValueError("a state dict needs its architecture to run")
        model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
        return model(t).numpy()


def max_error(result: np.ndarray, reference: np.ndarray) -> float:
    """Largest absolute difference divided by the reference's range (its max - min, at least 1e-12)."""
    span = max(float(reference.max() - reference.min()), 1e-12)
    return float(np.abs(result.astype(np.float64) - reference).max() / span)


def write_weights(
    model: nn.Module, example: np.ndarray, folder: Path, formats: tuple[str, ...], names: tuple[str, str]
) -> dict[str, Path]:
    """Write the weight files of ``formats`` into ``folder``; returns format -> path.

    ``model`` is the standalone network (state-dict keys as the package's architecture expects),
    in eval mode on the CPU; ``example`` is the normalised test input; ``names`` are the input and
    output tensor ids used for ONNX.
    """
    t = torch.from_numpy(example)
    out: dict[str, Path] = {}
    for fmt in formats:
        path = folder / FILE_NAMES[fmt]
        if fmt == "pytorch_state_dict":
            out[fmt] = save_state_dict(model, path)
        elif fmt == "torchscript":
            out[fmt] = save_torchscript(model, t, path)
        else:
            out[fmt] = save_onnx(model, t, path, *names)
    return out
