"""From the config's folders to what the loop consumes: a patch batcher and validation batches.

Pairs are found (``find_pairs``), split by whole image (``split_by_image``, seeded by
``config.seed``), or, with fewer than ``REGION_BELOW`` pairs, by region (a strip of every image
held out, ``split_regions``, with a margin of the model's receptive field), unless separate
validation folders are given (``data.val_lr_dir`` / ``data.val_hr_dir``: then every training
image trains), normalised (``load_pair_arrays`` with ``data.normalization``; LR and HR of a pair
independently; or opened to be read on demand, with the same numbers and batches, by
``open_pairs_lazy`` when ``data.lazy`` says so, see :mod:`microsr.data.lazy_pairs`) and cut into
patches by ``PatchBatcher``, whose ``batch(i)`` is a pure function of
``(seed, i)``. Validation images are centre-cropped to ``data.val_crop`` LR px (see
:mod:`microsr.engine.validate`).

One *epoch* is ``ceil(sum_i floor(h_i / p) * floor(w_i / p) / batch_size)`` steps: as many LR
pixels as the training images tile with non-overlapping ``p``-px patches (at least one step).
Every plane of a 3-D stack counts as one image (training and validation).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from torch import Tensor

from microsr.engine.config import TrainConfig
from microsr.engine.validate import centre_crop, make_val_batch
from microsr.errors import ConfigError, InputError

REGION_BELOW = 10  # fewer image pairs than this: validation from held-out regions (data.val_split auto)
MIN_VAL = 16  # LR px: narrowest validation strip
GLOBAL_MARGIN = 32  # LR px between the parts when the model's receptive field is the whole image


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


def _validation_pairs(d, scale: int) -> list:
    """Pairs of the separate validation folders; never the training files themselves."""
    from microsr.data.pairs import find_pairs

    for train_dir, val_dir in ((d.lr_dir, d.val_lr_dir), (d.hr_dir, d.val_hr_dir)):
        if Path(train_dir).resolve() == Path(val_dir).resolve():
            raise InputError(
                val_dir,
                "the validation folder is the training folder: validation images "
                "must not train (give other folders, or use val_fraction instead)",
            )
    pairs = find_pairs(
        d.val_lr_dir, d.val_hr_dir, scale=scale, mask_dir=d.val_mask_dir, check_shapes=False, stores=True
    )
    if not pairs:
        raise InputError(
            d.val_lr_dir,
            f"no LR/HR validation pairs with matching names in {d.val_lr_dir} and {d.val_hr_dir}",
        )
    return pairs


def validation_source(cfg: TrainConfig, n_pairs: int) -> str:
    """Where validation comes from: ``folders``, ``image`` (whole images), ``region`` or ``none``.

    ``data.val_split: auto`` splits by region below :data:`REGION_BELOW` image pairs (by image when
    the images are too small for a strip, see ``prepare_data``): with few
    images, holding out whole ones costs training data and variety (measured: keeping one of 8
    images for validation lost 0.22 dB on held-out data against training on all 8), while a strip
    of each image costs only ``val_fraction`` of its pixels.
    """
    d = cfg.data
    if d.val_lr_dir is not None:
        return "folders"
    if d.val_fraction == 0:
        return "none"
    if d.val_split == "auto":
        return "region" if n_pairs < REGION_BELOW else "image"
    return d.val_split


def _split_regions(cfg: TrainConfig, items: list) -> tuple[list, list, dict[str, Any]]:
    """Training parts and validation strips of ``items``; the margin is the receptive field."""
    from microsr.data.split import split_regions
    from microsr.inference.blockwise import receptive_radius
    from microsr.models import create_model

    d, radius = cfg.data, None
    if d.val_margin is None:
        try:
            model = create_model(cfg.model.name, 1, 1, cfg.scale, tiny=cfg.model.tiny, **cfg.model.options)
            radius = receptive_radius(model.eval(), 1, cfg.scale)
        except (ValueError, TypeError, RuntimeError):
            radius = None  # the loop reports a model that cannot be built, with its options
    margin = d.val_margin if d.val_margin is not None else (GLOBAL_MARGIN if radius is None else radius)
    train, val = split_regions(
        items,
        val_fraction=d.val_fraction,
        margin=margin,
        min_train=d.patch_size,
        min_val=MIN_VAL,
        scale=cfg.scale,
    )
    field = "global" if radius is None else f"{radius} px"
    if d.val_margin is not None:
        field = "not measured"
    pixels = sum(it.lr.shape[-2] * it.lr.shape[-1] for it in val)
    line = (
        f"validation: held-out strips of {len(val)} of {len(items)} image plane(s) "
        f"({pixels} LR px, {100 * d.val_fraction:.0f} % of each), {margin} px from the training parts "
        f"(receptive field of {cfg.model.name}: {field})"
    )
    info = {"val_margin": margin, "receptive_field": radius, "val_message": line}
    return train, val, info


def _check_inputs(cfg: TrainConfig) -> None:
    """Channels, masks and folders, before any image is read."""
    from microsr.models import get_spec

    d = cfg.data
    if cfg.in_channels != 1 or cfg.out_channels != 1:
        raise ConfigError(
            "training from image folders uses single-channel planes: set in_channels "
            "and out_channels to 1 (RGB data: train on luminance)"
        )
    if get_spec(cfg.model.name).needs_mask and d.mask_dir is None:
        raise InputError(
            None,
            f"model {cfg.model.name!r} needs a parsing mask per image for training: "
            "give --mask DIR (label images 0 background, 1 cytoplasm, 2 nucleus)",
        )
    for folder in (d.lr_dir, d.hr_dir, d.mask_dir, d.val_lr_dir, d.val_hr_dir, d.val_mask_dir):
        if folder is not None and not Path(folder).is_dir():
            raise InputError(folder, "folder not found")


def _summary(
    cfg: TrainConfig,
    train_images: int,
    val_images: int,
    train_items: list,
    val_items: list,
    source: str,
    regions: dict[str, Any],
) -> dict[str, Any]:
    """What the run trained and validated on, recorded in the run folder."""
    d = cfg.data
    shapes = [it.lr.shape for it in train_items]
    return {
        "train_images": train_images,
        "val_images": val_images,
        "train_planes": len(train_items),
        "val_planes": len(val_items),
        "patch_size": d.patch_size,
        "batch_size": d.batch_size,
        "lr_dir": str(Path(d.lr_dir).resolve()),
        "hr_dir": str(Path(d.hr_dir).resolve()),
        "mask_dir": None if d.mask_dir is None else str(Path(d.mask_dir).resolve()),
        "val_crop": d.val_crop,
        "val_source": {"image": "split", "none": "none"}.get(source, source),
        **regions,
        "epoch_steps": epoch_steps(shapes, d.patch_size, d.batch_size),
        "lr_pixel_size": next((it.pixel_size for it in train_items if it.pixel_size), None),
        "lr_intensity": _lr_intensity(train_items),
    }


def _lr_intensity(items: list) -> dict[str, float]:
    """The training LR images' normalisation in raw units (median over planes of the value mapped to
    0 and of the value mapped to 1): what ``microsr predict --normalization training`` applies."""
    offsets = [float(it.lr_params.offset) for it in items]
    tops = [float(it.lr_params.offset + it.lr_params.scale) for it in items]
    return {"vmin": float(np.median(offsets)), "vmax": float(np.median(tops))}


def _loader(cfg: TrainConfig, pairs: list) -> Callable[..., list]:
    """``load_pair_arrays``, or the same items read on demand (``data.lazy``, docs/large-data.md)."""
    from microsr.data.lazy_pairs import use_lazy
    from microsr.data.loading import load_pair_arrays

    if not use_lazy(cfg.data.lazy, pairs):
        return load_pair_arrays
    from microsr.data.lazy_pairs import open_pairs_lazy
    from microsr.data.lazy_planes import TileCache

    cache = TileCache(cfg.data.cache_mb * 2**20)  # one per process: workers start their own
    return partial(open_pairs_lazy, cache=cache)


def prepare_data(cfg: TrainConfig) -> TrainingData:
    """Read, split and normalise the pairs of ``cfg.data``; build the batcher and validation batches.

    Raises
    ------
    InputError
        Missing folders, no pairs, patch larger than an image, or a model that needs masks without
        ``data.mask_dir`` (naming the model).
    """
    from microsr.data.batches import PatchBatcher
    from microsr.data.pairs import find_pairs
    from microsr.data.patches import Foreground
    from microsr.data.split import split_by_image

    d = cfg.data
    _check_inputs(cfg)
    # shapes are checked by load_pair_arrays as each pair is read, so each file is read once, not twice
    pairs = find_pairs(
        d.lr_dir, d.hr_dir, scale=cfg.scale, mask_dir=d.mask_dir, check_shapes=False, stores=True
    )
    if not pairs:
        raise InputError(d.lr_dir, f"no LR/HR image pairs with matching names in {d.lr_dir} and {d.hr_dir}")
    source = validation_source(cfg, len(pairs))
    if source == "folders":
        train_pairs, val_pairs = pairs, _validation_pairs(d, cfg.scale)
    elif source == "image":
        train_pairs, val_pairs = split_by_image(pairs, val_fraction=d.val_fraction, seed=cfg.seed)
    else:
        train_pairs, val_pairs = pairs, []
    jitter = np.random.default_rng([cfg.seed, 7]) if d.percentile_jitter else None
    load = _loader(cfg, train_pairs + val_pairs)
    train_items = load(train_pairs, d.normalization, scale=cfg.scale, percentile_rng=jitter)
    val_items = load(val_pairs, d.normalization, scale=cfg.scale) if val_pairs else []
    regions: dict[str, Any] = {}
    if source == "region":
        try:
            train_items, val_items, regions = _split_regions(cfg, train_items)
        except InputError:
            if d.val_split != "auto" or len(pairs) < 2:
                raise
            source = "image"  # images too small for a strip: hold out whole images instead
            train_pairs, val_pairs = split_by_image(pairs, val_fraction=d.val_fraction, seed=cfg.seed)
            held = {p.lr for p in val_pairs}
            val_items = [it for it in train_items if it.lr_path in held]
            train_items = [it for it in train_items if it.lr_path not in held]
    fg = None if not d.foreground_threshold else Foreground(threshold=d.foreground_threshold)
    batcher = PatchBatcher(
        train_items,
        patch_size=d.patch_size,
        scale=cfg.scale,
        batch_size=d.batch_size,
        seed=cfg.seed,
        augment=d.augment,
        foreground=fg,
        offset_jitter=d.offset_jitter,
    )
    val_batches = []
    for it in val_items:
        lr, hr, m = centre_crop(it.lr, it.hr, it.mask, d.val_crop, cfg.scale)
        val_batches.append(make_val_batch(np.asarray(lr), np.asarray(hr), m))
    val_images = len(val_items) if source == "region" else len(val_pairs)
    summary = _summary(cfg, len(train_pairs), val_images, train_items, val_items, source, regions)
    return TrainingData(
        batcher=batcher,
        val_batches=val_batches,
        epoch_steps=summary["epoch_steps"],
        has_masks=d.mask_dir is not None,
        summary=summary,
    )
