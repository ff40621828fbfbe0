"""Scores from notebooks and scripts: :func:`evaluate` and its :class:`Evaluation`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from microsr.api._display import PathLike, table, thumbnails
from microsr.api.prediction import Prediction, as_image
from microsr.errors import InputError
from microsr.io import ImageData


@dataclass
class Evaluation:
    """Scores of a prediction (and of bicubic up-sampling of the LR, when given) against GT."""

    rows: list[dict[str, Any]]
    ssim_map: np.ndarray
    error_map: np.ndarray

    def __getitem__(self, method: str) -> dict[str, Any]:
        return next(r for r in self.rows if r["method"] == method)

    def __repr__(self) -> str:
        return (
            "Evaluation("
            + "; ".join(f"{r['method']}: PSNR {r['psnr']:.2f} dB, SSIM {r['ssim']:.4f}" for r in self.rows)
            + ")"
        )

    def _repr_html_(self) -> str:
        cols = ("method", "psnr", "ssim", "nrmse", "data_range", "fit_a", "fit_b")
        scores = table([{c: r.get(c) for c in cols} for r in self.rows], "PSNR (dB), SSIM, NRMSE against GT")
        return scores + thumbnails({"SSIM map": self.ssim_map, "absolute error": self.error_map})


def _plane(x: PathLike | np.ndarray | Prediction | ImageData) -> np.ndarray:
    if isinstance(x, Prediction):
        x = x.image
    arr = as_image(x).array if not isinstance(x, np.ndarray) else x
    if arr.ndim != 2:
        raise InputError(None, f"evaluate takes 2-D images; got shape {arr.shape}")
    return np.asarray(arr, dtype=np.float64)


def evaluate(
    pred: PathLike | np.ndarray | Prediction,
    gt: PathLike | np.ndarray,
    *,
    lr: PathLike | np.ndarray | None = None,
    fit: str = "affine",
    data_range: float | None = None,
    crop_border: int = 0,
) -> Evaluation:
    """PSNR/SSIM/NRMSE of ``pred`` (and bicubic of ``lr``) against ``gt``, plus SSIM and error maps.

    ``fit="affine"`` (default) rescales each prediction to the GT's intensities by least squares
    first, because a network's output is in normalised units; ``data_range`` ``None`` is the GT's
    ``max - min``. The conventions are those of ``microsr evaluate`` (``docs/qc.md``).
    """
    from microsr.evaluation import maps
    from microsr.evaluation.evaluate import bicubic_baseline, evaluate_pair

    g, p = _plane(gt), _plane(pred)
    try:
        rows = [
            {
                "method": "model",
                **evaluate_pair(g, p, fit=fit, data_range=data_range, crop_border=crop_border),
            }
        ]
        if lr is not None:
            low = _plane(lr)
            up = bicubic_baseline(low, g.shape[-1] // low.shape[-1])
            score = evaluate_pair(g, up, fit=fit, data_range=data_range, crop_border=crop_border)
            rows.append({"method": "bicubic", **score})
        fitted = maps.fit_scale(p, g)[0] if fit == "affine" else p
        smap = maps.ssim_map(g, fitted, data_range=rows[0]["data_range"])[1]
    except ValueError as exc:
        raise InputError(None, str(exc)) from None
    return Evaluation(rows, smap, maps.abs_error_map(g, p, fit=fit == "affine"))
