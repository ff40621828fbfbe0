"""From the config's folders to what the loop consumes: a patch batcher and validation batches.

Pairs are found (``find_pairs``), split by whole image (``split_by_image``, seeded by
``config.seed``), normalised (``load_pair_arrays`` with ``data.normalization``; LR and HR of a pair
independently) and cut into patches by ``PatchBatcher``, whose ``batch(i)`` is a pure function of
``(seed, i)``. Validation images are centre-cropped to ``data.val_crop`` LR px (see
:mod:`microsr.engine.validate`).

One *epoch* is ``ceil(sum_i floor(h_i / p) * floor(w_i / p) / batch_size)`` steps: as many LR
pixels as the training images tile with non-overlapping ``p``-px patches (at least one step).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from torch import Tensor

from microsr.engine.config import TrainConfig
from microsr.engine.validate import centre_crop, make_val_batch
from microsr.errors import InputError


class Batcher(Protocol):
    def batch(self, index: int) -> dict[str, Tensor]: ...


@dataclass
class TrainingData:
    """Everything the loop needs from the data layer.

    Attributes
    ----------
    batcher : Batcher
        ``batch(i)`` -> ``{"lr": (B,C,p,p), "hr": (B,C,sp,sp)[, "mask": (B,3,sp,sp)]}`` float32,
        a pure function of the batcher's seed and ``i``.
    val_batches : list of dict
        One batch of one per validation image (CPU tensors).
    epoch_steps : int
        Steps per epoch (>= 1).
    has_masks : bool
        Whether batches carry ``"mask"``.
    summary : dict
        Data summary written to ``model.json``.
    """

    batcher: Batcher
    val_batches: list[dict[str, Tensor]]
    epoch_steps: int
    has_masks: bool = False
    summary: dict[str, Any] = field(default_factory=dict)


def epoch_steps(shapes: list[tuple[int, int]], patch: int, batch_size: int) -> int:
    """Steps of one epoch for LR images of ``shapes`` (see the module docstring)."""
    tiles = sum((h // patch) * (w // patch) for h, w in shapes)
    return max(1, math.ceil(tiles / batch_size))


def _planes(array: np.ndarray) -> list[np.ndarray]:
    """2-D planes of an image (a 3-D stack contributes each of its planes)."""
    return [array] if array.ndim == 2 else [p for p in array.reshape(-1, *array.shape[-2:])]


def prepare_data(cfg: TrainConfig) -> TrainingData:
    """Read, split and normalise the pairs of ``cfg.data``; build the batcher and validation batches.

    Raises
    ------
    InputError
        Missing folders, no pairs, patch larger than an image, or a model that needs masks without
        ``data.mask_dir`` (naming the model).
    """
    from microsr.data.batches import PatchBatcher
    from microsr.data.loading import load_pair_arrays
    from microsr.data.pairs import find_pairs
    from microsr.data.split import split_by_image
    from microsr.models import get_spec

    d = cfg.data
    spec = get_spec(cfg.model.name)
    if spec.needs_mask and d.mask_dir is None:
        raise InputError(None, f"model {cfg.model.name!r} needs a parsing mask per image for training: "
                         "give --mask DIR (label images 0 background, 1 cytoplasm, 2 nucleus)")
    for folder in (d.lr_dir, d.hr_dir, d.mask_dir):
        if folder is not None and not Path(folder).is_dir():
            raise InputError(folder, "folder not found")
    pairs = find_pairs(d.lr_dir, d.hr_dir, scale=cfg.scale, mask_dir=d.mask_dir)
    train_pairs, val_pairs = split_by_image(pairs, val_fraction=d.val_fraction, seed=cfg.seed)
    train_items = load_pair_arrays(train_pairs, d.normalization)
    val_items = load_pair_arrays(val_pairs, d.normalization) if val_pairs else []
    shapes = [p.shape[-2:] for it in train_items for p in _planes(it.lr)]
    for it in train_items:
        h, w = it.lr.shape[-2:]
        if h < d.patch_size or w < d.patch_size:
            raise InputError(getattr(it, "name", None) or d.lr_dir,
                             f"LR image is {h}x{w} px, smaller than the patch size {d.patch_size} px "
                             "(use a smaller --patch-size)")
    kwargs: dict[str, Any] = {}
    if d.foreground_threshold is not None:
        kwargs["foreground_threshold"] = d.foreground_threshold
    batcher = PatchBatcher(train_items, patch_size=d.patch_size, scale=cfg.scale,
                           batch_size=d.batch_size, seed=cfg.seed, augment=d.augment, **kwargs)
    val_batches = []
    for it in val_items:
        mask = getattr(it, "mask", None)
        lr_planes, hr_planes = _planes(it.lr), _planes(it.hr)
        mid = len(lr_planes) // 2  # a stack is validated on its middle plane
        lr, hr, m = centre_crop(lr_planes[mid], hr_planes[mid], mask, d.val_crop, cfg.scale)
        val_batches.append(make_val_batch(lr, hr, m))
    summary = {"train_images": len(train_pairs), "val_images": len(val_pairs),
               "patch_size": d.patch_size, "batch_size": d.batch_size,
               "lr_dir": str(d.lr_dir), "hr_dir": str(d.hr_dir),
               "mask_dir": None if d.mask_dir is None else str(d.mask_dir),
               "val_crop": d.val_crop, "epoch_steps": epoch_steps(shapes, d.patch_size, d.batch_size)}
    return TrainingData(batcher=batcher, val_batches=val_batches, epoch_steps=summary["epoch_steps"],
                        has_masks=d.mask_dir is not None, summary=summary)
