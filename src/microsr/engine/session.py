"""Setting up a training run: the run folder, the networks, the optimisers and the recipe.

:func:`setup` turns a validated :class:`~microsr.engine.config.TrainConfig` and prepared
:class:`~microsr.engine.data.TrainingData` into a :class:`Session`, the one object the loop's
named pieces (:mod:`microsr.engine.loop`) pass around. On resume it restores the saved state
through :func:`microsr.engine.state.restore_state`.
"""

from __future__ import annotations

import inspect
import math
import random
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from microsr.engine import build
from microsr.engine.config import TrainConfig, dump_config
from microsr.engine.data import TrainingData
from microsr.engine.ema import WeightEMA
from microsr.engine.recipes import AdversarialRecipe, PlainRecipe
from microsr.engine.records import RunLog
from microsr.errors import ConfigError, InputError
from microsr.io import write_text_atomic
from microsr.losses.pixel import build_loss
from microsr.models import DISCRIMINATORS, ModelSpec, create_discriminator, create_model, get_spec


def check_run_folder(cfg: TrainConfig) -> None:
    """Refuse a run folder that is a file, a non-empty folder without resume, or resume without state."""
    out = Path(cfg.out)
    if out.exists() and not out.is_dir():
        raise InputError(out, "run folder path exists and is a file")
    if cfg.resume:
        if not (out / "checkpoint" / "last.pt").is_file():
            raise InputError(
                out,
                "no checkpoint to resume from (checkpoint/last.pt is missing); "
                "start a new run without --resume",
            )
    # a folder holding only config.yaml is a run that stopped before its first checkpoint: reuse it
    # (hidden files: the lock and a killed run's temporaries, which train() removes under the lock)
    elif out.exists() and {p.name for p in out.iterdir() if not p.name.startswith(".")} - {"config.yaml"}:
        raise InputError(out, "run folder is not empty; continue it with --resume or choose a new --out")


def build_generator(cfg: TrainConfig) -> tuple[ModelSpec, torch.nn.Module]:
    """The generator of ``cfg`` (initialised from ``cfg.init_from`` on a fresh run)."""
    spec = get_spec(cfg.model.name)
    if not spec.trainable:
        raise ConfigError(f"model {cfg.model.name!r} has no weights to train")
    m = cfg.model
    try:  # an unsupported scale or a bad option is the user's input, not a crash
        model = create_model(m.name, cfg.in_channels, cfg.out_channels, cfg.scale, tiny=m.tiny, **m.options)
    except (ValueError, TypeError, RuntimeError) as exc:
        raise ConfigError(
            f"cannot build model {m.name!r} with scale {cfg.scale} and options {m.options}: {exc}"
        ) from None
    if cfg.init_from is not None and not cfg.resume:
        init_from(model, cfg)
    return spec, model


def build_discriminator(cfg: TrainConfig, spec: ModelSpec) -> torch.nn.Module | None:
    """The discriminator of an adversarial run, or ``None`` for a plain one."""
    adv = cfg.adversarial
    if not (adv.enabled if adv.enabled is not None else spec.discriminator is not None):
        return None
    name = adv.discriminator or spec.discriminator
    if name is None:
        raise ConfigError(
            f"adversarial training enabled but model {cfg.model.name!r} names no "
            "discriminator: set adversarial.discriminator"
        )
    options = dict(adv.options)
    if name in DISCRIMINATORS and "patch_size" in inspect.signature(DISCRIMINATORS.get(name)).parameters:
        options.setdefault("patch_size", cfg.scale * cfg.data.patch_size)  # fixed-size D (SRGAN)
    try:
        return create_discriminator(name, cfg.out_channels, **options)
    except (ValueError, TypeError, RuntimeError) as exc:
        raise ConfigError(f"cannot build discriminator {name!r} with options {options}: {exc}") from None


def init_from(model: torch.nn.Module, cfg: TrainConfig) -> None:
    """Load the best weights of the run folder ``cfg.init_from`` after checking it is the same model."""
    from microsr.modelcard import load_model_folder

    if cfg.init_from is None:
        return
    src, info = load_model_folder(cfg.init_from, weights="best", device="cpu")
    here = (cfg.model.name, cfg.model.tiny, cfg.model.options, cfg.in_channels, cfg.out_channels, cfg.scale)
    there = (info.name, info.tiny, info.options, info.in_channels, info.out_channels, info.scale)
    if here != there:
        raise ConfigError(
            f"init_from {cfg.init_from}: its model (name, tiny, options, in, out, scale) "
            f"= {there} differs from this run's {here}"
        )
    model.load_state_dict(src.state_dict())


@dataclass
class Session:
    """Everything the loop's pieces share; built by :func:`setup`."""

    cfg: TrainConfig
    data: TrainingData
    fabric: Any
    spec: ModelSpec
    model: torch.nn.Module
    shown: torch.nn.Module  # what validation sees and the weight files hold (the EMA when on)
    optimizer: torch.optim.Optimizer
    scheduler: Any
    ema: WeightEMA | None
    recipe: PlainRecipe
    total: int
    epoch: int
    val_every: int
    tracker: build.Tracker
    start: int = 0
    log: RunLog | None = None
    pending: dict[str, list[float]] = field(default_factory=dict)  # step losses not yet logged

    @property
    def out(self) -> Path:
        return Path(self.cfg.out)

    @property
    def rank0(self) -> bool:
        return self.fabric.global_rank == 0

    def forward(self, model: torch.nn.Module, batch: dict[str, torch.Tensor]):
        """``model(lr, mask)`` for models that take the parsing mask, else ``model(lr)``."""
        return self.recipe.forward(model, batch)


def _warn_few_validation_images(data: TrainingData) -> None:
    n_val = data.summary.get("val_images", len(data.val_batches))
    if 0 < n_val < 3 and data.summary.get("val_source") != "region":  # region strips: not whole images
        # measured: one image picked a worse checkpoint (docs/benchmarks.md)
        warnings.warn(
            f"only {n_val} validation image(s): the best weights are chosen on very little "
            "data; give more (--val-lr/--val-hr, or a larger val_fraction) or compare with "
            "`microsr predict --weights last`",
            UserWarning,
            stacklevel=4,
        )


def _make_recipe(cfg: TrainConfig, fabric, spec: ModelSpec, model, disc, data) -> PlainRecipe:
    if spec.needs_mask and not data.has_masks:
        raise InputError(None, f"model {cfg.model.name!r} needs parsing masks for training: give --mask DIR")
    pass_mask = spec.mask_input

    def forward(m, batch):
        return m(batch["lr"], batch["mask"]) if pass_mask else m(batch["lr"])

    o = cfg.optimizer
    opt = build.make_optimizer(model.parameters(), o.name, o.lr, o.betas, o.weight_decay)
    loss_fn = build_loss(cfg.loss or spec.default_loss, cfg.loss_options)
    f_model, f_opt = fabric.setup(model, opt)
    ema = WeightEMA(model, cfg.ema_decay) if cfg.ema_decay else None  # after setup: on the device
    plain = dict(fabric=fabric, model=model, optimizer=opt, f_model=f_model, f_opt=f_opt)
    plain.update(loss_fn=loss_fn, forward=forward, ema=ema)
    if disc is None:
        return PlainRecipe(**plain)
    adv = cfg.adversarial
    d_opt = build.make_optimizer(disc.parameters(), o.name, adv.d_lr, o.betas, o.weight_decay)
    f_disc, f_dopt = fabric.setup(disc, d_opt)
    return AdversarialRecipe(
        disc=disc,
        d_opt=d_opt,
        f_disc=f_disc,
        f_dopt=f_dopt,
        adv_weight=adv.adv_weight,
        g_steps_per_d_step=adv.g_steps_per_d_step,
        **plain,
    )


def setup(cfg: TrainConfig, data: TrainingData) -> Session:
    """Launch Fabric, seed, build networks, optimisers and schedule, and restore a resumed run."""
    from microsr.engine.state import restore_state

    if cfg.num_threads:
        torch.set_num_threads(cfg.num_threads)
    fabric = build.make_fabric(cfg)
    fabric.launch()
    check_run_folder(cfg)
    fabric.barrier()
    random.seed(cfg.seed)
    np.random.seed(cfg.seed % 2**32)
    torch.manual_seed(cfg.seed)
    spec, model = build_generator(cfg)
    disc = build_discriminator(cfg, spec)
    if fabric.global_rank == 0:
        _warn_few_validation_images(data)
    epoch = max(1, math.ceil(data.epoch_steps / fabric.world_size))  # W processes share an epoch
    total = cfg.steps or (cfg.epochs or 10) * epoch
    recipe = _make_recipe(cfg, fabric, spec, model, disc, data)
    session = Session(
        cfg=cfg,
        data=data,
        fabric=fabric,
        spec=spec,
        model=model,
        shown=model if recipe.ema is None else recipe.ema.module,
        optimizer=recipe.optimizer,
        scheduler=build.make_scheduler(cfg, recipe.optimizer, total),
        ema=recipe.ema,
        recipe=recipe,
        total=total,
        epoch=epoch,
        val_every=min(cfg.val_every or epoch, total),
        tracker=build.Tracker.new(cfg.monitor),
    )
    rng = restore_state(session) if cfg.resume else None
    session.log = RunLog(session.out / "log.csv", keep_before=session.start if cfg.resume else None)
    if session.rank0:
        session.out.mkdir(parents=True, exist_ok=True)
        write_text_atomic(session.out / "config.yaml", dump_config(cfg))
    if rng is not None:
        from microsr.engine.checkpoint import set_rng_state

        set_rng_state(rng)
    return session
