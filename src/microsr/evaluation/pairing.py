"""Reading images for scoring and pairing the files of two folders by name.

Files are paired by name without extension; an LR image's up-sampling factor is inferred from its
shape and that of its ground truth; the bicubic baseline is computed on the grid the HR-grid models
start from (see :mod:`microsr.evaluation.evaluate` for the conventions).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from microsr.errors import InputError
from microsr.io import list_images, read_image


def prediction_units(metadata: dict[str, Any]) -> str | None:
    """``"normalised"``, ``"input"`` or ``None``: the units ``microsr predict`` recorded in a TIFF."""
    units = metadata.get("microsr", {}).get("units") if isinstance(metadata.get("microsr"), dict) else None
    return units if isinstance(units, str) else None


def load_for_metrics(path: Path, with_units: bool = False) -> Any:
    """Read an image as float64 (..., Y, X); colour samples (``YXC``) are moved in front of Y.

    With ``with_units`` returns ``(array, units)``, ``units`` from :func:`prediction_units`.
    """
    image = read_image(path)
    array = image.array.astype(np.float64)
    if image.axes.endswith("YXC"):
        array = np.moveaxis(array, -1, -3)
    return (array, prediction_units(image.metadata)) if with_units else array


def pair_by_name(gt_dir: Path, other_dir: Path, what: str) -> tuple[dict[str, tuple[Path, Path]], list[str]]:
    """Match files of ``other_dir`` to those of ``gt_dir`` by name without extension.

    Returns
    -------
    pairs : dict
        ``stem -> (gt_path, other_path)`` for every ground-truth file, sorted by stem.
    unmatched : list of str
        File names in ``other_dir`` without ground truth.

    Raises
    ------
    InputError
        Missing folders, no common names, a ground-truth file without counterpart, or two files
        with the same name but different extensions in one folder.
    """

    def by_stem(folder: Path) -> dict[str, Path]:
        out: dict[str, Path] = {}
        for f in list_images(folder):
            if f.stem in out:
                raise InputError(f, f"ambiguous: {out[f.stem].name} has the same name; keep one of them")
            out[f.stem] = f
        return out

    gts, others = by_stem(gt_dir), by_stem(other_dir)
    common = sorted(set(gts) & set(others))
    if not common:
        listing = ", ".join(sorted(f.name for f in others.values())[:5])
        raise InputError(
            other_dir,
            f"no {what} file has the name of a ground-truth file in {gt_dir} "
            f"(found {listing}{', ...' if len(others) > 5 else ''})",
        )
    for stem, g in sorted(gts.items()):
        if stem not in others:
            raise InputError(g, f"no {what} named {stem}.* in {other_dir}")
    unmatched = sorted(others[s].name for s in set(others) - set(gts))
    return {s: (gts[s], others[s]) for s in common}, unmatched


def infer_scale(
    lr_shape: tuple[int, ...], gt_shape: tuple[int, ...], lr_path: Path, scale: int | None = None
) -> int:
    """Integer up-sampling factor between an LR and a ground-truth shape (last two axes)."""
    sy, ry = divmod(gt_shape[-2], lr_shape[-2])
    sx, rx = divmod(gt_shape[-1], lr_shape[-1])
    if lr_shape[:-2] != gt_shape[:-2] or ry or rx or sy != sx or sy < 1:
        raise InputError(
            lr_path, f"LR shape {lr_shape} is not the ground truth's {gt_shape} divided by one integer factor"
        )
    if scale is not None and scale != sy:
        raise InputError(lr_path, f"LR is x{sy} smaller than its ground truth, not x{scale} as requested")
    return sy


def bicubic_baseline(lr: np.ndarray, scale: int) -> np.ndarray:
    """Bicubic up-sampling (torch, align_corners=False) of (..., h, w) to (..., scale*h, scale*w), float64."""
    import torch

    from microsr.models.blocks import bicubic_upsample

    t = torch.from_numpy(np.ascontiguousarray(lr, dtype=np.float64)).reshape(-1, 1, *lr.shape[-2:])
    with torch.no_grad():
        up = bicubic_upsample(t, scale)
    return up.numpy().reshape(*lr.shape[:-2], *up.shape[-2:])
