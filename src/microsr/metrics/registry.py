"""The metrics microsr reports, registered by name with their conventions.

Each :class:`Metric` says how it is computed (``convention``, shown in reports and
``summary.json``) and which way is better; :data:`METRIC_NAMES` is the column order of every table
(evaluation CSVs, comparisons, QC).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from microsr.metrics.core import nrmse, psnr
from microsr.metrics.ssim import MS_SSIM_MIN_SIZE, ms_ssim, ssim
from microsr.registry import Registry


@dataclass(frozen=True)
class Metric:
    """A full-reference metric ``fn(gt, pred, *, data_range) -> float``."""

    name: str
    fn: Callable[..., float]
    higher_is_better: bool
    convention: str


METRICS: Registry[Metric] = Registry("metric")
for _metric in (
    Metric("psnr", psnr, True, "10*log10(data_range^2 / MSE) over all pixels, dB"),
    Metric(
        "ssim",
        ssim,
        True,
        "Gaussian window sigma 1.5 (11x11), K1 0.01, K2 0.03, population covariance, mean over the valid "
        "region (= skimage structural_similarity(gaussian_weights=True, sigma=1.5, use_sample_covariance=False))",
    ),
    Metric(
        "ms_ssim",
        ms_ssim,
        True,
        f"5 scales, weights 0.0448 0.2856 0.3001 0.2363 0.1333 (= pytorch-msssim); empty below {MS_SSIM_MIN_SIZE} px",
    ),
    Metric("nrmse", nrmse, False, "||gt - pred|| / ||gt|| (euclidean, skimage default)"),
):
    METRICS.register(_metric.name, _metric)

METRIC_NAMES = ("psnr", "ssim", "ms_ssim", "nrmse")
