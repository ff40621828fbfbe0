"""Train/validation split by image (never by patch), deterministic under a seed.

Patches of one image are strongly correlated, so splitting patches would leak validation data
into training. Split the list of image pairs (files; a 3-D stack counts as one image) before any
patch is cut. (scikit-learn's ``train_test_split`` would do the shuffling but is not a
dependency, and it does not enforce one image per side.)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import numpy as np

from microsr.errors import InputError

T = TypeVar("T")


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
