"""Training recipes: settings chosen for the user's budget, or the architectures' paper settings.

``microsr train --lr L --hr H --scale S --out R`` with no ``--model`` and no ``--config`` trains the
recommended model with the ``budget`` recipe; ``--recipe paper`` keeps the per-architecture
settings of :class:`~microsr.engine.config.TrainConfig` (Adam 1e-4, no schedule, 64 px patches,
background rejection, the paper's loss), which suit 10^5 steps, not a few hundred. Both are plain
config overrides recorded in ``config.yaml`` (``recipe: budget``), and every flag or config-file
value given by the user wins over them.

How the budget recipe was chosen (measured on real images, one acquisition each, at 300 steps of 8
patches on a CPU: ``benchmarks/real_data.py``, ``benchmarks/real_data_ablation.py``,
``docs/real-data.md``): a small EDSR-baseline (32 features, 4 blocks) on the bicubic residual with
MSE and a cosine schedule from 1e-3 lost to a plain SRCNN (Adam at a constant 1e-3, MSE, uniformly
drawn patches) on every data set measured (by 0.1 to 3.4 dB PSNR); CSBDeep CARE's U-Net beat that
SRCNN, and CARE's U-Net with 3x3 kernels instead of 5x5 (``care-unet-k3``, 333k parameters) beat
it too at half the cost. So the recommended model is ``care-unet-k3`` with CARE's settings (MAE,
Adam at a constant 4e-4), 32 px LR patches (64 px on the HR grid it works on), batch 8 and no
background rejection (rejection starves the model of the background it must also render).
Against the SRCNN recipe (``--model srcnn``), mean of two seeds: +0.08, +0.29, +0.73 and +0.41 dB
on the four informative sets, SSIM higher on three, 0.007 lower on one; a step costs
about 1.5 SRCNN steps (0.26 against 0.17 s, one thread, idle machine).

Why 3x3 kernels rather than CARE's 5x5 (``care-unet``, also trained with CARE's settings under
``--recipe budget --model care-unet``): one image must give both training patches and a validation
strip with a margin of the receptive field, and the 5x5 network's field (23 LR px against 13) holds
out a fifth to a quarter of a small image; its step costs twice as much; and at 300 steps it was
ahead of the 3x3 network only with defocus on C. elegans (39.18 against 39.13 dB), behind it in low
light (31.03 against 31.58 dB on C. elegans, 29.23 against 29.36 on the nuclei).

No augmentation: rotating or mirroring a patch pair is only a valid new example when the
degradation is itself symmetric (an isotropic PSF, a sampling grid centred on the HR pixels). A
real one need not be: with an anisotropic PSF, or an LR grid that samples every second HR pixel,
a rotated or mirrored pair teaches a different degradation than the user's. Measured at 300 steps
(seed 0, same recipe otherwise, last weights, no validation hold-out): the dihedral augmentation
cost 2.1 dB on C. elegans with a disk PSF and point sampling (37.89 -> 35.80), 0.35 dB on the
nuclei (32.67 -> 32.32) and 1.0 dB on C. elegans with an anisotropic PSF and 2x2 binning (31.41 ->
30.40); with it switched off the recipe reproduces the plain SRCNN (32.67 both on the nuclei).

Tried on top of the SRCNN recipe and not taken (``benchmarks/real_data_ablation.py``, seed 0):
SRCNN on the bicubic residual (+1.2 dB on C. elegans but -0.17 dB on the nuclei and a lower SSIM on
both), a cosine schedule or an EMA of the weights (within 0.05 dB on the nuclei), 48 px patches
(2.25 times the pixels per step: too slow), and DenseED 2-2-2, a small encoder-decoder with a
larger receptive field (27.08 against 28.92 dB on the low-light nuclei).

Tried on top of ``care-unet-k3`` and not taken (two seeds, docs/real-data.md): 48 px patches
(+0.11 dB on the low-light nuclei, -1.69 dB on C. elegans in low light) and three convolutions
per level (+0.11 and +0.39 dB on the degraded electron micrographs, -0.30 dB on C. elegans in low
light, -0.50 dB on the two-detector pair): like the 5x5 kernels, a wider field helps lattices and
costs small images their training rows.

Best weights on the validation loss rather than PSNR (``+vloss`` in the ablation, seeds 0-3 on the
four informative sets): a strip's PSNR is dominated by its few brightest blocks, the loss (MAE for
``care-unet-k3``, the loss it trains on, as CARE keeps its best weights) weighs every pixel alike.
It chose other weights in 7 of 16 runs, better on the test part in 5 and worse in 2, +0.07 dB per
run on average (+0.00 to +0.13 dB per set).

A time budget (``--minutes``) becomes a step budget by timing a few training steps of the chosen
model at the chosen patch and batch size on this machine (:func:`seconds_per_step`).
"""

from __future__ import annotations

import math
import time
from typing import Any

RECOMMENDED_MODEL = "care-unet-k3"
RECIPES = ("budget", "paper")
OVERHEAD = 0.85  # share of a time budget spent in training steps (validation, checkpoints, start-up)
# Learning rate and loss of the budget recipe per architecture (measured, see the module docstring);
# other architectures train at BUDGET_LR with their own loss.
BUDGET_SETTINGS: dict[str, dict[str, Any]] = {
    "care-unet": {"optimizer.lr": 4e-4, "loss": "l1"},
    "care-unet-k3": {"optimizer.lr": 4e-4, "loss": "l1"},
    "srcnn": {"optimizer.lr": 1e-3, "loss": "mse"},
}
BUDGET_LR = 1e-3


def budget_recipe(model: str | None, steps: int | None) -> dict[str, Any]:
    """Config overrides (dotted keys) of the ``budget`` recipe for ``model`` (None: the recommended).

    Learning rate and loss come from :data:`BUDGET_SETTINGS` for the architectures measured there;
    another architecture trains at :data:`BUDGET_LR` with its own loss. Validation runs three times
    and the best weights are chosen on the validation loss (the training loss on the held-out strip).
    """
    name = model or RECOMMENDED_MODEL
    out: dict[str, Any] = {
        "recipe": "budget",
        "model.name": name,
        "optimizer.lr": BUDGET_LR,
        "schedule.name": "none",
        "data.patch_size": 32,
        "data.batch_size": 8,
        "data.foreground_threshold": None,
        "data.augment": False,
        "monitor": "val_loss",
        **BUDGET_SETTINGS.get(name, {}),
    }
    if steps is not None:
        out["val_every"] = max(steps // 3, 1)
    return out


def paper_recipe(model: str | None) -> dict[str, Any]:
    """Config overrides of the ``paper`` recipe: the recommended model at the config's defaults."""
    return {"recipe": "paper", "model.name": model or RECOMMENDED_MODEL}


def chosen_recipe(recipe: str | None, model: str | None, has_config: bool = False) -> str | None:
    """The recipe a run trains with: ``recipe`` when given; else ``budget`` when neither a model nor
    a config file was given; else ``None`` (the config file's or the architecture's own settings).
    One rule for ``microsr train`` and :func:`microsr.train`."""
    if recipe is None and (has_config or model is not None):
        return None
    return recipe or "budget"


def recipe_overrides(name: str, model: str | None, steps: int | None) -> dict[str, Any]:
    """Overrides of recipe ``name`` (one of :data:`RECIPES`)."""
    from microsr.errors import ConfigError

    if name == "budget":
        return budget_recipe(model, steps)
    if name == "paper":
        return paper_recipe(model)
    raise ConfigError(f"unknown recipe {name!r}: choose one of {', '.join(RECIPES)}")


def seconds_per_step(cfg, repeats: int = 3) -> float:
    """Median wall time of one training step (forward, loss, backward, Adam) of ``cfg``'s model.

    Random patches of ``cfg.data.patch_size`` and ``cfg.data.batch_size`` on the CPU with
    ``cfg.num_threads`` threads (one warm-up step first).
    """
    import torch

    from microsr.losses.pixel import build_loss
    from microsr.models import create_model, get_spec

    if cfg.num_threads:
        torch.set_num_threads(cfg.num_threads)
    spec = get_spec(cfg.model.name)
    model = create_model(cfg.model.name, 1, 1, cfg.scale, tiny=cfg.model.tiny, **cfg.model.options)
    loss_fn = build_loss(cfg.loss or spec.default_loss)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.optimizer.lr)
    p, b, s = cfg.data.patch_size, cfg.data.batch_size, cfg.scale
    gen = torch.Generator().manual_seed(0)
    batch = {"lr": torch.rand(b, 1, p, p, generator=gen), "hr": torch.rand(b, 1, s * p, s * p, generator=gen)}
    times = []
    for _ in range(repeats + 1):
        t0 = time.perf_counter()
        loss, _ = loss_fn(model(batch["lr"]), batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
        times.append(time.perf_counter() - t0)
    return sorted(times[1:])[len(times[1:]) // 2]


def steps_for_minutes(minutes: float, step_seconds: float) -> int:
    """Steps that fit ``minutes`` at ``step_seconds`` per step, keeping :data:`OVERHEAD` (at least 10)."""
    return max(10, math.floor(minutes * 60.0 * OVERHEAD / step_seconds))
