"""Losses: pixel losses (MSE, L1, Charbonnier, SSIM, MS-SSIM), their weighted sums, and the
multi-output recipes of the seeds (MHTCUN cascade, geometry prior), all registered by name."""

from importlib import import_module

from microsr.losses.registry import (
    LossFn,
    build_registered_loss,
    get_loss_factory,
    list_losses,
    register_loss,
)

_MODULES = ["pixel", "cascade", "geometry", "adversarial"]
for _mod in _MODULES:
    import_module(f"microsr.losses.{_mod}")

__all__ = ["LossFn", "build_registered_loss", "get_loss_factory", "list_losses", "register_loss"]
