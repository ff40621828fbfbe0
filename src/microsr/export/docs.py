"""The human-facing files of a package: cover image and README (with its ``# Validation`` section)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from microsr.modelcard import ModelCard


def _to_uint8(a: np.ndarray) -> np.ndarray:
    lo, hi = np.percentile(a, [0.5, 99.8])
    return (np.clip((a - lo) / max(hi - lo, 1e-12), 0, 1) * 255).astype(np.uint8)


def write_cover(path: Path, lr: np.ndarray, prediction: np.ndarray) -> Path:
    """PNG of the LR test image (pixels enlarged) beside the prediction, 2:1."""
    h, w = prediction.shape
    left = Image.fromarray(_to_uint8(lr)).resize((w, h), Image.Resampling.NEAREST)
    canvas = Image.new("L", (2 * w, h))
    canvas.paste(left, (0, 0))
    canvas.paste(Image.fromarray(_to_uint8(prediction)), (w, 0))
    canvas.save(path)
    return path


def default_description(card: ModelCard) -> str:
    a = card.architecture
    size = " (small preset)" if a.tiny else ""
    return f"{a.scale}x super-resolution of 2-D microscopy images with {a.name}{size}, trained with microsr."


def _norm_text(norm: dict) -> str:
    kind = norm.get("kind", "none")
    if kind == "percentile":
        return (
            f"per-image percentiles: the {norm.get('low')} percentile maps to 0 and the "
            f"{norm.get('high')} percentile to 1"
        )
    return {
        "minmax": "per-image minimum to 0 and maximum to 1",
        "fixed": f"fixed range: {norm.get('vmin')} to 0 and {norm.get('vmax')} to 1",
        "meanstd": "per image to zero mean and unit standard deviation",
    }.get(kind, "none (raw intensities)")


def _table(values: dict) -> list[str]:
    rows = [(k, v) for k, v in values.items() if isinstance(v, (int, float, str)) and not isinstance(v, bool)]
    if not rows:
        return ["No validation metrics were recorded for this run."]
    out = ["| metric | value |", "|---|---|"]
    out += [f"| {k} | {v:.4g} |" if isinstance(v, float) else f"| {k} | {v} |" for k, v in rows]
    return out


def readme(
    card: ModelCard, name: str, description: str, errors: dict[str, float], test_image: Path, halo: int
) -> str:
    """README.md of the package."""
    a = card.architecture
    px = f"{card.pixel_size} micrometre" if card.pixel_size else "not recorded (axes carry no unit)"
    data = card.data
    train = f"{data.get('train_images', '?')} training and {data.get('val_images', '?')} validation images"
    lines = [
        f"# {name}",
        "",
        description,
        "",
        "## Model",
        f"- architecture: `{a.name}` (microsr registry), options {a.options or 'default'}"
        + (", small preset" if a.tiny else ""),
        f"- {a.in_channels} input channel(s), {a.out_channels} output channel(s), up-sampling x{a.scale}",
        f"- input pixel size: {px}; output pixel size: input / {a.scale}",
        f"- block-wise prediction: halo of {halo} output pixels on each side",
        "- `architecture.py` rebuilds the network with PyTorch alone (microsr is not needed).",
        "",
        "## Input and output",
        f"- pre-processing (in `rdf.yaml`): {_norm_text(card.normalization)}",
        "- output units: the same normalised units as the pre-processed input, i.e. the model predicts the",
        "  high-resolution image normalised the way its training targets were. Multiply by the input's",
        "  (high - low) percentile difference and add the low percentile to get back to input intensities",
        "  (`microsr predict --keep-range` does this).",
        "",
        "## Training data",
        f"- {train}" + (f", LR patches of {data['patch_size']} px" if "patch_size" in data else ""),
        f"- training steps: {card.training.get('steps_done', '?')}, loss: {card.training.get('loss', '?')}",
        "",
        "# Validation",
        "",
        "Metrics on the run's validation images at the saved step (from `model.json`):",
        "",
        *_table(card.validation),
        "",
        f"Test image: a crop of `{test_image.name}`. Largest difference of each weight format from",
        "microsr's own prediction, as a fraction of the output range:",
        "",
        *[f"- {fmt}: {err:.2e}" for fmt, err in errors.items()],
        "",
    ]
    return "\n".join(lines)
