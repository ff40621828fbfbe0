"""The training loop on Lightning Fabric: explicit, short, exactly resumable.

Step ``s`` (0-based) trains on ``batcher.batch(s * world_size + rank)``, a pure function of the seed
and that index, so a resumed run draws exactly the batches of an uninterrupted one and each DDP rank
draws different ones. Every ``val_every`` steps (and at the last step) the loop validates, saves
``weights/last.safetensors``, ``weights/best.safetensors`` on improvement, the resume state
``checkpoint/last.pt``, ``model.json``, ``log.csv`` and the loss curves; only rank 0 writes files.
With ``checkpoint_every`` the resume state (and log.csv) is also written between validations, and
a Ctrl-C finishes the current step and writes it before stopping (:mod:`microsr.engine.interrupt`).
The resume state holds the not-yet-logged step losses, so a resumed log equals an uninterrupted one.
With ``ema_decay`` a moving average of the weights (:mod:`microsr.engine.ema`) is what validation
sees and the weight files hold; it is part of the resume state.
"""

from __future__ import annotations

import inspect
import math
import random
import warnings
from pathlib import Path

import numpy as np
import torch

from microsr.engine import build
from microsr.engine.checkpoint import (
    atomic_write_text,
    load_checkpoint,
    rng_state,
    save_checkpoint,
    set_rng_state,
)
from microsr.engine.config import TrainConfig, dump_config
from microsr.engine.data import TrainingData
from microsr.engine.ema import WeightEMA
from microsr.engine.interrupt import StopRequest
from microsr.engine.progress import ProgressBar
from microsr.engine.records import RunLog, plot_loss_curves
from microsr.engine.validate import validate
from microsr.errors import ConfigError, InputError
from microsr.inference.model_io import save_model_folder, save_weights
from microsr.losses.adversarial import discriminator_loss, generator_loss
from microsr.losses.pixel import build_loss
from microsr.models import count_parameters, create_discriminator, create_model, final_output, get_spec


def _check_run_folder(cfg: TrainConfig) -> None:
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
    elif out.exists() and {p.name for p in out.iterdir()} - {"config.yaml"}:
        raise InputError(out, "run folder is not empty; continue it with --resume or choose a new --out")


def _build_models(cfg: TrainConfig):
    spec = get_spec(cfg.model.name)
    if not spec.trainable:
        raise ConfigError(f"model {cfg.model.name!r} has no weights to train")
    try:  # an unsupported scale or a bad option is the user's input, not a crash
        model = create_model(
            cfg.model.name,
            cfg.in_channels,
            cfg.out_channels,
            cfg.scale,
            tiny=cfg.model.tiny,
            **cfg.model.options,
        )
    except (ValueError, TypeError, RuntimeError) as exc:
        raise ConfigError(
            f"cannot build model {cfg.model.name!r} with scale {cfg.scale} and options "
            f"{cfg.model.options}: {exc}"
        ) from None
    if cfg.init_from is not None and not cfg.resume:
        _init_from(model, cfg)
    adv = cfg.adversarial
    use_gan = adv.enabled if adv.enabled is not None else spec.discriminator is not None
    disc = None
    if use_gan:
        name = adv.discriminator or spec.discriminator
        if name is None:
            raise ConfigError(
                f"adversarial training enabled but model {cfg.model.name!r} names no "
                "discriminator: set adversarial.discriminator"
            )
        from microsr.models.registry import _DISCRIMINATORS

        options = dict(adv.options)
        builder = _DISCRIMINATORS.get(name)
        if builder is not None and "patch_size" in inspect.signature(builder).parameters:
            options.setdefault("patch_size", cfg.scale * cfg.data.patch_size)  # fixed-size D (SRGAN)
        try:
            disc = create_discriminator(name, cfg.out_channels, **options)
        except (ValueError, TypeError, RuntimeError) as exc:
            raise ConfigError(f"cannot build discriminator {name!r} with options {options}: {exc}") from None
    return spec, model, disc


def _init_from(model: torch.nn.Module, cfg: TrainConfig) -> None:
    from microsr.inference.model_io import load_model_folder

    src, info = load_model_folder(cfg.init_from, weights="best", device="cpu")
    here = (cfg.model.name, cfg.model.tiny, cfg.model.options, cfg.in_channels, cfg.out_channels, cfg.scale)
    there = (info.name, info.tiny, info.options, info.in_channels, info.out_channels, info.scale)
    if here != there:
        raise ConfigError(
            f"init_from {cfg.init_from}: its model (name, tiny, options, in, out, scale) "
            f"= {there} differs from this run's {here}"
        )
    model.load_state_dict(src.state_dict())


def run_training(cfg: TrainConfig, data: TrainingData, *, progress: bool = True) -> Path:
    """Train ``cfg`` on prepared ``data``; returns the run folder (see :func:`microsr.engine.train`)."""
    if cfg.num_threads:
        torch.set_num_threads(cfg.num_threads)
    fabric = build.make_fabric(cfg)
    fabric.launch()
    out, rank0 = Path(cfg.out), fabric.global_rank == 0
    _check_run_folder(cfg)
    fabric.barrier()
    random.seed(cfg.seed)
    np.random.seed(cfg.seed % 2**32)
    torch.manual_seed(cfg.seed)
    spec, model, disc = _build_models(cfg)
    pass_mask = spec.needs_mask and build.takes_mask(model)
    if spec.needs_mask and not data.has_masks:
        raise InputError(None, f"model {cfg.model.name!r} needs parsing masks for training: give --mask DIR")
    loss_fn = build_loss(cfg.loss or spec.default_loss)
    n_val = data.summary.get("val_images", len(data.val_batches))
    if rank0 and 0 < n_val < 3:  # measured: one image picked a worse checkpoint (docs/benchmarks.md)
        warnings.warn(
            f"only {n_val} validation image(s): the best weights are chosen on very little "
            "data; give more (--val-lr/--val-hr, or a larger val_fraction) or compare with "
            "`microsr predict --weights last`",
            UserWarning,
            stacklevel=2,
        )
    epoch = max(1, math.ceil(data.epoch_steps / fabric.world_size))  # W processes share an epoch
    total = cfg.steps or (cfg.epochs or 10) * epoch
    val_every = min(cfg.val_every or epoch, total)
    o = cfg.optimizer
    opt = build.make_optimizer(model.parameters(), o.name, o.lr, o.betas, o.weight_decay)
    sched = build.make_scheduler(cfg, opt, total)
    f_model, f_opt = fabric.setup(model, opt)
    ema = WeightEMA(model, cfg.ema_decay) if cfg.ema_decay else None
    shown = model if ema is None else ema.module  # what validation sees and the weight files hold
    d_opt = f_disc = f_dopt = None
    if disc is not None:
        d_opt = build.make_optimizer(disc.parameters(), o.name, cfg.adversarial.d_lr, o.betas, o.weight_decay)
        f_disc, f_dopt = fabric.setup(disc, d_opt)
    tracker, start, ckpt = build.Tracker.new(cfg.monitor), 0, None
    if cfg.resume:
        ckpt = load_checkpoint(out / "checkpoint" / "last.pt")
        build.check_fingerprint(ckpt["fingerprint"], cfg)
        if sched is not None and cfg.schedule.name in ("onecycle", "cosine") and ckpt["total_steps"] != total:
            raise ConfigError(
                f"schedule {cfg.schedule.name!r} depends on the total number of steps; "
                f"it was {ckpt['total_steps']}, now {total}: resume with the same steps"
            )
        model.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["optimizer"])
        if sched is not None:
            sched.load_state_dict(ckpt["scheduler"])
        if disc is not None:
            disc.load_state_dict(ckpt["discriminator"])
            d_opt.load_state_dict(ckpt["d_optimizer"])
        if ema is not None:
            ema.load_state_dict(ckpt["ema"])
        tracker = build.Tracker(**ckpt["tracker"])
        start = int(ckpt["step"])
    log = RunLog(out / "log.csv", keep_before=start if cfg.resume else None)
    if rank0:
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_text(out / "config.yaml", dump_config(cfg))
    if ckpt is not None:
        set_rng_state(ckpt["rng"])
    world, rank, dev = fabric.world_size, fabric.global_rank, fabric.device

    def forward(m, batch):
        return m(batch["lr"], batch["mask"]) if pass_mask else m(batch["lr"])

    def save_resume(step: int) -> None:
        if not rank0:
            return
        save_checkpoint(
            out / "checkpoint" / "last.pt",
            {
                "step": step,
                "total_steps": total,
                "model": model.state_dict(),
                "optimizer": opt.state_dict(),
                "scheduler": None if sched is None else sched.state_dict(),
                "discriminator": None if disc is None else disc.state_dict(),
                "d_optimizer": None if d_opt is None else d_opt.state_dict(),
                "ema": None if ema is None else ema.state_dict(),
                "tracker": tracker.state(),
                "rng": rng_state(),
                "fingerprint": build.fingerprint(cfg),
                "pending_losses": acc,
            },
        )
        log.flush()

    def save_all(step: int, metrics: dict, improved: bool, stopped: bool, final: bool) -> None:
        if not rank0:
            return
        save_weights(shown, out / "weights" / "last.safetensors")
        if improved or not data.val_batches or not (out / "weights" / "best.safetensors").is_file():
            save_weights(shown, out / "weights" / "best.safetensors")
        save_resume(step)
        validation = {
            "step": step,
            **metrics,
            "best_step": tracker.best_step,
            "monitor": cfg.monitor,
            "best": tracker.best,
        }
        save_model_folder(
            out,
            shown,
            name=cfg.model.name,
            scale=cfg.scale,
            in_channels=cfg.in_channels,
            out_channels=cfg.out_channels,
            options=cfg.model.options,
            tiny=cfg.model.tiny,
            normalization=cfg.data.normalization.model_dump(mode="json"),
            data=data.summary,
            validation={
                k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                for k, v in validation.items()
            },
            which=(),
            extra={
                "training": {
                    "steps_done": step,
                    "total_steps": total,
                    "loss": cfg.loss or spec.default_loss,
                    "stopped_early": stopped,
                    "ema_decay": cfg.ema_decay,
                    "parameters": count_parameters(model),
                }
            },
        )
        if final:  # matplotlib costs seconds: draw the curves once, at the end of the run
            plot_loss_curves(log, out)

    bar = ProgressBar(
        total,
        start,
        enabled=progress and rank0,
        title=f"{cfg.model.name} x{cfg.scale}, {count_parameters(model):,} params",
    )
    acc: dict[str, list[float]] = {k: list(v) for k, v in (ckpt or {}).get("pending_losses", {}).items()}
    stopped = False
    with bar, StopRequest() as stop:
        for s in range(start, total):
            batch = {k: v.to(dev) for k, v in data.batcher.batch(s * world + rank).items()}
            f_model.train()
            output = forward(f_model, batch)
            loss, parts = loss_fn(output, batch)
            parts = {f"loss_{k}": v for k, v in parts.items()}  # never collides with val columns
            if f_disc is not None:
                fake = final_output(output)
                g_adv = generator_loss(f_disc(fake))
                parts = {**parts, "loss_pixel": loss.detach(), "loss_g_adv": g_adv.detach()}
                loss = loss + cfg.adversarial.adv_weight * g_adv
            if not torch.isfinite(loss):
                raise ConfigError(
                    f"training diverged: the loss is {float(loss.detach())} at step {s + 1}; start a "
                    "new run (e.g. --init-from this run) with a lower learning rate"
                )
            f_opt.zero_grad(set_to_none=True)
            fabric.backward(loss)
            f_opt.step()
            if ema is not None:
                ema.update(model)
            if f_disc is not None and s % cfg.adversarial.g_steps_per_d_step == 0:
                d_loss, d_parts = discriminator_loss(f_disc(batch["hr"]), f_disc(fake.detach()))
                f_dopt.zero_grad(set_to_none=True)
                fabric.backward(d_loss)
                f_dopt.step()
                parts = {**parts, "d_loss": d_loss.detach(), **d_parts}
            if sched is not None and cfg.schedule.name in build.PER_STEP_SCHEDULES:
                sched.step()
            for k, v in {"loss": loss.detach(), **parts}.items():
                acc.setdefault(k, []).append(float(v))
            done = s + 1
            is_val = done % val_every == 0 or done == total
            bar.update(done, acc["loss"][-1])
            if done % cfg.log_every == 0 or is_val:
                means = {k: float(np.mean(v)) for k, v in acc.items()}
                if world > 1:
                    red = fabric.all_reduce(torch.tensor(list(means.values()), device=dev), reduce_op="mean")
                    means = dict(zip(means, red.cpu().tolist()))
                log.add(step=done, epoch=done / epoch, phase="train", lr=opt.param_groups[0]["lr"], **means)
                acc = {}
            if is_val:
                metrics = validate(shown, data.val_batches, loss_fn, forward, dev)
                value = metrics[cfg.monitor]
                improved = (
                    tracker.update(value, done, cfg.early_stopping.min_delta)
                    if math.isfinite(value)
                    else False
                )
                if sched is not None and cfg.schedule.name == "plateau" and math.isfinite(value):
                    sched.step(value)
                log.add(step=done, epoch=done / epoch, phase="val", **metrics)
                patience = cfg.early_stopping.patience
                stopped = patience is not None and tracker.bad >= patience and done < total
                save_all(done, metrics, improved, stopped, final=stopped or done == total)
                bar.note(
                    f"step {done}: val loss {metrics['val_loss']:.4g}, PSNR {metrics['psnr']:.2f} dB, "
                    f"SSIM {metrics['ssim']:.4f}" + (" (best)" if improved else "")
                )
                if stopped:
                    bar.note(f"early stopping: no improvement in {patience} validations")
                    break
            scheduled = bool(cfg.checkpoint_every) and done % cfg.checkpoint_every == 0
            if not is_val and (scheduled or stop.requested):  # a validation has just saved it
                save_resume(done)
            if stop.requested:
                bar.note(
                    f"interrupted after step {done}; resume state saved: continue with "
                    f"`microsr train --out {out} --resume`",
                    always=rank0,
                )
                raise KeyboardInterrupt
    fabric.barrier()
    if rank0 and start >= total:
        log.flush()
        plot_loss_curves(log, out)
        bar.note(f"nothing to do: the run already has {start} of {total} steps")
    return out
