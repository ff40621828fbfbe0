"""``microsr train`` and ``microsr models``.

``register(app)`` adds each command through its own ``_register_*`` function, so further commands can
be added here the same way.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from microsr.cli.run_paths import absolute_data_dirs
from microsr.engine.config import DataSection, OptimizerSection
from microsr.errors import ConfigError, InputError

#: Defaults shown in ``microsr train --help`` (the flags themselves default to "not given", so that
#: a --config file or a resumed run's config.yaml keeps its own values).
_DEFAULT_BATCH = DataSection.model_fields["batch_size"].default
_DEFAULT_PATCH = DataSection.model_fields["patch_size"].default
_DEFAULT_LR = OptimizerSection.model_fields["lr"].default


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
    }
    out = {}
    for name, value in flags.items():
        if value is None:
            continue
        out[keys.get(name, name)] = str(value) if isinstance(value, Path) else value
    return out


def _recipe_defaults(recipe, config, model, steps, epochs, minutes) -> dict[str, Any]:
    """The recipe's settings (below the config file and the flags); none for a config without --recipe."""
    from microsr.engine.budget import recipe_overrides

    if recipe is None and (config is not None or model is not None):
        return {}  # the config file's or the architecture's own settings
    name = recipe or "budget"
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
    out: Annotated[Path, typer.Option("--out", help="Run folder (new, or existing with --resume).")],
    lr: Annotated[
        Optional[Path], typer.Option("--lr", help="Folder of low-resolution training images.")
    ] = None,
    hr: Annotated[
        Optional[Path], typer.Option("--hr", help="Folder of matching high-resolution images.")
    ] = None,
    model: Annotated[
        Optional[str],
        typer.Option(
            "--model",
            help="Architecture name, e.g. srcnn (see `microsr models`). "
            "(In `microsr predict`, --model is a trained run folder instead.)",
        ),
    ] = None,
    scale: Annotated[
        Optional[int], typer.Option("--scale", help="Up-sampling factor (HR px per LR px).")
    ] = None,
    config: Annotated[
        Optional[Path], typer.Option("--config", help="YAML training config; flags override it.")
    ] = None,
    steps: Annotated[
        Optional[int],
        typer.Option(
            "--steps",
            help="Optimiser steps (exclusive with --epochs); on a CPU, a few hundred with --tiny. "
            "\\[default: 10 epochs]",
        ),
    ] = None,
    epochs: Annotated[Optional[int], typer.Option("--epochs", help="Epochs (see docs/training.md).")] = None,
    batch_size: Annotated[
        Optional[int], typer.Option("--batch-size", help=f"Patches per step. \\[default: {_DEFAULT_BATCH}]")
    ] = None,
    patch_size: Annotated[
        Optional[int],
        typer.Option("--patch-size", help=f"LR patch size in px. \\[default: {_DEFAULT_PATCH}]"),
    ] = None,
    resume: Annotated[
        bool,
        typer.Option("--resume/--no-resume", help="Continue the run in --out from its checkpoint."),
    ] = False,
    init_from: Annotated[
        Optional[Path],
        typer.Option("--init-from", help="Start from the best weights of this earlier run (fine-tuning)."),
    ] = None,
    mask: Annotated[
        Optional[Path],
        typer.Option("--mask", "--masks", help="Folder of parsing masks (geometry prior, SFTGAN)."),
    ] = None,
    val_lr: Annotated[
        Optional[Path],
        typer.Option(
            "--val-lr", help="Folder of LR validation images (with --val-hr; then every --lr image trains)."
        ),
    ] = None,
    val_hr: Annotated[
        Optional[Path], typer.Option("--val-hr", help="Folder of matching HR validation images.")
    ] = None,
    val_mask: Annotated[
        Optional[Path],
        typer.Option("--val-mask", "--val-masks", help="Parsing masks of the validation images."),
    ] = None,
    tiny: Annotated[
        Optional[bool],
        typer.Option("--tiny/--no-tiny", help="Small version of the architecture (tests, CPU runs)."),
    ] = None,
    bicubic_residual: Annotated[
        Optional[bool],
        typer.Option(
            "--bicubic-residual/--no-bicubic-residual",
            help="Add the bicubic-upsampled input to the output, so the network learns "
            "only the correction (faster to train; see docs/training.md).",
        ),
    ] = None,
    seed: Annotated[
        Optional[int], typer.Option("--seed", help="Seed of the split, initialisation and patches.")
    ] = None,
    val_every: Annotated[
        Optional[int], typer.Option("--val-every", help="Validate every N steps (default: each epoch).")
    ] = None,
    checkpoint_every: Annotated[
        Optional[int],
        typer.Option(
            "--checkpoint-every", help="Also save the resume state every N steps between validations."
        ),
    ] = None,
    ema: Annotated[
        Optional[float],
        typer.Option(
            "--ema",
            help="Validate and save an exponential moving average of the weights with this decay "
            "(e.g. 0.999; warm-up for short runs, see docs/training.md).",
        ),
    ] = None,
    loss: Annotated[
        Optional[str], typer.Option("--loss", help="Loss, e.g. 'mse+0.1*ssim' (default: the model's).")
    ] = None,
    learning_rate: Annotated[
        Optional[float],
        typer.Option("--learning-rate", help=f"Generator learning rate. \\[default: {_DEFAULT_LR:g}]"),
    ] = None,
    device: Annotated[Optional[str], typer.Option("--device", help="auto, cpu or cuda.")] = None,
    num_threads: Annotated[
        Optional[int], typer.Option("--num-threads", help="CPU threads for torch.")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
    val_fraction: Annotated[
        Optional[float],
        typer.Option(
            "--val-fraction",
            help="Share held out for validation (default 0.1): whole images from 10 pairs on, "
            "else a strip of each image; 0: no validation.",
        ),
    ] = None,
    recipe: Annotated[
        Optional[str],
        typer.Option(
            "--recipe",
            help="budget (default without --model and --config: settings for --steps/--minutes) "
            "or paper (the architecture's published settings).",
        ),
    ] = None,
    minutes: Annotated[
        Optional[float],
        typer.Option("--minutes", help="Time budget: the steps that fit, timed on this machine."),
    ] = None,
) -> None:
    """Train a super-resolution model on LR/HR pairs; writes weights, logs and curves to --out."""
    from microsr.engine import load_config
    from microsr.engine import train as run_train

    if sum(v is not None for v in (steps, epochs, minutes)) > 1:
        raise ConfigError("--steps, --epochs and --minutes are mutually exclusive: give one of them")
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
        val_fraction=val_fraction,
    )
    defaults = _recipe_defaults(recipe, config, model, steps, epochs, minutes)
    cfg = absolute_data_dirs(load_config(config, given, defaults), given, run_config)
    if minutes is not None:
        cfg = _fit_minutes(cfg, minutes)
    run = run_train(cfg, progress=not quiet)
    if int(os.environ.get("RANK", os.environ.get("SLURM_PROCID", "0"))) != 0:
        return  # data-parallel launch: rank 0 reports
    doc = json.loads((run / "model.json").read_text())
    v = doc.get("validation", {})
    summary = f"trained {cfg.model.name} x{cfg.scale} in {run}"
    if v.get("psnr") is not None:
        summary += (
            f" (last validation at step {v['step']}: PSNR {v['psnr']:.2f} dB, SSIM {v['ssim']:.4f}; "
            f"best weights from step {v['best_step']}; {validation_convention(cfg)})"
        )
    typer.echo(summary)


def validation_convention(cfg: Any) -> str:
    """How training validation scores (:mod:`microsr.engine.validate`), to label its numbers."""
    crop = cfg.data.val_crop
    where = f"centre crop of at most {crop} LR px" if crop else "whole images"
    return (
        f"normalised units, data range 1, no intensity fit, {where} "
        "(microsr evaluate scores predictions in ground-truth units: numbers differ)"
    )


def model_table(scale: int = 2) -> list[dict[str, Any]]:
    """One row per registered model: name, parameters (1 channel, default size) and its entry of
    ``options.json`` (grid, loss, discriminator, mask, typed options, tiny preset, description)."""
    from microsr.cli.schema import schema_document
    from microsr.models import count_parameters, create_model

    rows = []
    for name, entry in schema_document()["models"].items():
        params = count_parameters(create_model(name, 1, 1, scale))
        rows.append({"name": name, "parameters": params, **entry})
    return rows


def models(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List every architecture with its parameter count (1 channel, x2), input grid and default loss.

    ``--json`` adds each architecture's typed options (JSON schema with defaults) and tiny preset.
    """
    rows = model_table(scale=2)
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="microsr models (parameters for 1 channel, x2, default size)")
    for col, kw in (
        ("name", {}),
        ("parameters", {"justify": "right"}),
        ("input", {}),
        ("default loss", {}),
        ("GAN", {}),
        ("mask", {}),
        ("description", {"overflow": "fold"}),
    ):
        table.add_column(col, **kw)
    for r in rows:
        table.add_row(
            r["name"],
            f"{r['parameters']:,}",
            r["input_grid"],
            r["default_loss"],
            r["discriminator"] or "",
            "yes" if r["needs_mask"] else "",
            r["description"],
        )
    Console(width=160).print(table)


def _register_train(app: typer.Typer) -> None:
    app.command("train")(train)


def _register_models(app: typer.Typer) -> None:
    app.command("models")(models)


def register(app: typer.Typer) -> None:
    """Add ``train`` and ``models`` to the ``microsr`` app."""
    _register_train(app)
    _register_models(app)
