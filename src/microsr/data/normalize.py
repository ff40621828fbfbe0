"""Intensity normalisation with an exact record of how to undo it.

Every kind maps an image ``x`` to ``(x - offset) / scale`` (computed in float64, returned as
float32) and stores ``offset`` and ``scale`` in :class:`NormParams`, so ``denormalize`` is exactly
``x * scale + offset``. Kinds:

``minmax``      offset = min, scale = max - min (result in [0, 1]).
``percentile``  offset = P_low, scale = P_high - P_low (CSBDeep: 2 / 99.8 at prediction; training
                draws random percentiles with :func:`random_percentiles`).
``fixed``       offset = vmin, scale = vmax - vmin (e.g. 0..65535 for 16-bit data).
``meanstd``     offset = mean, scale = standard deviation.
``none``        offset = 0, scale = 1 (only the cast to float32).

Constant images (max == min, P_high == P_low, std == 0) would divide by zero; there the scale is
set to 1 so the result is ``x - offset`` (all zeros) and the inverse is still exact. ``clip=True``
clips the result to [0, 1] (ignored for ``meanstd`` and ``none``); clipping loses information, so
the inverse is then exact only inside the clipped range. NaN/inf inputs are refused with a
``ValueError`` (callers that know the file name turn it into an ``InputError`` first).

numpy's percentile is used as is; the only code here is bookkeeping of offset/scale.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, model_validator

NormKind = Literal["minmax", "percentile", "fixed", "meanstd", "none"]


class NormConfig(BaseModel):
    """How to normalise an image (stored in model.json).

    Attributes
    ----------
    kind : {"minmax", "percentile", "fixed", "meanstd", "none"}
    low, high : float
        Percentiles in [0, 100] for ``kind="percentile"`` (``low < high``).
    vmin, vmax : float or None
        Fixed input range for ``kind="fixed"`` (both required, ``vmax > vmin``).
    clip : bool
        Clip the normalised result to [0, 1].
    """

    model_config = ConfigDict(extra="forbid")

    kind: NormKind = "percentile"
    low: float = 2.0
    high: float = 99.8
    vmin: float | None = None
    vmax: float | None = None
    clip: bool = False

    @model_validator(mode="after")
    def _check(self) -> NormConfig:
        if not (0.0 <= self.low < self.high <= 100.0):
            raise ValueError(f"percentiles need 0 <= low < high <= 100, got {self.low}, {self.high}")
        if self.kind == "fixed":
            if self.vmin is None or self.vmax is None:
                raise ValueError("kind 'fixed' needs vmin and vmax (e.g. 0 and 65535)")
            if not self.vmax > self.vmin:
                raise ValueError(f"kind 'fixed' needs vmax > vmin, got {self.vmin}, {self.vmax}")
        return self


class NormParams(BaseModel):
    """Numbers used for one image: ``normalized = (x - offset) / scale``.

    Attributes
    ----------
    offset : float
        Value mapped to 0 (input units).
    scale : float
        Input units per normalised unit (> 0; 1 for constant images).
    """

    model_config = ConfigDict(extra="forbid")

    offset: float = 0.0
    scale: float = 1.0


def compute_params(array: np.ndarray, cfg: NormConfig) -> NormParams:
    """Return the offset/scale ``cfg`` would use for ``array`` (any shape, any real dtype)."""
    x = np.asarray(array)
    if cfg.kind == "none":
        return NormParams(offset=0.0, scale=1.0)
    if cfg.kind == "fixed":
        assert cfg.vmin is not None and cfg.vmax is not None  # the config requires both for "fixed"
        return NormParams(offset=float(cfg.vmin), scale=float(cfg.vmax) - float(cfg.vmin))
    if x.size == 0:
        raise ValueError("cannot normalise an empty image")
    x64 = x.astype(np.float64, copy=False)
    if not np.isfinite(x64).all():
        raise ValueError("image contains NaN or infinite values")
    if cfg.kind == "minmax":
        lo, hi = float(x64.min()), float(x64.max())
        offset, scale = lo, hi - lo
    elif cfg.kind == "percentile":
        lo, hi = np.percentile(x64, [cfg.low, cfg.high])
        offset, scale = float(lo), float(hi - lo)
    else:  # meanstd
        offset, scale = float(x64.mean()), float(x64.std())
    if not scale > 0.0:  # constant image (or constant between the percentiles)
        scale = 1.0
    return NormParams(offset=offset, scale=scale)


def apply_params(array: np.ndarray, params: NormParams, *, clip: bool = False) -> np.ndarray:
    """Map ``array`` to ``(array - offset) / scale`` as float32 (same shape)."""
    out = (np.asarray(array, dtype=np.float64) - params.offset) / params.scale
    if clip:
        np.clip(out, 0.0, 1.0, out=out)
    return out.astype(np.float32)


def normalize(array: np.ndarray, cfg: NormConfig) -> tuple[np.ndarray, NormParams]:
    """Normalise an image.

    Parameters
    ----------
    array : np.ndarray
        Image of any shape and real dtype (uint8/16, int, float32/64), finite values.
    cfg : NormConfig
        The normalisation to apply.

    Returns
    -------
    normalized : np.ndarray
        float32, same shape; roughly [0, 1] for minmax/percentile/fixed, zero mean / unit std
        for meanstd.
    params : NormParams
        What was used, for :func:`denormalize`.
    """
    params = compute_params(array, cfg)
    clip = cfg.clip and cfg.kind in ("minmax", "percentile", "fixed")
    return apply_params(array, params, clip=clip), params


def denormalize(array: np.ndarray, params: NormParams) -> np.ndarray:
    """Undo :func:`normalize`: ``array * scale + offset`` as float32 in the input's units."""
    return (np.asarray(array, dtype=np.float64) * params.scale + params.offset).astype(np.float32)


def random_percentiles(rng: np.random.Generator) -> tuple[float, float]:
    """Draw training percentiles as CSBDeep does: low in [1, 3], high in [99.5, 99.9].

    Returns
    -------
    (low, high) : tuple of float
    """
    return float(rng.uniform(1.0, 3.0)), float(rng.uniform(99.5, 99.9))
