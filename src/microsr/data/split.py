"""Train/validation split by image (never by patch), deterministic under a seed, or by region.

Patches of one image are strongly correlated, so splitting patches would leak validation data
into training. Split the list of image pairs (files; a 3-D stack counts as one image) before any
patch is cut. With too few images for that (one acquisition, one stack), :func:`split_regions`
holds out a strip of every image instead, separated from the training part by a margin of at
least the model's receptive field. (scikit-learn's ``train_test_split`` would do the shuffling but is not a
dependency, and it does not enforce one image per side.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from microsr.errors import InputError

if TYPE_CHECKING:
    from microsr.data.loading import PairArrays

T = TypeVar("T")
P = TypeVar("P", bound="PairArrays")  # an image pair with ``name``, ``lr``, ``hr``, ``mask``


def n_validation(n_images: int, val_fraction: float) -> int:
    """Number of validation images: ``round(n * fraction)`` clamped to [1, n-1] when fraction > 0."""
    if not 0.0 <= val_fraction < 1.0:
        raise InputError(None, f"validation fraction must be in [0, 1), got {val_fraction}")
    if val_fraction == 0.0:
        return 0
    if n_images < 2:
        raise InputError(
            None,
            f"found {n_images} image pair(s); a validation split needs at least 2 "
            "(add images or set the validation fraction to 0)",
        )
    return int(min(max(round(n_images * val_fraction), 1), n_images - 1))


def split_by_image(items: Sequence[T], *, val_fraction: float, seed: int) -> tuple[list[T], list[T]]:
    """Split whole images into training and validation lists.

    Parameters
    ----------
    items : sequence
        One entry per image (e.g. :class:`~microsr.data.pairs.ImagePair`), in a stable order
        (``find_pairs`` sorts by name).
    val_fraction : float
        In [0, 1). With >= 2 images and a fraction > 0, each side gets at least one image.
    seed : int
        The permutation is ``np.random.default_rng(seed).permutation(len(items))``.

    Returns
    -------
    train, val : list
        Disjoint, covering all items, each in the original order.
    """
    if len(items) == 0:
        raise InputError(None, "no image pairs to split")
    n_val = n_validation(len(items), val_fraction)
    order = np.random.default_rng(seed).permutation(len(items))
    val_idx = set(order[:n_val].tolist())
    train = [it for i, it in enumerate(items) if i not in val_idx]
    val = [it for i, it in enumerate(items) if i in val_idx]
    return train, val


def region_lengths(
    length: int, *, val_fraction: float, margin: int, min_train: int, min_val: int
) -> tuple[int, int] | None:
    """Training and validation lengths along one axis of ``length`` px, or ``None`` if it cannot split.

    The validation strip is ``max(ceil(length * val_fraction), min_val)`` px at the end of the axis;
    ``margin`` px between the two are used by neither; the training part keeps the rest and must
    hold at least ``min_train`` px (one training patch).
    """
    n_val = max(int(np.ceil(length * val_fraction)), min_val)
    n_train = length - n_val - margin
    if n_train < min_train:
        return None
    return n_train, n_val


def _crop_item(item: P, start: int, stop: int, axis: int, scale: int, tag: str) -> P:
    """``item`` cut to LR px ``[start, stop)`` along ``axis`` (-1: X, -2: Y); HR and mask alike."""

    def cut(a, s: int):
        if a is None:
            return None
        index = [slice(None)] * a.ndim
        index[axis] = slice(start * s, stop * s)
        return a[tuple(index)]

    lr, hr, mask = cut(item.lr, 1), cut(item.hr, scale), cut(item.mask, scale)
    return replace(item, name=f"{item.name}[{tag}]", lr=lr, hr=hr, mask=mask)


def split_regions(
    items: Sequence[P], *, val_fraction: float, margin: int, min_train: int, min_val: int, scale: int
) -> tuple[list[P], list[P]]:
    """Hold out a strip at the end of the longer axis of every 2-D item that is large enough.

    Used when there are too few images for a split by whole image (one acquisition, one stack, a
    few images). Each item (``PairArrays``-like: ``name``, ``lr`` (h, w), ``hr`` (s*h, s*w),
    ``mask`` (3, s*h, s*w) or None) becomes a training part and a validation strip separated by
    ``margin`` LR px, so that no training patch touches a validated pixel's neighbourhood. Items too
    small to split train whole. Planes of a stack are split alike (neighbouring planes are
    correlated, so holding out whole planes would leak).

    Returns
    -------
    train, val : list
        Training parts (``name[train]``) of every item (whole items unchanged) and validation
        strips (``name[val]``).

    Raises
    ------
    InputError
        When no item is large enough (naming the sizes needed).
    """
    train, val = [], []
    for it in items:
        h, w = it.lr.shape[-2:]
        axis = -1 if w >= h else -2
        length = (h, w)[axis]
        lengths = region_lengths(
            length, val_fraction=val_fraction, margin=margin, min_train=min_train, min_val=min_val
        )
        if lengths is None:
            train.append(it)
            continue
        n_train, n_val = lengths
        train.append(_crop_item(it, 0, n_train, axis, scale, "train"))
        val.append(_crop_item(it, length - n_val, length, axis, scale, "val"))
    if not val:
        sizes = sorted({tuple(it.lr.shape[-2:]) for it in items})
        raise InputError(
            None,
            f"images of {sizes[:3]} LR px are too small to hold out a validation region "
            f"({min_val} px + a margin of {margin} px + a training patch of {min_train} px along one side): "
            "give --val-fraction 0, a smaller --patch-size, or validation folders (--val-lr/--val-hr)",
        )
    return train, val
