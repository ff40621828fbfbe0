"""Run bioimage.io model packages with microsr: ``microsr predict --model PACKAGE.zip|FOLDER``.

The package is validated by ``bioimageio.spec`` (0.4 descriptions are upgraded to 0.5), then
mapped onto what microsr's prediction needs: a 2-D model with axes batch / channel / y / x, an
output whose y and x are an integer multiple of the input's, and pre-processing that microsr's
normalisation can express. Weights, in order of preference:

* ``pytorch_state_dict`` of a microsr-made package: the network is rebuilt from microsr's own
  registry with the model card in ``config.microsr`` (the package's Python code is not run); the
  file is read with ``torch.load(weights_only=True)``;
* ``torchscript`` (``torch.jit.load``: no Python code, no pickle of arbitrary objects);
* ``onnx`` through onnxruntime.

A state dict whose architecture is Python code shipped by a stranger is refused: running it would
run their code.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from microsr.errors import InputError
from microsr.modelcard import ModelCard, ModelInfo, build_from_card

PREFERENCE = ("pytorch_state_dict", "torchscript", "onnx")


def is_package(path: str | os.PathLike[str]) -> bool:
    """True for a ``.zip`` file or a folder holding ``rdf.yaml`` / ``bioimageio.yaml``."""
    p = Path(path)
    return p.suffix.lower() == ".zip" or (p.is_dir() and _rdf_name(p) is not None)


def _rdf_name(folder: Path) -> str | None:
    return next((n for n in ("rdf.yaml", "bioimageio.yaml") if (folder / n).is_file()), None)


class OnnxModule(nn.Module):
    """An onnxruntime session behind the ``nn.Module`` call microsr's tiling uses (CPU); ``threads``
    limits ONNX Runtime's intra-op threads (default: its own choice, all cores)."""

    def __init__(self, data: bytes, threads: int | None = None):
        import onnxruntime as ort

        super().__init__()
        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = threads
        self.session = ort.InferenceSession(data, opts, providers=["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        arr = x.detach().float().cpu().numpy()
        out = self.session.run(None, {self.input_name: np.ascontiguousarray(arr)})[0]
        return torch.from_numpy(out).to(x.device)


def _read(root: Path, name: str) -> bytes:
    """Bytes of a file of the package (a zip member or a file in the folder)."""
    if "://" in name:
        raise InputError(root, f"package file {name} is a URL; microsr reads only local packages")
    try:
        if root.is_dir():
            target = (root / name).resolve()
            if root.resolve() not in target.parents:
                raise InputError(root, f"package file {name} is outside the package")
            return target.read_bytes()
        with zipfile.ZipFile(root) as zf:
            return zf.read(name)
    except (OSError, KeyError, zipfile.BadZipFile) as exc:
        raise InputError(root, f"cannot read {name} from the package ({exc})") from None


def _describe(path: Path) -> dict[str, Any]:
    """The validated description as a 0.5 dict."""
    try:
        from bioimageio.spec import InvalidDescr, load_model_description
    except ImportError as exc:
        raise InputError(path, f"reading packages needs pip install 'microsr[export]' ({exc})") from None
    if not path.exists():
        raise InputError(path, "model package not found")
    if path.is_file():
        try:
            with zipfile.ZipFile(path) as zf:
                if not {"rdf.yaml", "bioimageio.yaml"} & set(zf.namelist()):
                    raise InputError(path, "not a bioimage.io package: the zip holds no rdf.yaml")
        except zipfile.BadZipFile:
            raise InputError(path, "not a zip file (corrupt or another format)") from None
    source = path if path.is_file() else path / str(_rdf_name(path))
    try:
        descr = load_model_description(source, format_version="latest", perform_io_checks=False)
    except Exception as exc:  # the spec library raises many kinds for unreadable content
        raise InputError(path, f"not a valid bioimage.io model ({str(exc).splitlines()[0]})") from None
    if isinstance(descr, InvalidDescr) or getattr(descr, "type", None) != "model":
        detail = next((e.msg for d in descr.validation_summary.details for e in d.errors), "invalid")
        raise InputError(path, f"not a valid bioimage.io model ({detail})")
    return descr.model_dump(mode="json")


def _axes(path: Path, tensor: dict[str, Any], what: str) -> list[dict[str, Any]]:
    axes = tensor["axes"]
    kinds = [(a["type"], a.get("id")) for a in axes]
    if [k for k, _ in kinds] != ["batch", "channel", "space", "space"] or {i for _, i in kinds[2:]} != {
        "y",
        "x",
    }:
        shown = ",".join(str(i or k) for k, i in kinds)
        raise InputError(
            path, f"{what} axes ({shown}) are not batch,channel,y,x: microsr runs 2-D models only"
        )
    return axes


def _scale(path: Path, inp: list[dict], out: list[dict]) -> int:
    ratios = []
    for a_in, a_out in zip(inp[2:], out[2:]):
        size = a_out.get("size")
        if not isinstance(size, dict) or "axis_id" not in size:
            raise InputError(
                path, "output size does not follow the input size; microsr cannot tile this model"
            )
        ratios.append(float(a_in.get("scale", 1.0)) / float(a_out.get("scale", 1.0)))
    s = ratios[0]
    if abs(s - round(s)) > 1e-6 or abs(ratios[1] - s) > 1e-6 or round(s) < 1:
        raise InputError(path, f"output/input scale {ratios} is not one integer up-sampling factor")
    return int(round(s))


def _norm(path: Path, steps: list[dict[str, Any]], post: list[dict[str, Any]]) -> dict[str, Any]:
    """microsr ``NormConfig`` dict equal to the pre-processing; other steps are refused."""
    norm: dict[str, Any] = {"kind": "none"}
    for step in steps:
        sid, kw = step["id"], step.get("kwargs") or {}
        if sid == "ensure_dtype":
            continue
        if sid == "scale_range":
            lo, hi = float(kw.get("min_percentile", 0.0)), float(kw.get("max_percentile", 100.0))
            norm = (
                {"kind": "minmax"}
                if (lo, hi) == (0.0, 100.0)
                else {"kind": "percentile", "low": lo, "high": hi}
            )
        elif sid == "scale_linear" and np.ndim(kw.get("gain", 1.0)) == 0:
            gain, offset = float(kw.get("gain", 1.0)), float(kw.get("offset", 0.0))
            norm = {"kind": "fixed", "vmin": -offset / gain, "vmax": (1.0 - offset) / gain}
        elif sid == "zero_mean_unit_variance":
            norm = {"kind": "meanstd"}
        elif sid == "clip" and float(kw.get("min", 0)) == 0.0 and float(kw.get("max", 1)) == 1.0:
            norm["clip"] = True
        else:
            raise InputError(path, f"pre-processing step {sid!r} has no microsr equivalent")
    extra = [p["id"] for p in post if p["id"] != "ensure_dtype"]
    if extra:
        raise InputError(path, f"post-processing {extra} is not supported by microsr predict")
    return norm


def _choose(path: Path, weights: dict[str, Any], card: ModelCard | None, want: str | None) -> str:
    present = [f for f in PREFERENCE if weights.get(f)]
    if card is None and "pytorch_state_dict" in present:
        present.remove("pytorch_state_dict")  # its architecture is foreign code
    if want is not None:
        if want not in present:
            raise InputError(path, f"weight format {want!r} is not usable here; usable: {present or 'none'}")
        return want
    if not present:
        found = [f for f, v in weights.items() if v]
        raise InputError(
            path,
            f"no weights microsr can run (found {found}; needs ONNX, TorchScript or a microsr state dict)",
        )
    return present[0]


def _network(root: Path, fmt: str, source: str, card: ModelCard | None) -> nn.Module:
    data = _read(root, source)
    if fmt == "onnx":
        return OnnxModule(data)
    if fmt == "torchscript":
        return torch.jit.load(io.BytesIO(data), map_location="cpu")
    assert card is not None
    net = build_from_card(card, root)
    try:
        state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
        net.load_state_dict({k.removeprefix("net."): v for k, v in state.items()})
    except Exception as exc:  # unpickling refused, wrong keys, corrupt file
        raise InputError(root, f"state dict {source} cannot be loaded ({str(exc).splitlines()[0]})") from None
    return net


def load_package(
    path: str | os.PathLike[str], *, device: str | None = None, weight_format: str | None = None
) -> tuple[nn.Module, ModelInfo]:
    """Load a bioimage.io model package for microsr's prediction; returns (network, info)."""
    root = Path(path)
    doc = _describe(root)
    if len(doc["inputs"]) != 1 or len(doc["outputs"]) != 1:
        raise InputError(root, "microsr runs models with one input and one output tensor")
    inp, out = doc["inputs"][0], doc["outputs"][0]
    in_axes, out_axes = _axes(root, inp, "input"), _axes(root, out, "output")
    scale = _scale(root, in_axes, out_axes)
    norm = _norm(root, inp.get("preprocessing") or [], out.get("postprocessing") or [])
    raw_card = ((doc.get("config") or {}).get("microsr") or {}).get("card")
    card = ModelCard.model_validate(raw_card) if raw_card else None
    fmt = _choose(root, doc["weights"], card, weight_format)
    source = doc["weights"][fmt]["source"]
    net = _network(root, fmt, source, card)
    dev = device or ("cuda" if torch.cuda.is_available() and fmt != "onnx" else "cpu")
    net = net.to(dev).eval()
    channels = [len(a.get("channel_names") or []) or 1 for a in (in_axes[1], out_axes[1])]
    arch = card.architecture if card else None
    info = ModelInfo(
        folder=root,
        name=arch.name if arch else str(doc.get("name")),
        options=dict(arch.options) if arch else {},
        tiny=bool(arch.tiny) if arch else False,
        in_channels=channels[0],
        out_channels=channels[1],
        scale=scale,
        normalization=norm,
        weights=root / source,
        needs_mask=False,
        raw=doc,
        card=card,
    )
    return net, info
