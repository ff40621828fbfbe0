"""The inputs of a prediction run, all checked before anything is predicted or written.

:func:`plan_inputs` lists the images of a file or folder, their output names (never an input's,
never two alike) and their parsing maps; :func:`load_input` reads one image (and its map) and
checks that the model can predict it, which the run does once for every input before writing.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from microsr.errors import InputError
from microsr.io import ImageData, list_images, read_image
from microsr.modelcard import ModelInfo


def check_image(info: ModelInfo, image: ImageData, has_mask: bool) -> None:
    """Raise :class:`InputError` when ``image`` cannot be predicted with this model."""
    a, axes, path = image.array, image.axes, image.path
    if info.out_channels != info.in_channels:
        raise InputError(
            info.folder,
            f"prediction needs as many output as input channels "
            f"(model has {info.in_channels} in, {info.out_channels} out)",
        )
    if axes.endswith("YXC"):
        if a.ndim != 3 or a.shape[-1] != 3 or info.in_channels not in (1, 3):
            raise InputError(
                path,
                f"colour images need exactly 3 channels (RGB), one 2-D image per "
                f"file and a 1- or 3-channel model; got shape {a.shape}",
            )
        return
    if has_mask and a.ndim != 2:
        raise InputError(path, "parsing maps are supported for 2-D images only, not stacks")
    if info.in_channels > 1 and ("C" not in axes or a.shape[axes.index("C")] != info.in_channels):
        raise InputError(
            path,
            f"model {info.name!r} takes {info.in_channels} channels; image "
            f"has axes {axes} and shape {a.shape}",
        )


def output_paths(inputs: list[Path], output_dir: Path) -> list[Path]:
    """``OUTPUT/<stem>.tif`` for each input; refuses collisions with inputs or with each other."""
    outs = [output_dir / f"{p.stem}.tif" for p in inputs]
    ins = {os.path.realpath(p) for p in inputs}
    seen: dict[str, Path] = {}
    for src, dst in zip(inputs, outs):
        real = os.path.realpath(dst)
        if real in ins:
            raise InputError(
                dst, f"would overwrite an input image ({src.name}); choose another --output folder"
            )
        if real in seen:
            raise InputError(
                src,
                f"{src.name} and {seen[real].name} would both be written to {dst.name}; rename one of them",
            )
        seen[real] = src
    return outs


def load_input(info: ModelInfo, path: Path, mask_file: Path | None) -> tuple[ImageData, np.ndarray | None]:
    """Read an input (and its mask, checked against the HR size) and check it suits the model."""
    image = read_image(path)
    mask = None
    if mask_file is not None:
        from microsr.data.masks import read_mask

        h, w = image.array.shape[-2:]
        mask = read_mask(mask_file, (info.scale * h, info.scale * w))
    check_image(info, image, mask is not None)
    return image, mask


def plan_inputs(
    info: ModelInfo,
    input_path: str | os.PathLike[str],
    output_dir: Path,
    masks: str | os.PathLike[str] | None,
) -> tuple[list[Path], list[Path], list[Path | None]]:
    """Input files, their output paths and parsing-map files (``None`` where the model takes none)."""
    src = Path(input_path)
    if not src.exists():
        raise InputError(src, "input not found")
    inputs = list_images(src) if src.is_dir() else [src]
    if output_dir.exists() and not output_dir.is_dir():
        raise InputError(output_dir, "output exists and is not a folder")
    outs = output_paths(inputs, output_dir)
    mask_files: list[Path | None] = [None] * len(inputs)
    if masks is not None and not info.needs_mask:
        raise InputError(masks, f"model {info.name!r} does not use parsing maps; leave out --masks")
    if info.needs_mask:
        from microsr.data.masks import match_masks, require_masks

        mask_files = list(match_masks(inputs, require_masks(masks, info.name)))
    return inputs, outs, mask_files
