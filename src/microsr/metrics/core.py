"""Pixel-wise image quality metrics: PSNR, NRMSE, affine intensity fit, border cropping.

Conventions (identical to scikit-image 0.26 ``skimage.metrics``):

* ground truth first, prediction second; both are converted to float64 before any arithmetic, so
  uint8/uint16 inputs never wrap around;
* ``data_range`` is keyword-only and required: it is never guessed from the dtype (a uint16 image
  with values 100..900 guessed as 65535 would inflate PSNR by ~37 dB). Callers usually pass the
  ground truth's ``max - min``;
* ``crop_border=n`` drops ``n`` pixels on every side of the last two (Y, X) axes of both images
  before the metric is computed, as in super-resolution papers that "shave" the border.

PSNR and NRMSE are two-line formulas, written out here so that the formula is in view; the tests
check them against ``skimage.metrics`` on real images.
"""

from __future__ import annotations

import numpy as np


def crop_border(array: np.ndarray, n: int) -> np.ndarray:
    """Remove ``n`` pixels from each side of the last two axes.

    Parameters
    ----------
    array : np.ndarray
        Shape (..., Y, X).
    n : int
        Border width in pixels, >= 0.

    Returns
    -------
    np.ndarray
        A view of shape (..., Y - 2n, X - 2n).
    """
    if n < 0:
        raise ValueError(f"crop_border must be >= 0, got {n}")
    if n == 0:
        return array
    if min(array.shape[-2:]) <= 2 * n:
        raise ValueError(f"crop_border={n} leaves nothing of a {array.shape[-2]}x{array.shape[-1]} image")
    return array[..., n:-n, n:-n]


def prepare(gt: np.ndarray, pred: np.ndarray, border: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Check shapes and finiteness, crop the border and return float64 copies ``(gt, pred)``."""
    gt = np.asarray(gt)
    pred = np.asarray(pred)
    if gt.shape != pred.shape:
        raise ValueError(f"shape mismatch: ground truth {gt.shape} vs prediction {pred.shape}")
    if gt.ndim < 2:
        raise ValueError(f"images must have at least 2 dimensions (Y, X), got shape {gt.shape}")
    g = crop_border(gt, border).astype(np.float64)
    p = crop_border(pred, border).astype(np.float64)
    if not (np.all(np.isfinite(g)) and np.all(np.isfinite(p))):
        raise ValueError("images contain NaN or infinite values")
    return g, p


def check_range(data_range: float) -> float:
    dr = float(data_range)
    if not (np.isfinite(dr) and dr > 0):
        raise ValueError(f"data_range must be a positive number, got {data_range}")
    return dr


def psnr(gt: np.ndarray, pred: np.ndarray, *, data_range: float, crop_border: int = 0) -> float:
    """Peak signal-to-noise ratio in dB: ``10 * log10(data_range**2 / MSE)``.

    Parameters
    ----------
    gt, pred : np.ndarray
        Same shape (..., Y, X), any real dtype. MSE is taken over all pixels.
    data_range : float
        Peak-to-peak range of the ground truth's intensity scale (> 0), e.g. ``gt.max() - gt.min()``.
    crop_border : int
        Pixels dropped on each side of Y and X first.

    Returns
    -------
    float
        PSNR in dB; ``inf`` for identical images. Equals
        ``skimage.metrics.peak_signal_noise_ratio(gt, pred, data_range=data_range)``.
    """
    dr = check_range(data_range)
    g, p = prepare(gt, pred, crop_border)
    mse = float(np.mean((g - p) ** 2))
    if mse == 0.0:
        return float("inf")
    return float(10.0 * np.log10(dr * dr / mse))


def nrmse(
    gt: np.ndarray, pred: np.ndarray, *, normalization: str = "euclidean", crop_border: int = 0
) -> float:
    """Normalised root-mean-square error (lower is better, 0 for identical images).

    Parameters
    ----------
    gt, pred : np.ndarray
        Same shape (..., Y, X).
    normalization : {"euclidean", "min-max", "mean"}
        Denominator, as in ``skimage.metrics.normalized_root_mse``: ``"euclidean"`` (default):
        ``||gt - pred|| / ||gt||``; ``"min-max"``: RMSE / (gt.max() - gt.min());
        ``"mean"``: RMSE / gt.mean().
    crop_border : int
        Pixels dropped on each side of Y and X first.

    Returns
    -------
    float
        NRMSE >= 0.
    """
    g, p = prepare(gt, pred, crop_border)
    rmse = float(np.sqrt(np.mean((g - p) ** 2)))
    if normalization == "euclidean":
        denom = float(np.sqrt(np.mean(g * g)))
    elif normalization == "min-max":
        denom = float(g.max() - g.min())
    elif normalization == "mean":
        denom = float(g.mean())
    else:
        raise ValueError(f"normalization must be 'euclidean', 'min-max' or 'mean', not {normalization!r}")
    if denom == 0.0:
        raise ValueError(f"NRMSE ({normalization}) is undefined: the ground truth's denominator is 0")
    return rmse / denom


def fit_affine(pred: np.ndarray, gt: np.ndarray) -> tuple[np.ndarray, tuple[float, float]]:
    """Least-squares intensity fit ``a * pred + b ~ gt`` (as ZeroCostDL4Mic / NanoJ-SQUIRREL).

    Note the argument order: the image to be rescaled first, the reference second.

    Parameters
    ----------
    pred : np.ndarray
        Image to rescale, any shape.
    gt : np.ndarray
        Reference of the same shape.

    Returns
    -------
    pred_scaled : np.ndarray
        float64 array ``a * pred + b``.
    (a, b) : tuple of float
        Closed-form least-squares solution ``a = cov(pred, gt) / var(pred)``,
        ``b = mean(gt) - a * mean(pred)``; for a constant ``pred``, ``a = 0`` and ``b = mean(gt)``.
    """
    p = np.asarray(pred, dtype=np.float64)
    g = np.asarray(gt, dtype=np.float64)
    if p.shape != g.shape:
        raise ValueError(f"shape mismatch: prediction {p.shape} vs ground truth {g.shape}")
    pm, gm = p.mean(), g.mean()
    var = float(np.mean((p - pm) ** 2))
    a = float(np.mean((p - pm) * (g - gm)) / var) if var > 0 else 0.0
    b = float(gm - a * pm)
    return a * p + b, (a, b)
