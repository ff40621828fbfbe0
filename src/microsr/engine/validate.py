"""Validation on whole (centre-cropped) validation images: loss, PSNR and SSIM.

Choice (documented in ``docs/training.md``): every validation image is used whole, except that
images larger than ``data.val_crop`` LR pixels per side are centre-cropped to that size (HR: the
aligned ``scale * val_crop`` crop), so a validation costs at most ``n_val`` forward passes of a
256 px image by default. Metrics use the *normalised* ground truth with data range 1 (the range of
normalised intensities): PSNR = 10 log10(1 / MSE) and SSIM with a Gaussian window of 11 px, sigma
1.5, K1 0.01, K2 0.03, valid region only (pytorch-msssim / scikit-image conventions), averaged over
images. The prediction is not clipped.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import Tensor

from microsr.inference.tta import TTA_GROUPS, TransformAverage
from microsr.losses.pixel import ssim_torch
from microsr.models.outputs import final_output


def centre_crop(lr: np.ndarray, hr: np.ndarray, mask: np.ndarray | None, crop: int | None, scale: int):
    """Aligned centre crop of an LR/HR(/mask) pair to at most ``crop`` LR px per side.

    Parameters
    ----------
    lr : np.ndarray
        (h, w) LR image.
    hr : np.ndarray
        (s*h, s*w) HR image.
    mask : np.ndarray or None
        (3, s*h, s*w) parsing map.
    crop : int or None
        Largest LR side kept (``None``: no crop).
    scale : int
        Up-sampling factor.
    """
    if crop is None:
        return lr, hr, mask
    h, w = lr.shape[-2:]
    ch, cw = min(h, crop), min(w, crop)
    y, x = (h - ch) // 2, (w - cw) // 2
    lr_c = lr[..., y : y + ch, x : x + cw]
    sl = (slice(scale * y, scale * (y + ch)), slice(scale * x, scale * (x + cw)))
    hr_c = hr[(..., *sl)]
    mask_c = None if mask is None else mask[(..., *sl)]
    return lr_c, hr_c, mask_c


def make_val_batch(lr: np.ndarray, hr: np.ndarray, mask: np.ndarray | None = None) -> dict[str, Tensor]:
    """One validation image as a batch of one: ``lr`` (1,1,h,w), ``hr`` (1,1,sh,sw), ``mask`` (1,3,sh,sw)."""
    batch = {
        "lr": torch.from_numpy(np.ascontiguousarray(lr, dtype=np.float32))[None, None],
        "hr": torch.from_numpy(np.ascontiguousarray(hr, dtype=np.float32))[None, None],
    }
    if mask is not None:
        batch["mask"] = torch.from_numpy(np.ascontiguousarray(mask, dtype=np.float32))[None]
    return batch


@torch.no_grad()
def validate(
    model: torch.nn.Module,
    batches: list[dict[str, Tensor]],
    loss_fn: Callable,
    forward: Callable[[torch.nn.Module, dict[str, Tensor]], Any],
    device: torch.device,
) -> dict[str, float]:
    """Mean validation loss, PSNR (dB) and SSIM over the validation images.

    Parameters
    ----------
    model : nn.Module
        The generator (switched to eval mode here and back to train mode at the end).
    batches : list of dict
        From :func:`make_val_batch`.
    loss_fn : callable
        The training loss ``loss(output, batch) -> (total, parts)``.
    forward : callable
        ``forward(model, batch)`` (passes the mask to models that take one).
    device : torch.device
        Where the model lives.

    Returns
    -------
    dict
        ``val_loss``, ``psnr``, ``ssim`` (NaN when there are no validation images).
    """
    if not batches:
        return {"val_loss": math.nan, "psnr": math.nan, "ssim": math.nan}
    was_training = model.training
    model.eval()
    losses, psnrs, ssims = [], [], []
    try:
        for cpu_batch in batches:
            batch = {k: v.to(device) for k, v in cpu_batch.items()}
            out = forward(model, batch)
            loss, _ = loss_fn(out, batch)
            pred = final_output(out).float()
            gt = batch["hr"].float()
            mse = torch.mean((pred - gt) ** 2).item()
            losses.append(float(loss))
            psnrs.append(10.0 * math.log10(1.0 / mse) if mse > 0 else math.inf)
            ssims.append(float(ssim_torch(pred, gt, data_range=1.0)))
    finally:
        model.train(was_training)
    return {"val_loss": float(np.mean(losses)), "psnr": float(np.mean(psnrs)), "ssim": float(np.mean(ssims))}


# Relative improvement a larger test-time augmentation group must bring. Measured on real images
# (docs/real-data.md): gains that held on the test part were 0.7-2.1 % of the validation loss,
# while one run whose mirrors validated 0.5 % better lost 0.5 dB on its test part.
TTA_MARGIN = 0.01


@torch.no_grad()
def choose_tta(
    model: torch.nn.Module,
    batches: list[dict[str, Tensor]],
    loss_fn: Callable,
    forward: Callable[[torch.nn.Module, dict[str, Tensor]], Any],
    device: torch.device,
    monitor: str,
) -> dict[str, Any]:
    """Score every test-time augmentation group on the validation images; choose the best.

    Each group of :data:`~microsr.inference.tta.TTA_GROUPS` (``none``, ``flips``, ``all``) is
    validated like the model itself (:func:`validate`) and judged on ``monitor`` (lower
    ``val_loss``, higher ``psnr`` / ``ssim``); a larger group is chosen only when it betters the
    chosen smaller one by more than :data:`TTA_MARGIN` (relative), so that the noise of a small
    validation strip does not buy a 4x or 8x slower prediction. Returns
    ``{"chosen": NAME, "monitor": monitor, "scores": {NAME: value}}`` (``chosen`` is ``none`` when
    there are no validation images).
    """
    if not batches:
        return {"chosen": "none", "monitor": monitor, "scores": {}}
    scores = {
        name: validate(TransformAverage(model, ks), batches, loss_fn, forward, device)[monitor]
        for name, ks in TTA_GROUPS.items()
    }
    sign = 1.0 if monitor == "val_loss" else -1.0  # lower loss, higher PSNR / SSIM
    chosen = "none"
    for name, value in scores.items():  # smallest group first: a larger one must clearly do better
        best = scores[chosen]
        if not math.isnan(value) and (math.isnan(best) or sign * (best - value) > TTA_MARGIN * abs(best)):
            chosen = name
    return {"chosen": chosen, "monitor": monitor, "scores": scores}
