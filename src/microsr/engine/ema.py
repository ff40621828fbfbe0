"""Exponential moving average (EMA) of a model's weights, for validation and the saved weights.

After every optimiser step, ``ema = d_n * ema + (1 - d_n) * weights`` for every floating-point
parameter and buffer, with the warm-up ``d_n = min(decay, (1 + n) / (10 + n))`` after ``n`` earlier
updates (TensorFlow's ``ExponentialMovingAverage(num_updates=...)`` rule), so that short runs
(a few hundred steps on a CPU) average over their recent steps instead of staying near the random
initialisation that a fixed ``decay = 0.999`` would keep for thousands of steps. Integer buffers
(BatchNorm's ``num_batches_tracked``) are copied.

Written here rather than taken from ``torch.optim.swa_utils.AveragedModel``: with
``use_buffers=True`` that class applies the float averaging rule to integer buffers too, and
without it the buffers (BatchNorm statistics) of the average are never updated; timm's
``ModelEmaV3`` does what is needed but timm is a large dependency for thirty lines.
"""

from __future__ import annotations

import copy

import torch
from torch import nn


class WeightEMA:
    """EMA copy of ``model`` (same device, no gradients).

    Parameters
    ----------
    model : nn.Module
        The trained model; its current weights start the average.
    decay : float
        Upper limit of the per-step decay, in (0, 1); 0.999 averages over about 1000 steps once
        the warm-up has passed (after about 9000 updates).
    """

    def __init__(self, model: nn.Module, decay: float) -> None:
        if not 0.0 < decay < 1.0:
            raise ValueError(f"EMA decay must be in (0, 1), got {decay}")
        self.decay = float(decay)
        self.updates = 0
        self.module = copy.deepcopy(model).eval()
        for p in self.module.parameters():
            p.requires_grad_(False)

    def current_decay(self) -> float:
        """The decay the next update will use."""
        return min(self.decay, (1.0 + self.updates) / (10.0 + self.updates))

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """Move the average towards ``model``'s current weights (call after each optimiser step)."""
        d = self.current_decay()
        mine = self.module.state_dict()
        for name, value in model.state_dict().items():
            if value.is_floating_point():
                mine[name].lerp_(value.detach(), 1.0 - d)
            else:
                mine[name].copy_(value)
        self.updates += 1

    def state_dict(self) -> dict:
        """Tensors and plain values only (the resume checkpoint is loaded with ``weights_only``)."""
        return {"weights": self.module.state_dict(), "updates": self.updates, "decay": self.decay}

    def load_state_dict(self, state: dict) -> None:
        self.module.load_state_dict(state["weights"])
        self.updates = int(state["updates"])
        self.decay = float(state["decay"])
