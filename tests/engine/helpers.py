"""Tiny in-memory training data for engine tests (no files, no data layer)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from microsr.engine.config import make_config
from microsr.engine.data import TrainingData


def smooth_images(gen: torch.Generator, n: int, size: int) -> torch.Tensor:
    """(n, 1, size, size) smooth random images in [0, 1] (blurred noise, rescaled)."""
    x = torch.rand(n, 1, size // 4, size // 4, generator=gen)
    x = F.interpolate(x, size=(size, size), mode="bicubic", align_corners=False)
    x = x - x.amin(dim=(2, 3), keepdim=True)
    return x / x.amax(dim=(2, 3), keepdim=True).clamp_min(1e-6)


class TinyBatcher:
    """``batch(i)`` is a pure function of (seed, i): HR from a seeded generator, LR = 2x2 mean."""

    def __init__(self, seed: int, batch_size: int = 2, patch: int = 8, scale: int = 2, masks: bool = False):
        self.seed, self.bs, self.patch, self.scale, self.masks = seed, batch_size, patch, scale, masks

    def batch(self, index: int) -> dict[str, torch.Tensor]:
        gen = torch.Generator().manual_seed(self.seed * 1_000_003 + index)
        hr = smooth_images(gen, self.bs, self.patch * self.scale)
        out = {"lr": F.avg_pool2d(hr, self.scale), "hr": hr}
        if self.masks:
            labels = (hr[:, 0] > 0.5).long() + (hr[:, 0] > 0.8).long()
            out["mask"] = F.one_hot(labels, 3).permute(0, 3, 1, 2).float()
        return out


def tiny_data(seed: int = 0, n_val: int = 2, masks: bool = False, epoch_steps: int = 4) -> TrainingData:
    gen = torch.Generator().manual_seed(999)
    val = []
    for _ in range(n_val):
        hr = smooth_images(gen, 1, 24)
        b = {"lr": F.avg_pool2d(hr, 2), "hr": hr}
        if masks:
            labels = (hr[:, 0] > 0.5).long()
            b["mask"] = F.one_hot(labels, 3).permute(0, 3, 1, 2).float()
        val.append(b)
    return TrainingData(
        batcher=TinyBatcher(seed, masks=masks),
        val_batches=val,
        epoch_steps=epoch_steps,
        has_masks=masks,
        summary={"train_images": 3, "val_images": n_val},
    )


def tiny_config(out, **over):
    base = {
        "out": str(out),
        "model": {"name": "srcnn", "tiny": True},
        "data": {"lr_dir": "unused-lr", "hr_dir": "unused-hr", "patch_size": 8, "batch_size": 2},
        "steps": 12,
        "val_every": 6,
        "log_every": 1,
        "device": "cpu",
        "optimizer": {"lr": 1e-3},
        "num_threads": 1,
    }
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = {**base[key], **value}
        else:
            base[key] = value
    return make_config(base)
