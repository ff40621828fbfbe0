"""Pair LR and HR files by name and check that their shapes fit the scale.

Rules (also in docs/data.md):

* A pair is an LR and an HR file with the same name stem; the extension may differ
  (``cell01.tif`` pairs with ``cell01.tiff`` or ``cell01.png``). ``.ome.tif`` counts as one
  extension. Two files with the same stem in one folder are ambiguous and refused.
* Files without a partner are listed in a warning; if nothing pairs, an InputError lists both
  folders' names.
* Every HR must be exactly ``scale`` times its LR in Y and X; any other axes (Z, T, C) must be
  equal, so a 3-D stack pairs slice by slice.
* With ``mask_dir``, every pair needs a mask file with the same stem (only the path is recorded;
  masks are read by :func:`microsr.data.masks.read_mask`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

from microsr.errors import InputError
from microsr.io import list_images, read_image
from microsr.io.lazy import is_zarr_path

_DOUBLE_SUFFIXES = (".ome.tif", ".ome.tiff", ".ome.zarr")


@dataclass(frozen=True)
class ImagePair:
    """One LR/HR pair of files (and an optional parsing mask), matched by ``name``."""

    name: str
    lr: Path
    hr: Path
    mask: Path | None = None


def image_stem(path: Path) -> str:
    """File name without its image extension (``a.ome.tif`` -> ``a``, ``b.tiff`` -> ``b``)."""
    low = path.name.lower()
    for suf in _DOUBLE_SUFFIXES:
        if low.endswith(suf):
            return path.name[: -len(suf)]
    return path.stem


def _zarr_stores(folder: Path) -> list[Path]:
    """OME-Zarr image stores (``NAME.ome.zarr`` / ``NAME.zarr`` folders) directly in ``folder``."""
    if not folder.is_dir():
        return []
    return sorted(
        f for f in folder.iterdir() if f.is_dir() and not f.name.startswith(".") and is_zarr_path(f)
    )


def _by_stem(folder: Path, stores: bool = False) -> dict[str, Path]:
    out: dict[str, Path] = {}
    found = _zarr_stores(folder) if stores else []
    try:
        files = list_images(folder)
    except InputError:
        if not found:
            raise
        files = []  # a folder of Zarr stores only
    for f in sorted(files + found):
        stem = image_stem(f)
        if stem in out:
            raise InputError(folder, f"two files share the name {stem!r}: {out[stem].name} and {f.name}")
        out[stem] = f
    return out


def _names(stems: list[str], limit: int = 10) -> str:
    shown = ", ".join(stems[:limit])
    return shown + (f" and {len(stems) - limit} more" if len(stems) > limit else "")


def check_pair_shapes(
    lr_path: Path,
    lr_shape: tuple[int, ...],
    lr_axes: str,
    hr_path: Path,
    hr_shape: tuple[int, ...],
    hr_axes: str,
    scale: int,
) -> None:
    """Raise InputError (naming both files and shapes) unless HR = scale x LR in Y and X."""
    both = f"{lr_path.name} (LR) and {hr_path.name} (HR)"
    if lr_axes != hr_axes:
        raise InputError(hr_path, f"{both} have different axes: {lr_axes} vs {hr_axes}")
    iy, ix = lr_axes.index("Y"), lr_axes.index("X")
    ly, lx, hy, hx = lr_shape[iy], lr_shape[ix], hr_shape[iy], hr_shape[ix]
    if (hy, hx) != (scale * ly, scale * lx):
        raise InputError(
            hr_path,
            f"{both}: HR is {hy}x{hx} px but LR {ly}x{lx} px at x{scale} needs HR "
            f"{scale * ly}x{scale * lx} px",
        )
    for i, a in enumerate(lr_axes):
        if a not in "YX" and lr_shape[i] != hr_shape[i]:
            raise InputError(hr_path, f"{both}: LR has {lr_shape[i]} {a} planes but HR has {hr_shape[i]}")


def find_pairs(
    lr_dir: str | PathLike[str],
    hr_dir: str | PathLike[str],
    *,
    scale: int,
    mask_dir: str | PathLike[str] | None = None,
    check_shapes: bool = True,
    stores: bool = False,
) -> list[ImagePair]:
    """Match LR and HR files by name and validate their shapes.

    Parameters
    ----------
    lr_dir, hr_dir : path-like
        Folders of LR and HR images.
    scale : int
        HR pixel count per LR pixel along Y and X (>= 1).
    mask_dir : path-like, optional
        Folder of parsing masks named like the images.
    check_shapes : bool
        Read every pair once to check shapes (default). Reading is needed because the headers of
        PNG/JPEG/MRC are format specific; the cost is one extra read per file.
    stores : bool
        Also pair OME-Zarr stores (``NAME.ome.zarr`` folders; training reads them lazily,
        :mod:`microsr.data.lazy_pairs`). Needs ``check_shapes=False``.

    Returns
    -------
    list of ImagePair
        Sorted by name.

    Raises
    ------
    InputError
        Missing/empty folders, nothing pairs, ambiguous names, shape mismatch, missing masks.
    """
    if scale < 1:
        raise InputError(None, f"scale must be a positive integer, got {scale}")
    lr_dir, hr_dir = Path(lr_dir), Path(hr_dir)
    lr, hr = _by_stem(lr_dir, stores), _by_stem(hr_dir, stores)
    common = sorted(set(lr) & set(hr))
    only_lr, only_hr = sorted(set(lr) - set(hr)), sorted(set(hr) - set(lr))
    if not common:
        raise InputError(
            lr_dir,
            f"no LR file has an HR file of the same name in {hr_dir} (LR: {_names(sorted(lr))}; "
            f"HR: {_names(sorted(hr))})",
        )
    if only_lr or only_hr:
        parts = []
        if only_lr:
            parts.append(f"LR without HR in {lr_dir}: {_names(only_lr)}")
        if only_hr:
            parts.append(f"HR without LR in {hr_dir}: {_names(only_hr)}")
        warnings.warn("unpaired files skipped; " + "; ".join(parts), UserWarning, stacklevel=2)
    masks: dict[str, Path] = {}
    if mask_dir is not None:
        masks = _by_stem(Path(mask_dir))
        missing = [s for s in common if s not in masks]
        if missing:
            raise InputError(mask_dir, f"no mask for: {_names(missing)}")
    pairs = [ImagePair(s, lr[s], hr[s], masks.get(s)) for s in common]
    if check_shapes:
        for p in pairs:
            a, b = read_image(p.lr), read_image(p.hr)
            check_pair_shapes(p.lr, a.shape, a.axes, p.hr, b.shape, b.axes, scale)
    return pairs
