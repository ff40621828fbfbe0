"""What one optimisation step does: the plain recipe and the adversarial one beside it.

A recipe owns the networks and optimisers of a step. :meth:`PlainRecipe.fit_step` runs the
generator forward, the loss, the backward pass, the optimiser step and the weight average; the
:class:`AdversarialRecipe` adds the generator's adversarial term and, every
``g_steps_per_d_step`` steps, one discriminator step (SRGAN/DFGAN style). Both say which of their
parts the resume state holds (:meth:`state`/:meth:`load_state`), so the loop never branches on GAN.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn

from microsr.errors import ConfigError
from microsr.losses.adversarial import discriminator_loss, generator_loss
from microsr.losses.registry import LossFn
from microsr.models import final_output

Forward = Callable[[nn.Module, dict[str, Tensor]], Any]


class PlainRecipe:
    """Supervised training with the pixel loss only.

    Parameters
    ----------
    fabric : Fabric
        Launches backward passes (precision, DDP).
    model, optimizer
        The raw generator and its optimiser (state saved and restored from these).
    f_model, f_opt
        The same after ``fabric.setup`` (what the step runs).
    loss_fn : LossFn
        ``loss(output, batch) -> (total, parts)``.
    forward : callable
        ``forward(model, batch)``; passes the mask to models that take one.
    ema : WeightEMA or None
        Moving average of the weights, updated after each generator step.
    """

    def __init__(self, fabric, model, optimizer, f_model, f_opt, loss_fn: LossFn, forward: Forward, ema=None):
        self.fabric, self.model, self.optimizer = fabric, model, optimizer
        self.f_model, self.f_opt = f_model, f_opt
        self.loss_fn, self.forward, self.ema = loss_fn, forward, ema

    def generator_loss(self, output, batch: dict[str, Tensor]) -> tuple[Tensor, dict[str, Tensor]]:
        """The loss to back-propagate through the generator and its parts for the log."""
        loss, parts = self.loss_fn(output, batch)
        return loss, {f"loss_{k}": v for k, v in parts.items()}  # never collides with val columns

    def fit_step(self, batch: dict[str, Tensor], step: int) -> dict[str, Tensor]:
        """One optimisation step at 0-based ``step``; returns ``loss`` and its parts (detached)."""
        self.f_model.train()
        output = self.forward(self.f_model, batch)
        loss, parts = self.generator_loss(output, batch)
        if not torch.isfinite(loss):
            raise ConfigError(
                f"training diverged: the loss is {float(loss.detach())} at step {step + 1}; start a "
                "new run (e.g. --init-from this run) with a lower learning rate"
            )
        self.f_opt.zero_grad(set_to_none=True)
        self.fabric.backward(loss)
        self.f_opt.step()
        if self.ema is not None:
            self.ema.update(self.model)
        return {"loss": loss.detach(), **parts, **self.after_step(output, batch, step)}

    def after_step(self, output, batch: dict[str, Tensor], step: int) -> dict[str, Tensor]:
        """Work after the generator step (none here); returns more parts for the log."""
        return {}

    def state(self) -> dict[str, Any]:
        """This recipe's share of the resume state beyond the generator's."""
        return {"discriminator": None, "d_optimizer": None}

    def load_state(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state` saved."""


class AdversarialRecipe(PlainRecipe):
    """Pixel loss plus ``adv_weight`` times the generator's adversarial loss, and a discriminator.

    Parameters
    ----------
    disc, d_opt, f_disc, f_dopt
        The discriminator and its optimiser, raw and after ``fabric.setup``.
    adv_weight : float
        Weight of the adversarial term in the generator loss.
    g_steps_per_d_step : int
        The discriminator trains on steps ``0, k, 2k, ...``.
    **plain
        The arguments of :class:`PlainRecipe`.
    """

    def __init__(self, *, disc, d_opt, f_disc, f_dopt, adv_weight: float, g_steps_per_d_step: int, **plain):
        super().__init__(**plain)
        self.disc, self.d_opt, self.f_disc, self.f_dopt = disc, d_opt, f_disc, f_dopt
        self.adv_weight, self.every = adv_weight, g_steps_per_d_step

    def generator_loss(self, output, batch: dict[str, Tensor]) -> tuple[Tensor, dict[str, Tensor]]:
        loss, parts = super().generator_loss(output, batch)
        g_adv = generator_loss(self.f_disc(final_output(output)))
        parts = {**parts, "loss_pixel": loss.detach(), "loss_g_adv": g_adv.detach()}
        return loss + self.adv_weight * g_adv, parts

    def after_step(self, output, batch: dict[str, Tensor], step: int) -> dict[str, Tensor]:
        if step % self.every != 0:
            return {}
        fake = final_output(output).detach()
        d_loss, d_parts = discriminator_loss(self.f_disc(batch["hr"]), self.f_disc(fake))
        self.f_dopt.zero_grad(set_to_none=True)
        self.fabric.backward(d_loss)
        self.f_dopt.step()
        return {"d_loss": d_loss.detach(), **d_parts}

    def state(self) -> dict[str, Any]:
        return {"discriminator": self.disc.state_dict(), "d_optimizer": self.d_opt.state_dict()}

    def load_state(self, state: dict[str, Any]) -> None:
        self.disc.load_state_dict(state["discriminator"])
        self.d_opt.load_state_dict(state["d_optimizer"])
