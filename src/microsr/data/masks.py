"""Parsing maps (masks) for the geometry-prior and SFTGAN models.

A parsing map says, for every HR pixel, whether it is background, cytoplasm or nucleus (the three
classes of the leukocyte geometry-prior seed, Hua et al. 2020). Inside microsr a map is a one-hot
float32 array (3, H, W) with channels (background, cytoplasm, nucleus), on the HR grid.

Accepted files (anything :func:`microsr.io.read_image` reads):

* a label image (Y, X): 0 = background, 1 = cytoplasm, 2 = nucleus (integers, or floats that are
  exactly these integers);
* a 3-channel binary image, channels in the order (background, cytoplasm, nucleus), either
  channel-first (3, Y, X) (any 3-long leading axis, e.g. a plain 3-page TIFF read as "ZYX") or
  colour-last (Y, X, 3) (PNG/RGB TIFF). Each channel holds 0 and one "on" value (1, or e.g. 255 in
  an 8-bit file); every pixel must be on in exactly one channel.

Singleton axes (e.g. a "ZCYX" file of shape (1, 3, Y, X)) are dropped. Problems raise
:class:`~microsr.errors.InputError` naming the file. microsr never invents parsing maps: models that
need them refuse to train without a mask folder (:func:`require_masks`).
"""

from __future__ import annotations

from collections.abc import Sequence
from os import PathLike
from pathlib import Path

import numpy as np

from microsr.errors import InputError
from microsr.io import SUPPORTED_EXTENSIONS, list_images, read_image

CLASSES = ("background", "cytoplasm", "nucleus")
_FORMAT_HINT = (
    "use a label image (0 background, 1 cytoplasm, 2 nucleus) or a 3-channel binary "
    "image (background, cytoplasm, nucleus)"
)


def _list_values(values: np.ndarray, limit: int = 6) -> str:
    shown = ", ".join(f"{v:g}" for v in values[:limit])
    return shown + (", ..." if values.size > limit else "")


def labels_to_onehot(labels: np.ndarray, path: str | PathLike[str] | None = None) -> np.ndarray:
    """Label image (H, W) with values 0/1/2 -> one-hot float32 (3, H, W); InputError otherwise."""
    values = np.unique(labels)
    bad = values[~np.isin(values, (0, 1, 2))]
    if bad.size:
        raise InputError(
            path,
            f"mask values must be 0 (background), 1 (cytoplasm) or 2 (nucleus); found "
            f"{_list_values(bad)}; {_FORMAT_HINT}",
        )
    index = labels.astype(np.int64)
    return (index[None] == np.arange(3)[:, None, None]).astype(np.float32)


def channels_to_onehot(stack: np.ndarray, path: str | PathLike[str] | None = None) -> np.ndarray:
    """Binary stack (3, H, W) -> one-hot float32 (3, H, W); checks binary values and a sum of one."""
    out = np.empty(stack.shape, dtype=np.float32)
    for c, name in enumerate(CLASSES):
        values = np.unique(stack[c])
        nonzero = values[values != 0]
        if nonzero.size > 1 or (nonzero.size == 1 and nonzero[0] < 0):
            raise InputError(
                path,
                f"channel {c} ({name}) is not binary: values {_list_values(values)}; each "
                f"channel must hold 0 and one positive 'on' value; {_FORMAT_HINT}",
            )
        out[c] = stack[c] != 0
    total = out.sum(axis=0)
    wrong = int(np.count_nonzero(total != 1))
    if wrong:
        raise InputError(
            path,
            f"mask channels do not sum to one at {wrong} of {total.size} pixels (each pixel "
            f"must be exactly one of background, cytoplasm, nucleus); {_FORMAT_HINT}",
        )
    return out


def read_mask(path: str | PathLike[str], shape: Sequence[int]) -> np.ndarray:
    """Read a parsing map as one-hot float32 (3, H, W) and check it against the HR image size.

    Parameters
    ----------
    path : path-like
        Label image or 3-channel binary image (see module docstring).
    shape : (H, W)
        Size of the HR image the map belongs to (the last two entries are used).

    Raises
    ------
    InputError
        Unreadable file, unsupported layout, values outside {0, 1, 2} (labels) or non-binary channels,
        channels not summing to one, or a size different from the HR image.
    """
    image = read_image(path)
    arr, axes = image.array, image.axes
    keep = [i for i, (n, a) in enumerate(zip(arr.shape, axes)) if n != 1 or a in "YX"]
    arr = arr.reshape([arr.shape[i] for i in keep])
    axes = "".join(axes[i] for i in keep)
    if arr.ndim == 2:
        onehot = labels_to_onehot(arr, path)
    elif arr.ndim == 3 and axes.endswith("YXC") and arr.shape[-1] == 3:
        onehot = channels_to_onehot(np.moveaxis(arr, -1, 0), path)
    elif arr.ndim == 3 and axes.endswith("YX") and arr.shape[0] == 3:
        onehot = channels_to_onehot(arr, path)
    else:
        raise InputError(
            path,
            f"a mask must be 2-D or have exactly 3 channels; got shape {tuple(image.shape)} "
            f"(axes {image.axes}); {_FORMAT_HINT}",
        )
    want = tuple(int(s) for s in shape[-2:])
    got = onehot.shape[-2:]
    if got != want:
        raise InputError(
            path,
            f"mask is {got[0]}x{got[1]} (Y x X) but the HR image is {want[0]}x{want[1]}; the "
            f"parsing map must be drawn on the HR image",
        )
    return onehot


def require_masks(mask_dir: str | PathLike[str] | None, model_name: str) -> Path:
    """Check that a model needing parsing maps got a mask folder; returns it as a Path.

    Raises
    ------
    InputError
        When ``mask_dir`` is None, missing, not a folder or holds no image. The message explains that
        the model needs parsing maps and that microsr does not invent them.
    """
    why = (
        f"model {model_name!r} needs a parsing map for every HR training image (label image: "
        f"0 background, 1 cytoplasm, 2 nucleus, same size as the HR image, same file name); "
        f"microsr does not invent parsing maps"
    )
    if mask_dir is None:
        raise InputError(
            None, f"{why}. Give a mask folder, or use a model without a prior (e.g. 'geometry-prior-noprior')"
        )
    folder = Path(mask_dir)
    if not folder.is_dir():
        raise InputError(folder, f"mask folder not found. {why}")
    try:
        list_images(folder)
    except InputError as exc:
        raise InputError(folder, f"{exc.problem}. {why}") from None
    return folder


def match_masks(image_paths: Sequence[str | PathLike[str]], mask_dir: str | PathLike[str]) -> list[Path]:
    """The mask file of each image: same file stem in ``mask_dir``, any supported extension.

    Raises
    ------
    InputError
        Naming the first images without a mask (or with two candidate masks).
    """
    folder = Path(mask_dir)
    by_stem: dict[str, list[Path]] = {}
    for f in list_images(folder):
        by_stem.setdefault(f.stem, []).append(f)
    missing = [Path(p).name for p in image_paths if Path(p).stem not in by_stem]
    if missing:
        shown = ", ".join(missing[:5]) + (", ..." if len(missing) > 5 else "")
        raise InputError(
            folder,
            f"no mask (same file name, extension one of "
            f"{', '.join(SUPPORTED_EXTENSIONS)}) for {len(missing)} image(s): "
            f"{shown}",
        )
    result = []
    for p in image_paths:
        candidates = by_stem[Path(p).stem]
        if len(candidates) > 1:
            raise InputError(
                folder, f"several masks for {Path(p).name}: {', '.join(c.name for c in candidates)}"
            )
        result.append(candidates[0])
    return result
