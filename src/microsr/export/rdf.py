"""The ``rdf.yaml`` of a bioimage.io model package (spec 0.5.12), built from a model card.

Axes are batch / channel / y / x. Space axes carry the training pixel size in micrometres when it
is known; the output's y and x reference the input's with scale / s (s-fold up-sampling) and a halo
in output pixels. microsr's normalisation becomes bioimage.io pre-processing: ``percentile`` ->
``scale_range`` per image, ``minmax`` -> ``scale_range`` 0-100, ``fixed`` -> ``scale_linear``,
``meanstd`` -> ``zero_mean_unit_variance``, with ``clip`` to [0, 1] when training clipped.
"""

from __future__ import annotations

import platform
from typing import Any
from urllib.parse import quote_plus

import torch

import microsr
from microsr.errors import InputError
from microsr.modelcard import ModelCard

INPUT_ID, OUTPUT_ID = "raw", "prediction"
FORMAT_VERSION = "0.5.12"
MICROSR_CITE = {
    "text": "microsr: deep-learning super-resolution for microscopy",
    "url": "https://pypi.org/project/microsr/",
}
_ARXIV = {
    "srcnn": ("Dong et al. 2014, Image super-resolution using deep convolutional networks", "1501.00092"),
    "vdsr": ("Kim et al. 2016, Accurate image super-resolution using very deep networks", "1511.04587"),
    "edsr": ("Lim et al. 2017, Enhanced deep residual networks for single image SR", "1707.02921"),
    "srresnet": ("Ledig et al. 2017, Photo-realistic single image SR using a GAN", "1609.04802"),
    "srgan": ("Ledig et al. 2017, Photo-realistic single image SR using a GAN", "1609.04802"),
    "rcan": ("Zhang et al. 2018, Image SR using very deep residual channel attention networks", "1807.02758"),
    "rdn": ("Zhang et al. 2018, Residual dense network for image super-resolution", "1802.08797"),
    "srfbn": ("Li et al. 2019, Feedback network for image super-resolution", "1903.09814"),
    "dncnn": ("Zhang et al. 2017, Beyond a Gaussian denoiser (DnCNN)", "1608.03981"),
    "unet-n2n": ("Lehtinen et al. 2018, Noise2Noise", "1803.04189"),
}
_DOI = {
    "dfcan": (
        "Qiao et al. 2021, Evaluation and development of deep neural networks for image "
        "super-resolution in optical microscopy, Nature Methods",
        "10.1038/s41592-020-01048-5",
    ),
    "care-unet": (
        "Weigert et al. 2018, Content-aware image restoration: pushing the limits of fluorescence "
        "microscopy, Nature Methods",
        "10.1038/s41592-018-0216-7",
    ),
    "geometry-prior": (
        "Hua et al. 2020, Leukocyte super-resolution via geometry prior and structural "
        "consistency, J. Biomed. Opt.",
        "10.1117/1.JBO.25.10.106501",
    ),
}
_TITLE = {
    "mhtcun": "Gong et al., Deep neural networks for image super-resolution in optical microscopy by "
    "using modified hybrid task cascade U-Net",
    "denseed": "Mannam et al. 2021, Deep learning-based super-resolution fluorescence microscopy on small datasets",
}


# registered names that cite their family's paper: name prefix -> family
_FAMILIES = {
    "dfgan": "dfcan",
    "denseed": "denseed",
    "edsr": "edsr",
    "geometry-prior": "geometry-prior",
    "care-unet": "care-unet",
}


def paper_cite(name: str) -> dict[str, str]:
    """Citation of the architecture's paper (DOI, arXiv, or a bibliographic search by title)."""
    family = next((f for prefix, f in _FAMILIES.items() if name.startswith(prefix)), name)
    if family in _DOI:
        text, doi = _DOI[family]
        return {"text": text, "doi": doi}
    if family in _ARXIV:
        text, arxiv = _ARXIV[family]
        return {"text": text, "url": f"https://arxiv.org/abs/{arxiv}"}
    title = _TITLE.get(family, f"The {name} architecture")
    return {"text": title, "url": "https://search.crossref.org/?q=" + quote_plus(title)}


def preprocessing(norm: dict[str, Any]) -> list[dict[str, Any]]:
    """bioimage.io pre-processing steps equal to microsr's ``NormConfig`` (as a dict)."""
    kind = norm.get("kind", "none")
    axes = ["channel", "y", "x"]
    steps: list[dict[str, Any]] = [{"id": "ensure_dtype", "kwargs": {"dtype": "float32"}}]
    if kind == "percentile":
        low, high = float(norm.get("low", 2.0)), float(norm.get("high", 99.8))
        kw = {"axes": axes, "min_percentile": low, "max_percentile": high, "eps": 1e-12}
        steps.append({"id": "scale_range", "kwargs": kw})
    elif kind == "minmax":
        kw = {"axes": axes, "min_percentile": 0.0, "max_percentile": 100.0, "eps": 1e-12}
        steps.append({"id": "scale_range", "kwargs": kw})
    elif kind == "fixed":
        span = float(norm["vmax"]) - float(norm["vmin"])
        kw = {"gain": 1.0 / span, "offset": -float(norm["vmin"]) / span}
        steps.append({"id": "scale_linear", "kwargs": kw})
    elif kind == "meanstd":
        steps.append({"id": "zero_mean_unit_variance", "kwargs": {"axes": axes, "eps": 1e-12}})
    elif kind != "none":
        raise InputError(None, f"normalisation {kind!r} has no bioimage.io equivalent")
    if norm.get("clip") and kind in ("percentile", "minmax", "fixed"):
        steps.append({"id": "clip", "kwargs": {"min": 0.0, "max": 1.0}})
    return steps


def _space(axis: str, size: Any, scale: float, unit: str | None, halo: int = 0) -> dict[str, Any]:
    d: dict[str, Any] = {"type": "space", "id": axis, "size": size, "scale": scale}
    if unit:
        d["unit"] = unit
    if halo:
        d["halo"] = halo
    return d


def exact_halo(halo: int, scale: float, s: int) -> tuple[int, float]:
    """(halo, input pixel size) for which bioimage.io's ``halo * (scale / s) / scale`` is an integer.

    The spec checks this in floating point, where e.g. ``12 * 0.05 / 0.1`` is 6.000000000000001;
    the halo grows by ``s`` (more overlap never hurts), else the pixel size is rounded to 2**-20.
    """
    for px in (scale, round(scale * 2**20) / 2**20):
        for h in range(halo, halo + 8 * s, s):
            if (h * (px / s) / px).is_integer():
                return h, px
    raise ValueError(f"no halo near {halo} is an integer number of input pixels at pixel size {scale}")


def tensors(card: ModelCard, min_size: int, step: int, halo: int) -> tuple[dict, dict]:
    """Input and output tensor descriptions (without test tensors)."""
    arch = card.architecture
    s, px = arch.scale, card.pixel_size
    unit = "micrometer" if px else None
    halo, scale = exact_halo(halo, float(px) if px else 1.0, s)
    channels = lambda n: {"type": "channel", "channel_names": [f"c{i}" for i in range(n)]}  # noqa: E731
    inp = {
        "id": INPUT_ID,
        "description": "the diffraction-limited (low-resolution) image",
        "axes": [{"type": "batch"}, channels(arch.in_channels)]
        + [_space(a, {"min": min_size, "step": step}, scale, unit) for a in ("y", "x")],
        "data": {"type": "float32"},
        "preprocessing": preprocessing(card.normalization),
    }
    ref = lambda a: {"tensor_id": INPUT_ID, "axis_id": a}  # noqa: E731
    out = {
        "id": OUTPUT_ID,
        "description": f"the {s}x super-resolved image, in the normalised intensity units of the input",
        "axes": [{"type": "batch"}, channels(arch.out_channels)]
        + [_space(a, ref(a), scale / s, unit, halo) for a in ("y", "x")],
        "data": {"type": "float32"},
    }
    return inp, out


def weights_entry(fmt: str, source: str, arch_kwargs: dict[str, Any]) -> dict[str, Any]:
    """One entry of ``weights`` (the state dict is the parent of the converted formats)."""
    torch_version = torch.__version__.split("+")[0]
    if fmt == "pytorch_state_dict":
        arch = {"source": "architecture.py", "callable": "MicrosrNetwork", "kwargs": arch_kwargs}
        return {"source": source, "architecture": arch, "pytorch_version": torch_version}
    if fmt == "torchscript":
        return {"source": source, "pytorch_version": torch_version, "parent": "pytorch_state_dict"}
    return {"source": source, "opset_version": 18, "parent": "pytorch_state_dict"}


def build_rdf(
    card: ModelCard,
    *,
    name: str,
    description: str,
    authors: list[str],
    license: str,
    weights: dict[str, str],
    io: tuple[dict, dict],
    files: dict[str, str],
    tolerance: float,
) -> dict[str, Any]:
    """The whole RDF; ``files`` names ``documentation``, ``cover``, ``test_input``, ``test_output``;
    ``tolerance`` is the absolute difference every weight format must stay within."""
    arch = card.architecture
    inp, out = io
    inp = {**inp, "test_tensor": {"source": files["test_input"]}}
    out = {**out, "test_tensor": {"source": files["test_output"]}}
    arch_kwargs = arch.model_dump(mode="json")
    entries = {fmt: weights_entry(fmt, src, arch_kwargs) for fmt, src in weights.items()}
    if "pytorch_state_dict" not in entries:
        for e in entries.values():
            e.pop("parent", None)
    return {
        "type": "model",
        "format_version": FORMAT_VERSION,
        "name": name,
        "description": description,
        "authors": [{"name": a} for a in authors],
        "cite": [paper_cite(arch.name), MICROSR_CITE],
        "license": license,
        "documentation": {"source": files["documentation"]},
        "covers": [{"source": files["cover"]}],
        "tags": ["super-resolution", "microscopy", "2d", "microsr", arch.name],
        "inputs": [inp],
        "outputs": [out],
        "weights": entries,
        "config": {
            "microsr": {"card": card.model_dump(mode="json"), "python": platform.python_version()},
            "bioimageio": {
                "reproducibility_tolerance": [
                    {
                        "absolute_tolerance": tolerance,
                        "relative_tolerance": 0.0,
                        "mismatched_elements_per_million": 0,
                        "output_ids": [OUTPUT_ID],
                    }
                ]
            },
        },
        "version": microsr.__version__,
    }
