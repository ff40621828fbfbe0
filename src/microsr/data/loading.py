"""Read paired files into normalised float32 2-D arrays for training and validation.

* Every non-spatial axis (Z, T, C of size 1) is flattened: a stack of N planes gives N 2-D items
  named ``stem[z=3]``. Multi-channel images (C > 1) are refused (train one channel per file).
* RGB images (``YXC`` with 3 samples, e.g. PNG/RGB TIFF) are refused by default with a pointer
  to the YCbCr recipe of the geometry-prior seed; ``rgb="luminance"`` instead trains on the Y
  (luma) channel of ITU-R BT.601 YCbCr (:func:`microsr.data.color.rgb_to_ycbcr`).
* LR and HR are normalised independently, once per **file** (a stack shares one offset/scale, so
  nearly empty planes are not stretched into noise); the :class:`NormParams` are kept.
* NaN/Inf values are refused by :func:`microsr.io.read_image`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from microsr.data.normalize import NormConfig, NormParams, normalize, random_percentiles
from microsr.data.pairs import ImagePair, check_pair_shapes
from microsr.errors import InputError
from microsr.io import ImageData, read_image


@dataclass
class PairArrays:
    """One 2-D training/validation item.

    Attributes
    ----------
    name : str
        ``stem`` or ``stem[z=3]`` for a plane of a stack (``#k`` appended for tiles).
    lr : np.ndarray
        (h, w) float32 normalised LR.
    hr : np.ndarray
        (s*h, s*w) float32 normalised HR.
    mask : np.ndarray or None
        (3, s*h, s*w) float32 one-hot parsing map.
    lr_params, hr_params : NormParams
        How LR and HR were normalised.
    lr_path, hr_path : Path or None
        Source files.
    pixel_size : float or None
        LR pixel size in micrometres, if the LR file records it.
    """

    name: str
    lr: np.ndarray
    hr: np.ndarray
    mask: np.ndarray | None = None
    lr_params: NormParams = field(default_factory=NormParams)
    hr_params: NormParams = field(default_factory=NormParams)
    lr_path: Path | None = None
    hr_path: Path | None = None
    pixel_size: float | None = None

    @classmethod
    def plane(
        cls, pair: ImagePair, label: str, lr, hr, params: tuple[NormParams, NormParams], **kw
    ) -> PairArrays:
        """Plane ``label`` (``""`` for a 2-D image) of ``pair``; ``params``: LR and HR normalisation."""
        name = f"{pair.name}[{label}]" if label else pair.name
        return cls(
            name, lr, hr, lr_params=params[0], hr_params=params[1], lr_path=pair.lr, hr_path=pair.hr, **kw
        )


def image_planes(image: ImageData, *, rgb: str = "error") -> tuple[np.ndarray, list[str]]:
    """Split an image into 2-D planes.

    Parameters
    ----------
    image : ImageData
        As returned by :func:`microsr.io.read_image` (axes from ``TZCYX``, ending in YX or YXC).
    rgb : {"error", "luminance"}
        What to do with colour (``YXC``) images.

    Returns
    -------
    planes : np.ndarray
        (N, Y, X) in the file's dtype (float64 luma in [16/255, 235/255] for ``rgb="luminance"``).
    labels : list of str
        N labels such as ``""`` (single plane), ``"z=3"`` or ``"t=0,z=3"``.
    """
    arr, axes, path = image.array, image.axes, image.path
    if axes.endswith("YXC"):
        n = arr.shape[-1]
        if rgb != "luminance" or n != 3:
            raise InputError(
                path,
                f"colour image with {n} samples per pixel; microsr trains on one channel. Convert "
                "to grayscale, or use the geometry-prior YCbCr path (train on the Y channel, "
                "rgb='luminance')"
                if n == 3
                else f"colour image with {n} samples per pixel (RGBA?); save it as grayscale or RGB",
            )
        from microsr.data.color import rgb_to_ycbcr

        top = float(np.iinfo(arr.dtype).max) if arr.dtype.kind in "ui" else 1.0  # floats: [0, 1]
        arr = rgb_to_ycbcr(arr.astype(np.float64) / top)[..., 0]
        axes = axes[:-1]
    if "C" in axes and arr.shape[axes.index("C")] > 1:
        raise InputError(
            path,
            f"image has {arr.shape[axes.index('C')]} channels (axes {image.axes}); save each "
            "channel as its own file and train one model per channel",
        )
    lead = [a for a in axes if a not in "YX"]
    arr = np.moveaxis(arr, [axes.index(a) for a in lead], list(range(len(lead))))
    lead_shape = arr.shape[: len(lead)]
    planes = arr.reshape(-1, *arr.shape[-2:])
    labels = []
    for idx in np.ndindex(*lead_shape):
        labels.append(",".join(f"{a.lower()}={i}" for a, i in zip(lead, idx) if a != "C"))
    if len(labels) == 1:
        labels = [""]
    return planes, labels


def _norm_cfg(norm: NormConfig, rng: np.random.Generator | None) -> NormConfig:
    if rng is None or norm.kind != "percentile":
        return norm
    low, high = random_percentiles(rng)
    return norm.model_copy(update={"low": low, "high": high})


def load_pair_arrays(
    pairs: Sequence[ImagePair],
    norm: NormConfig,
    *,
    scale: int | None = None,
    percentile_rng: np.random.Generator | None = None,
    rgb: str = "error",
) -> list[PairArrays]:
    """Read, split into planes and normalise every pair.

    Parameters
    ----------
    pairs : sequence of ImagePair
        From :func:`microsr.data.pairs.find_pairs`.
    norm : NormConfig
        Applied to LR and HR of each file independently.
    scale : int, optional
        If given, shapes are checked again (HR = scale x LR).
    percentile_rng : np.random.Generator, optional
        For ``kind="percentile"`` in training: draw low in [1, 3] and high in [99.5, 99.9]
        per file (CSBDeep) instead of ``norm.low/high``.
    rgb : {"error", "luminance"}
        See :func:`image_planes`.

    Returns
    -------
    list of PairArrays
        One per plane, in pair order.
    """
    items: list[PairArrays] = []
    for pair in pairs:
        lr_img, hr_img = read_image(pair.lr), read_image(pair.hr)
        lr_planes, labels = image_planes(lr_img, rgb=rgb)
        hr_planes, _ = image_planes(hr_img, rgb=rgb)
        s = scale or max(1, hr_planes.shape[-1] // lr_planes.shape[-1])
        check_pair_shapes(pair.lr, lr_planes.shape, "ZYX", pair.hr, hr_planes.shape, "ZYX", s)
        mask = None
        if pair.mask is not None:
            if len(lr_planes) > 1:
                raise InputError(pair.mask, "parsing masks are supported for 2-D images only")
            from microsr.data.masks import read_mask

            mask = read_mask(pair.mask, hr_planes.shape[-2:]).astype(np.float32)
        lr_n, lr_p = normalize(lr_planes, _norm_cfg(norm, percentile_rng))
        hr_n, hr_p = normalize(hr_planes, _norm_cfg(norm, percentile_rng))
        for k, label in enumerate(labels):
            item = PairArrays.plane(
                pair, label, lr_n[k], hr_n[k], (lr_p, hr_p), mask=mask, pixel_size=lr_img.pixel_size
            )
            items.append(item)
    return items
