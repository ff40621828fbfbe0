"""SSIM and MS-SSIM with the standard constants (Wang et al. 2004, 2003).

Convention: Gaussian window sigma 1.5 truncated to 11 x 11 pixels, K1 = 0.01, K2 = 0.03,
population (not sample) covariance, ``C1 = (K1 * data_range)**2``, ``C2 = (K2 * data_range)**2``,
mean over the "valid" region only (the 5-pixel border where the window does not fit is excluded).
This is scikit-image's ``structural_similarity(gaussian_weights=True, sigma=1.5,
use_sample_covariance=False, data_range=...)`` (used under the hood for :func:`ssim`) and equals
pytorch-msssim's ``ssim``.

:func:`ms_ssim` follows pytorch-msssim 1.0 exactly (written in numpy so that evaluation does not need
torch): 5 scales with weights 0.0448, 0.2856, 0.3001, 0.2363, 0.1333; at each scale the contrast-
structure term (mean of the cs map, negative values set to 0) is kept; between scales both images
are 2 x 2 average-pooled (zero padding of 1 on odd sides, counted in the average); the last scale
contributes its full SSIM. The smallest image side must exceed (11 - 1) * 2**4 = 160 pixels so that
the window still fits at the 5th scale; smaller images raise ``ValueError``.

Images with more than two dimensions (Z, T or C stacks, shape (..., Y, X)) are scored slice by slice
in 2-D and the slice values are averaged.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import correlate1d
from skimage.metrics import structural_similarity

from microsr.metrics.core import check_range, prepare

SIGMA = 1.5
WIN_SIZE = 11
K1, K2 = 0.01, 0.03
MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
MS_SSIM_MIN_SIZE = (WIN_SIZE - 1) * 2 ** (len(MS_SSIM_WEIGHTS) - 1) + 1  # 161


def _slices(g: np.ndarray, p: np.ndarray):
    g2 = g.reshape(-1, *g.shape[-2:])
    p2 = p.reshape(-1, *p.shape[-2:])
    return zip(g2, p2)


def ssim(gt: np.ndarray, pred: np.ndarray, *, data_range: float, full: bool = False, crop_border: int = 0):
    """Structural similarity (mean SSIM) with the standard Gaussian-window convention.

    Parameters
    ----------
    gt, pred : np.ndarray
        Same shape (..., Y, X), Y and X >= 11 after cropping.
    data_range : float
        Intensity range of the ground truth scale (> 0), never guessed from the dtype.
    full : bool
        Also return the SSIM map.
    crop_border : int
        Pixels dropped on each side of Y and X first.

    Returns
    -------
    float or (float, np.ndarray)
        Mean SSIM in [-1, 1] (1 for identical images) and, with ``full=True``, the SSIM map of the
        same shape as the (cropped) input, float64; map values within 5 px of the border are
        computed with reflected padding and are not part of the mean.
    """
    dr = check_range(data_range)
    g, p = prepare(gt, pred, crop_border)
    if min(g.shape[-2:]) < WIN_SIZE:
        raise ValueError(f"SSIM needs images of at least {WIN_SIZE}x{WIN_SIZE} pixels, got {g.shape[-2:]}")
    values, maps = [], []
    for g2, p2 in _slices(g, p):
        out = structural_similarity(
            g2,
            p2,
            data_range=dr,
            gaussian_weights=True,
            sigma=SIGMA,
            use_sample_covariance=False,
            K1=K1,
            K2=K2,
            full=full,
        )
        if full:
            values.append(out[0])
            maps.append(out[1])
        else:
            values.append(out)
    mean = float(np.mean(values))
    if full:
        return mean, np.stack(maps).reshape(g.shape)
    return mean


def _gauss_1d() -> np.ndarray:
    coords = np.arange(WIN_SIZE, dtype=np.float64) - WIN_SIZE // 2
    g = np.exp(-(coords**2) / (2 * SIGMA**2))
    return g / g.sum()


def _filter_valid(x: np.ndarray, win: np.ndarray) -> np.ndarray:
    """Separable Gaussian filter keeping only the 'valid' part (no padding effects)."""
    h = WIN_SIZE // 2
    out = correlate1d(x, win, axis=0, mode="constant")[h:-h]
    return correlate1d(out, win, axis=1, mode="constant")[:, h:-h]


def _ssim_cs(x: np.ndarray, y: np.ndarray, dr: float, win: np.ndarray) -> tuple[float, float]:
    c1, c2 = (K1 * dr) ** 2, (K2 * dr) ** 2
    mu1, mu2 = _filter_valid(x, win), _filter_valid(y, win)
    s11 = _filter_valid(x * x, win) - mu1**2
    s22 = _filter_valid(y * y, win) - mu2**2
    s12 = _filter_valid(x * y, win) - mu1 * mu2
    cs_map = (2 * s12 + c2) / (s11 + s22 + c2)
    ssim_map = (2 * mu1 * mu2 + c1) / (mu1**2 + mu2**2 + c1) * cs_map
    return float(ssim_map.mean()), float(cs_map.mean())


def _avg_pool2(x: np.ndarray) -> np.ndarray:
    """torch ``avg_pool2d(kernel 2, stride 2, padding=(H % 2, W % 2))`` with zero padding counted."""
    ph, pw = x.shape[0] % 2, x.shape[1] % 2
    xp = np.pad(x, ((ph, ph), (pw, pw)))
    oh, ow = (xp.shape[0] - 2) // 2 + 1, (xp.shape[1] - 2) // 2 + 1
    xp = xp[: 2 * oh, : 2 * ow]
    return xp.reshape(oh, 2, ow, 2).mean(axis=(1, 3))


def _ms_ssim_2d(x: np.ndarray, y: np.ndarray, dr: float) -> float:
    win = _gauss_1d()
    factors = []
    for level in range(len(MS_SSIM_WEIGHTS)):
        s, cs = _ssim_cs(x, y, dr, win)
        if level < len(MS_SSIM_WEIGHTS) - 1:
            factors.append(max(cs, 0.0))
            x, y = _avg_pool2(x), _avg_pool2(y)
    factors.append(max(s, 0.0))
    return float(np.prod(np.power(factors, MS_SSIM_WEIGHTS)))


def ms_ssim(gt: np.ndarray, pred: np.ndarray, *, data_range: float, crop_border: int = 0) -> float:
    """Multi-scale SSIM (5 scales), numerically equal to ``pytorch_msssim.ms_ssim``.

    Parameters
    ----------
    gt, pred : np.ndarray
        Same shape (..., Y, X); the smaller of Y and X (after cropping) must be at least
        :data:`MS_SSIM_MIN_SIZE` = 161 pixels.
    data_range : float
        Intensity range of the ground truth scale (> 0).
    crop_border : int
        Pixels dropped on each side of Y and X first.

    Returns
    -------
    float
        MS-SSIM in [0, 1] (1 for identical images).

    Raises
    ------
    ValueError
        For images smaller than 161 pixels on a side (the window no longer fits at scale 5).
    """
    dr = check_range(data_range)
    g, p = prepare(gt, pred, crop_border)
    if min(g.shape[-2:]) < MS_SSIM_MIN_SIZE:
        raise ValueError(
            f"MS-SSIM needs images of at least {MS_SSIM_MIN_SIZE}x{MS_SSIM_MIN_SIZE} pixels "
            f"(5 scales, 11 px window), got {g.shape[-2]}x{g.shape[-1]}"
        )
    return float(np.mean([_ms_ssim_2d(g2, p2, dr) for g2, p2 in _slices(g, p)]))
