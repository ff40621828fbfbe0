"""Image quality metrics in numpy (ground truth first, explicit ``data_range``).

See :mod:`microsr.metrics.core` and :mod:`microsr.metrics.ssim` for the exact conventions.
"""

from microsr.metrics.core import crop_border, fit_affine, nrmse, psnr
from microsr.metrics.registry import METRIC_NAMES, METRICS, Metric
from microsr.metrics.ssim import MS_SSIM_MIN_SIZE, MS_SSIM_WEIGHTS, ms_ssim, ssim

__all__ = [
    "psnr",
    "ssim",
    "ms_ssim",
    "nrmse",
    "fit_affine",
    "crop_border",
    "MS_SSIM_MIN_SIZE",
    "MS_SSIM_WEIGHTS",
    "METRICS",
    "METRIC_NAMES",
    "Metric",
]
