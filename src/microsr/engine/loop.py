"""The training loop on Lightning Fabric, in named pieces: set up, fit step, validate, checkpoint.

Step ``s`` (0-based) trains on ``batcher.batch(s * world_size + rank)``, a pure function of the seed
and that index, so a resumed run draws exactly the batches of an uninterrupted one and each DDP rank
draws different ones; with ``data.num_workers`` they are prepared ahead in DataLoader worker
processes (:mod:`microsr.engine.prefetch`), the same batches in the same order. Every ``val_every`` steps (and at the last step) the loop validates, saves
``weights/last.safetensors``, ``weights/best.safetensors`` on improvement, the resume state
``checkpoint/last.pt``, ``model.json``, ``log.csv`` and the loss curves; only rank 0 writes files.
With ``checkpoint_every`` the resume state (and log.csv) is also written between validations, and
a Ctrl-C finishes the current step and writes it before stopping (:mod:`microsr.engine.interrupt`).
The resume state holds the not-yet-logged step losses, so a resumed log equals an uninterrupted one.
With ``ema_decay`` a moving average of the weights (:mod:`microsr.engine.ema`) is what validation
sees and the weight files hold; it is part of the resume state.

The pieces: :func:`~microsr.engine.session.setup` builds the :class:`~microsr.engine.session.Session`,
:func:`fit_step` runs one step of its recipe (:mod:`microsr.engine.recipes`), :func:`log_step` adds
the training rows, :func:`validate_step` validates and :func:`save_outputs` writes the run's files,
with the resume state written by :func:`microsr.engine.state.save_state`.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from microsr.engine import build
from microsr.engine.config import TrainConfig
from microsr.engine.data import TrainingData
from microsr.engine.interrupt import StopRequest
from microsr.engine.prefetch import batch_feed
from microsr.engine.progress import ProgressBar, TrainCallback, TrainEvent
from microsr.engine.records import plot_loss_curves
from microsr.engine.session import Session, setup
from microsr.engine.state import save_state
from microsr.engine.validate import choose_tta, validate
from microsr.inference.tta import TTA_NAMES
from microsr.modelcard import save_model_folder, save_weights
from microsr.models import count_parameters


def fit_step(session: Session, step: int, batch: dict[str, Tensor] | None = None) -> float:
    """Train on the batch of 0-based ``step`` (drawn here unless given, e.g. prepared ahead by
    :func:`~microsr.engine.prefetch.batch_feed`), advance a per-step schedule; returns the loss."""
    fabric, cfg = session.fabric, session.cfg
    if batch is None:
        batch = session.data.batcher.batch(step * fabric.world_size + fabric.global_rank)
    batch = {k: v.to(fabric.device) for k, v in batch.items()}
    parts = session.recipe.fit_step(batch, step)
    if session.scheduler is not None and cfg.schedule.name in build.PER_STEP_SCHEDULES:
        session.scheduler.step()
    for k, v in parts.items():
        session.pending.setdefault(k, []).append(float(v))
    return session.pending["loss"][-1]


def log_step(session: Session, done: int) -> None:
    """Add one ``phase=train`` row with the mean of the pending step losses (averaged over ranks)."""
    fabric = session.fabric
    means = {k: float(np.mean(v)) for k, v in session.pending.items()}
    if fabric.world_size > 1:
        values = torch.tensor(list(means.values()), device=fabric.device)
        means = dict(zip(means, fabric.all_reduce(values, reduce_op="mean").cpu().tolist()))
    lr = session.optimizer.param_groups[0]["lr"]
    assert session.log is not None
    session.log.add(step=done, epoch=done / session.epoch, phase="train", lr=lr, **means)
    session.pending = {}


def validate_step(session: Session, done: int) -> tuple[dict[str, float], bool, bool]:
    """Validate after ``done`` steps; returns the metrics, whether they are the best so far and
    whether early stopping ends the run here."""
    cfg, s = session.cfg, session
    recipe = s.recipe
    metrics = validate(s.shown, s.data.val_batches, recipe.loss_fn, recipe.forward, s.fabric.device)
    value = metrics[cfg.monitor]
    improved = s.tracker.update(value, done, cfg.early_stopping.min_delta) if math.isfinite(value) else False
    if s.scheduler is not None and cfg.schedule.name == "plateau" and math.isfinite(value):
        s.scheduler.step(value)
    assert s.log is not None
    s.log.add(step=done, epoch=done / s.epoch, phase="val", **metrics)
    patience = cfg.early_stopping.patience
    stopped = patience is not None and s.tracker.bad >= patience and done < s.total
    return metrics, improved, stopped


def best_model(session: Session) -> torch.nn.Module:
    """A copy of the validated model holding the best weights (``weights/best.safetensors``)."""
    from safetensors.torch import load_file

    model = copy.deepcopy(session.shown)
    path = session.out / "weights" / "best.safetensors"
    model.load_state_dict(load_file(path, device=str(session.fabric.device)))
    return model


def tta_choice(session: Session) -> dict[str, Any]:
    """The test-time augmentation group the best weights validate best with (see ``choose_tta``)."""
    s = session
    args = (s.data.val_batches, s.recipe.loss_fn, s.recipe.forward, s.fabric.device, s.cfg.monitor)
    return choose_tta(best_model(s) if s.data.val_batches else s.shown, *args)


def save_outputs(session: Session, step: int, metrics: dict, improved: bool, stopped: bool) -> dict | None:
    """Write the weights, the resume state and ``model.json`` after a validation (rank 0 only).

    After the last validation the best weights' test-time augmentation group is chosen on the
    validation images and recorded (``model.json`` ``tta``); returns that record, else None.
    """
    if not session.rank0:
        return None
    s, cfg, out = session, session.cfg, session.out
    save_weights(s.shown, out / "weights" / "last.safetensors")
    if improved or not s.data.val_batches or not (out / "weights" / "best.safetensors").is_file():
        save_weights(s.shown, out / "weights" / "best.safetensors")
    save_state(s, step)
    validation = {
        "step": step,
        **metrics,
        "best_step": s.tracker.best_step,
        "monitor": cfg.monitor,
        "best": s.tracker.best,
    }
    training = {
        "steps_done": step,
        "total_steps": s.total,
        "loss": cfg.loss or s.spec.default_loss,
        "stopped_early": stopped,
        "ema_decay": cfg.ema_decay,
        "parameters": count_parameters(s.model),
    }
    tta = tta_choice(s) if stopped or step == s.total else None
    save_model_folder(
        out,
        s.shown,
        name=cfg.model.name,
        scale=cfg.scale,
        in_channels=cfg.in_channels,
        out_channels=cfg.out_channels,
        options=cfg.model.options,
        tiny=cfg.model.tiny,
        normalization=cfg.data.normalization.model_dump(mode="json"),
        data=s.data.summary,
        pixel_size=s.data.summary.get("lr_pixel_size"),
        validation={
            k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in validation.items()
        },
        which=(),
        extra={"training": training, **({} if tta is None else {"tta": tta})},
    )
    return tta


def _validate_and_save(session: Session, done: int, bar: ProgressBar) -> bool:
    """Validate, write the run's files and report; returns True when early stopping ends the run."""
    metrics, improved, stopped = validate_step(session, done)
    tta = save_outputs(session, done, metrics, improved, stopped)
    if session.rank0 and (stopped or done == session.total):  # matplotlib costs seconds: once, at the end
        assert session.log is not None
        plot_loss_curves(session.log, session.out)
    if session.data.val_batches:
        bar.note(
            f"step {done}: val loss {metrics['val_loss']:.4g}, PSNR {metrics['psnr']:.2f} dB, "
            f"SSIM {metrics['ssim']:.4f}" + (" (best)" if improved else "")
        )
    else:  # nothing held out (val_fraction 0): say what was saved, not a line of NaNs
        bar.note(f"step {done}: weights saved (no validation images: the last weights are the best)")
    if tta is not None and tta["chosen"] != "none":
        chosen, score = tta["chosen"], tta["scores"]
        bar.note(
            f"test-time augmentation: the average over {TTA_NAMES[chosen]} validates better "
            f"({tta['monitor']} {score[chosen]:.4g} against {score['none']:.4g}); `microsr predict` "
            "will use it (--tta none to switch off)"
        )
    if stopped:
        bar.note(f"early stopping: no improvement in {session.cfg.early_stopping.patience} validations")
    return stopped


def _event(s: Session, done: int, loss: float, is_val: bool) -> TrainEvent:
    rows = s.log.rows if s.log is not None else []
    val = dict(rows[-1]) if is_val and rows and rows[-1].get("phase") == "val" else None
    return TrainEvent(step=done, total=s.total, loss=loss, validation=val)


def run_training(
    cfg: TrainConfig, data: TrainingData, *, progress: bool = True, callback: TrainCallback | None = None
) -> Path:
    """Train ``cfg`` on prepared ``data``; returns the run folder (see :func:`microsr.engine.train`)."""
    s = setup(cfg, data)
    title = f"{cfg.model.name} x{cfg.scale}, {count_parameters(s.model):,} params"
    bar = ProgressBar(s.total, s.start, enabled=progress and s.rank0, title=title)
    world, rank = s.fabric.world_size, s.fabric.global_rank
    indices = range(s.start * world + rank, s.total * world, world)
    feed = batch_feed(s.data.batcher, indices, workers=cfg.data.num_workers)
    with bar, StopRequest() as stop, feed as batches:
        for step, batch in zip(range(s.start, s.total), batches):
            loss = fit_step(s, step, batch)
            done = step + 1
            is_val = done % s.val_every == 0 or done == s.total
            bar.update(done, loss)
            if done % cfg.log_every == 0 or is_val:
                log_step(s, done)
            if is_val and _validate_and_save(s, done, bar):
                break
            if callback is not None and callback(_event(s, done, loss, is_val)):
                stop.requested = True
            every = cfg.checkpoint_every
            scheduled = every is not None and done % every == 0
            if not is_val and (scheduled or stop.requested):  # a validation has just saved it
                save_state(s, done)
            if stop.requested:
                bar.note(
                    f"interrupted after step {done}; resume state saved: continue with "
                    f"`microsr train --out {s.out} --resume`",
                    always=s.rank0,
                )
                raise KeyboardInterrupt
    s.fabric.barrier()
    if s.rank0 and s.start >= s.total:
        assert s.log is not None
        s.log.flush()
        plot_loss_curves(s.log, s.out)
        bar.note(f"nothing to do: the run already has {s.start} of {s.total} steps")
    return s.out
