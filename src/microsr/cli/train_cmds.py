"""``microsr train`` (its flags are in :mod:`microsr.cli.train_options`).

``register(app)`` adds each command through its own ``_register_*`` function, so further commands can
be added here the same way.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import typer

from microsr.cli.flags import MasksFlag, QuietFlag
from microsr.cli.run_paths import absolute_data_dirs
from microsr.cli.train_options import (
    BatchSizeFlag,
    BicubicResidualFlag,
    CheckpointEveryFlag,
    ConfigFlag,
    DeviceFlag,
    EmaFlag,
    EpochsFlag,
    HrFlag,
    InitFromFlag,
    LearningRateFlag,
    LossFlag,
    LrFlag,
    MinutesFlag,
    ModelFlag,
    NumThreadsFlag,
    OutFlag,
    PatchSizeFlag,
    RecipeFlag,
    ResumeFlag,
    ScaleFlag,
    SeedFlag,
    StepsFlag,
    TinyFlag,
    ValEveryFlag,
    ValFractionFlag,
    ValHrFlag,
    ValLrFlag,
    ValMaskFlag,
    WorkersFlag,
)
from microsr.errors import ConfigError, InputError


def _overrides(**flags: Any) -> dict[str, Any]:
    """CLI flags as dotted config keys; flags that were not given (None) are left out."""
    keys = {
        "lr": "data.lr_dir",
        "hr": "data.hr_dir",
        "mask": "data.mask_dir",
        "model": "model.name",
        "val_lr": "data.val_lr_dir",
        "val_hr": "data.val_hr_dir",
        "val_mask": "data.val_mask_dir",
        "batch_size": "data.batch_size",
        "patch_size": "data.patch_size",
        "learning_rate": "optimizer.lr",
        "tiny": "model.tiny",
        "bicubic_residual": "model.options.bicubic_residual",
        "ema": "ema_decay",
        "val_fraction": "data.val_fraction",
        "workers": "data.num_workers",
    }
    out = {}
    for name, value in flags.items():
        if value is None:
            continue
        out[keys.get(name, name)] = str(value) if isinstance(value, Path) else value
    return out


def _recipe_defaults(recipe, config, model, steps, epochs, minutes) -> dict[str, Any]:
    """The recipe's settings (below the config file and the flags); none for a config without --recipe."""
    from microsr.engine.budget import chosen_recipe, recipe_overrides

    name = chosen_recipe(recipe, model, has_config=config is not None)
    if name is None:
        return {}  # the config file's or the architecture's own settings
    if steps is None and epochs is None and minutes is None and name == "budget" and config is None:
        raise ConfigError("the budget recipe needs a budget: give --steps N or --minutes M")
    return recipe_overrides(name, model, steps)


def _fit_minutes(cfg, minutes: float):
    """``cfg`` with the steps that fit ``minutes`` (timed here) and validation three times."""
    from microsr.engine import make_config
    from microsr.engine.budget import seconds_per_step, steps_for_minutes

    per_step = seconds_per_step(cfg)
    steps = steps_for_minutes(minutes, per_step)
    typer.echo(f"time budget {minutes:g} min: {per_step:.3f} s per step here, so {steps} steps", err=True)
    data = cfg.model_dump(mode="json")
    data.update(steps=steps, epochs=None, minutes=minutes)
    if data.get("recipe") == "budget":
        data["val_every"] = max(steps // 3, 1)
    return make_config(data)


def train(
    out: OutFlag,
    lr: LrFlag = None,
    hr: HrFlag = None,
    model: ModelFlag = None,
    scale: ScaleFlag = None,
    config: ConfigFlag = None,
    steps: StepsFlag = None,
    epochs: EpochsFlag = None,
    batch_size: BatchSizeFlag = None,
    patch_size: PatchSizeFlag = None,
    resume: ResumeFlag = False,
    init_from: InitFromFlag = None,
    mask: MasksFlag = None,
    val_lr: ValLrFlag = None,
    val_hr: ValHrFlag = None,
    val_mask: ValMaskFlag = None,
    tiny: TinyFlag = None,
    bicubic_residual: BicubicResidualFlag = None,
    seed: SeedFlag = None,
    val_every: ValEveryFlag = None,
    checkpoint_every: CheckpointEveryFlag = None,
    ema: EmaFlag = None,
    loss: LossFlag = None,
    learning_rate: LearningRateFlag = None,
    device: DeviceFlag = None,
    num_threads: NumThreadsFlag = None,
    workers: WorkersFlag = None,
    quiet: QuietFlag = False,
    val_fraction: ValFractionFlag = None,
    recipe: RecipeFlag = None,
    minutes: MinutesFlag = None,
) -> None:
    """Train a super-resolution model on LR/HR pairs; writes weights, logs and curves to --out."""
    from microsr.engine import load_config
    from microsr.engine import train as run_train

    if sum(v is not None for v in (steps, epochs, minutes)) > 1:
        raise ConfigError("--steps, --epochs and --minutes are mutually exclusive: give one of them")
    config, run_config = _config_file(out, config, resume, lr, hr)
    given = _overrides(
        out=out,
        lr=lr,
        hr=hr,
        model=model,
        scale=scale,
        steps=steps,
        epochs=epochs,
        batch_size=batch_size,
        patch_size=patch_size,
        resume=True if resume else False,
        init_from=init_from,
        mask=mask,
        val_lr=val_lr,
        val_hr=val_hr,
        val_mask=val_mask,
        tiny=tiny,
        bicubic_residual=bicubic_residual,
        seed=seed,
        val_every=val_every,
        checkpoint_every=checkpoint_every,
        ema=ema,
        loss=loss,
        learning_rate=learning_rate,
        device="cuda" if device == "gpu" else device,
        num_threads=num_threads,
        workers=workers,
        val_fraction=val_fraction,
    )
    defaults = _recipe_defaults(recipe, config, model, steps, epochs, minutes)
    cfg = absolute_data_dirs(load_config(config, given, defaults), given, run_config)
    if minutes is not None:
        cfg = _fit_minutes(cfg, minutes)
    run = run_train(cfg, progress=not quiet)
    if int(os.environ.get("RANK", os.environ.get("SLURM_PROCID", "0"))) != 0:
        return  # data-parallel launch: rank 0 reports
    typer.echo(_summary_line(cfg, run))


def _config_file(
    out: Path, config: Path | None, resume: bool, lr: Path | None, hr: Path | None
) -> tuple[Path | None, Path | None]:
    """The config file to read and, when it is the resumed run's own ``config.yaml``, that file again."""
    if resume and not out.is_dir():
        raise InputError(
            out, "no run folder to resume here; check --out, or start a new run without --resume"
        )
    run_config = None
    if config is None and resume and (out / "config.yaml").is_file():
        config = run_config = out / "config.yaml"  # resume a run with its own settings unless told otherwise
    if config is None:
        missing = [flag for flag, value in (("--lr", lr), ("--hr", hr)) if value is None]
        if missing:
            raise InputError(None, f"give {', '.join(missing)} (or a --config file)")
    return config, run_config


def _summary_line(cfg: Any, run: Path) -> str:
    """What was trained where, with the last validation scores and their convention."""
    doc = json.loads((run / "model.json").read_text())
    v = doc.get("validation", {})
    summary = f"trained {cfg.model.name} x{cfg.scale} in {run}"
    if v.get("psnr") is not None:
        summary += (
            f" (last validation at step {v['step']}: PSNR {v['psnr']:.2f} dB, SSIM {v['ssim']:.4f}; "
            f"best weights from step {v['best_step']}; {validation_convention(cfg)})"
        )
    return summary


def validation_convention(cfg: Any) -> str:
    """How training validation scores (:mod:`microsr.engine.validate`), to label its numbers."""
    crop = cfg.data.val_crop
    where = f"centre crop of at most {crop} LR px" if crop else "whole images"
    return (
        f"normalised units, data range 1, no intensity fit, {where} "
        "(microsr evaluate scores predictions in ground-truth units: numbers differ)"
    )


def _register_train(app: typer.Typer) -> None:
    app.command("train")(train)


def register(app: typer.Typer) -> None:
    """Add ``train`` to the ``microsr`` app."""
    _register_train(app)
