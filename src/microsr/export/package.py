"""``microsr export``: a training run folder -> a bioimage.io model package (zip).

Steps: load the run (model card + safetensors), write the standalone architecture and check that
it reproduces microsr's network exactly, normalise a test image as microsr does and predict it,
write and check each weight format, write cover, README and ``rdf.yaml``, validate and zip with
``bioimageio.spec`` (which adds the SHA-256 of every file), and rename the zip into place. Nothing
is left behind when any step fails.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import yaml

from microsr.errors import InputError
from microsr.export import docs, rdf, standalone
from microsr.export.weights import FILE_NAMES, FORMATS, max_error, run_format, write_weights
from microsr.modelcard import ModelCard, load_model_folder
from microsr.models import final_output, get_spec

STEP = 8  # input sizes are min + n * STEP


@dataclass
class ExportOptions:
    """What ``microsr export`` was asked for (see the command's help)."""

    weights: str = "best"
    formats: tuple[str, ...] = FORMATS
    name: str | None = None
    description: str | None = None
    authors: list[str] = field(default_factory=lambda: ["microsr user"])
    license: str = "BSD-3-Clause"
    test_image: Path | None = None
    crop: int = 64
    normalization: str = "image"  # or "training": the run's training intensity range (scale_linear)


@dataclass
class ExportResult:
    """The written package and what was measured while writing it."""

    path: Path
    errors: dict[str, float]
    seconds: float
    halo: int
    min_size: int


def effective_radius(model: torch.nn.Module, channels: int, scale: int, cap: int = 16) -> int:
    """Radius (LR pixels, at most ``cap``) where the input's gradient is >= 1e-3 of its max, plus 1."""
    from microsr.inference.blockwise import receptive_radius

    radius = receptive_radius(model, channels, scale, probe=48, rel_threshold=1e-3)
    return cap if radius is None else min(radius + 1, cap)


def _test_image(card: ModelCard, opts: ExportOptions) -> tuple[np.ndarray, Path]:
    """The raw (un-normalised) 2-D test image and its file: ``--test-image`` or a training image."""
    from microsr.io import list_images, read_image

    path = opts.test_image
    if path is None:
        lr_dir = card.data.get("lr_dir")
        files = list_images(lr_dir) if lr_dir and Path(lr_dir).is_dir() else []
        if not files:
            raise InputError(None, "the run's training images are not available: give --test-image FILE")
        path = files[0]
    image = read_image(path)
    data = np.asarray(image.array, dtype=np.float32)
    while data.ndim > 2 and data.shape[0] == 1:
        data = data[0]
    if data.ndim != 2:
        raise InputError(path, f"test image must be one 2-D plane, got shape {data.shape}")
    return data, Path(path)


def _crop(data: np.ndarray, size: int, min_size: int, path: Path) -> np.ndarray:
    """Centre crop to ``size`` (at least ``min_size``), snapped to ``min_size + n * STEP``."""
    h, w = data.shape
    side = min(max(size, min_size), h, w)
    side = min_size + (side - min_size) // STEP * STEP
    if side < min_size or h < min_size or w < min_size:
        raise InputError(path, f"test image is {h}x{w}; this model needs at least {min_size}x{min_size}")
    y0, x0 = (h - side) // 2, (w - side) // 2
    return np.ascontiguousarray(data[y0 : y0 + side, x0 : x0 + side])


def _check_formats(formats: tuple[str, ...]) -> tuple[str, ...]:
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise InputError(None, f"--formats: unknown {bad or formats}; choose from {', '.join(FORMATS)}")
    return tuple(dict.fromkeys(formats))


def _package_dir(run: Path, work: Path, opts: ExportOptions) -> tuple[Path, dict, int, int]:
    """Write every file of the package into ``work``; returns (rdf path, errors, halo, min size)."""
    from microsr.data.normalize import NormConfig, normalize

    model, info = load_model_folder(run, weights=opts.weights, device="cpu", normalization=opts.normalization)  # type: ignore[arg-type]
    assert info.card is not None
    card = info.card.model_copy(update={"normalization": info.normalization})  # what rdf.yaml states
    if get_spec(info.name).mask_input:
        raise InputError(
            run, f"model {info.name!r} needs a parsing map as a second input; it cannot be exported"
        )
    arch_file = work / "architecture.py"
    arch_file.write_text(standalone.architecture_source(info.name), encoding="utf-8")
    net = standalone.load_entry(arch_file)(**card.architecture.model_dump(mode="json")).eval()
    net.net.load_state_dict(model.state_dict())
    radius = effective_radius(net, info.in_channels, info.scale)
    halo, min_size = radius * info.scale, -(-(2 * radius + STEP) // STEP) * STEP
    raw, img_path = _test_image(card, opts)
    raw = _crop(raw, opts.crop, min_size, img_path)
    norm, _ = normalize(raw, NormConfig(**info.normalization))
    x = norm[None, None].repeat(info.in_channels, axis=1)
    with torch.no_grad():
        ref = final_output(model(torch.from_numpy(x))).numpy()
        if max_error(net(torch.from_numpy(x)).numpy(), ref) > 1e-6:
            raise RuntimeError("the standalone architecture does not reproduce microsr's network")
    np.save(work / "test_input.npy", raw[None, None].repeat(info.in_channels, axis=1))
    np.save(work / "test_output.npy", ref)
    written = write_weights(net, x, work, opts.formats, (rdf.INPUT_ID, rdf.OUTPUT_ID))
    errors = {f: max_error(run_format(f, p, x, net), ref) for f, p in written.items()}
    worst = max(errors, key=errors.__getitem__)
    if errors[worst] > 1e-4:
        raise RuntimeError(
            f"{worst} weights differ from microsr's prediction by {errors[worst]:.2e} of the range"
        )
    docs.write_cover(work / "cover.png", raw, ref[0, 0])
    name = opts.name or f"microsr {info.name} x{info.scale}"
    description = opts.description or docs.default_description(card)
    (work / "README.md").write_text(
        docs.readme(card, name, description, errors, img_path, halo), encoding="utf-8"
    )
    files = {
        "documentation": "README.md",
        "cover": "cover.png",
        "test_input": "test_input.npy",
        "test_output": "test_output.npy",
    }
    doc = rdf.build_rdf(
        card,
        name=name,
        description=description,
        authors=opts.authors,
        license=opts.license,
        weights={f: FILE_NAMES[f] for f in written},
        io=rdf.tensors(card, min_size, STEP, halo),
        files=files,
        tolerance=1e-4 * max(float(ref.max() - ref.min()), 1e-6),
    )
    path = work / "rdf.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path, errors, halo, min_size


def export_package(
    run: str | os.PathLike[str], out: str | os.PathLike[str], opts: ExportOptions | None = None
) -> ExportResult:
    """Export training run ``run`` as the bioimage.io package ``out`` (a ``.zip``); see the module doc."""
    try:
        from bioimageio.spec import ValidationContext, save_bioimageio_package
    except ImportError as exc:
        raise InputError(None, f"export needs pip install 'microsr[export]' ({exc})") from None
    opts = opts or ExportOptions()
    opts.formats = _check_formats(tuple(opts.formats))
    run, out = Path(run), Path(out)
    if out.suffix.lower() != ".zip":
        raise InputError(out, "--out must name a .zip file")
    if not out.parent.is_dir():
        raise InputError(out.parent, "output folder does not exist")
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=".microsr-export-", dir=out.parent) as tmp:
        work = Path(tmp) / "package"
        work.mkdir()
        rdf_path, errors, halo, min_size = _package_dir(run, work, opts)
        zip_tmp = Path(tmp) / out.name
        with ValidationContext(perform_io_checks=True):
            save_bioimageio_package(rdf_path, output_path=zip_tmp)
        os.replace(zip_tmp, out)
    return ExportResult(out, errors, time.perf_counter() - start, halo, min_size)
