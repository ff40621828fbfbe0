"""The flags of ``microsr train``, one annotated type each (typer reads the help from them); the
flags it shares with other commands are in :mod:`microsr.cli.flags`.

The flags default to "not given" (``None``), so that a ``--config`` file or a resumed run's
``config.yaml`` keeps its own values; the defaults shown in ``--help`` come from the config schema.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from microsr.engine.config import DataSection, OptimizerSection

_DEFAULT_BATCH = DataSection.model_fields["batch_size"].default
_DEFAULT_PATCH = DataSection.model_fields["patch_size"].default
_DEFAULT_LR = OptimizerSection.model_fields["lr"].default

OutFlag = Annotated[Path, typer.Option("--out", help="Run folder (new, or existing with --resume).")]
LrFlag = Annotated[Optional[Path], typer.Option("--lr", help="Folder of low-resolution training images.")]
HrFlag = Annotated[Optional[Path], typer.Option("--hr", help="Folder of matching high-resolution images.")]
ModelFlag = Annotated[
    Optional[str],
    typer.Option(
        "--model",
        help="Architecture name, e.g. srcnn (see `microsr models`). "
        "(In `microsr predict`, --model is a trained run folder instead.)",
    ),
]
ScaleFlag = Annotated[Optional[int], typer.Option("--scale", help="Up-sampling factor (HR px per LR px).")]
ConfigFlag = Annotated[
    Optional[Path], typer.Option("--config", help="YAML training config; flags override it.")
]
StepsFlag = Annotated[
    Optional[int],
    typer.Option(
        "--steps",
        help="Optimiser steps (exclusive with --epochs); on a CPU, a few hundred with --tiny. "
        "\\[default: 10 epochs]",
    ),
]
EpochsFlag = Annotated[Optional[int], typer.Option("--epochs", help="Epochs (see docs/training.md).")]
BatchSizeFlag = Annotated[
    Optional[int], typer.Option("--batch-size", help=f"Patches per step. \\[default: {_DEFAULT_BATCH}]")
]
PatchSizeFlag = Annotated[
    Optional[int],
    typer.Option("--patch-size", help=f"LR patch size in px. \\[default: {_DEFAULT_PATCH}]"),
]
ResumeFlag = Annotated[
    bool,
    typer.Option("--resume/--no-resume", help="Continue the run in --out from its checkpoint."),
]
InitFromFlag = Annotated[
    Optional[Path],
    typer.Option("--init-from", help="Start from the best weights of this earlier run (fine-tuning)."),
]
ValLrFlag = Annotated[
    Optional[Path],
    typer.Option(
        "--val-lr", help="Folder of LR validation images (with --val-hr; then every --lr image trains)."
    ),
]
ValHrFlag = Annotated[
    Optional[Path], typer.Option("--val-hr", help="Folder of matching HR validation images.")
]
ValMaskFlag = Annotated[
    Optional[Path],
    typer.Option("--val-mask", "--val-masks", help="Parsing masks of the validation images."),
]
TinyFlag = Annotated[
    Optional[bool],
    typer.Option("--tiny/--no-tiny", help="Small version of the architecture (tests, CPU runs)."),
]
BicubicResidualFlag = Annotated[
    Optional[bool],
    typer.Option(
        "--bicubic-residual/--no-bicubic-residual",
        help="Add the bicubic-upsampled input to the output, so the network learns "
        "only the correction (faster to train; see docs/training.md).",
    ),
]
SeedFlag = Annotated[
    Optional[int], typer.Option("--seed", help="Seed of the split, initialisation and patches.")
]
ValEveryFlag = Annotated[
    Optional[int], typer.Option("--val-every", help="Validate every N steps (default: each epoch).")
]
CheckpointEveryFlag = Annotated[
    Optional[int],
    typer.Option("--checkpoint-every", help="Also save the resume state every N steps between validations."),
]
EmaFlag = Annotated[
    Optional[float],
    typer.Option(
        "--ema",
        help="Validate and save an exponential moving average of the weights with this decay "
        "(e.g. 0.999; warm-up for short runs, see docs/training.md).",
    ),
]
LossFlag = Annotated[
    Optional[str], typer.Option("--loss", help="Loss, e.g. 'mse+0.1*ssim' (default: the model's).")
]
LearningRateFlag = Annotated[
    Optional[float],
    typer.Option("--learning-rate", help=f"Generator learning rate. \\[default: {_DEFAULT_LR:g}]"),
]
DeviceFlag = Annotated[Optional[str], typer.Option("--device", help="auto, cpu or cuda.")]
NumThreadsFlag = Annotated[Optional[int], typer.Option("--num-threads", help="CPU threads for torch.")]
WorkersFlag = Annotated[
    Optional[int],
    typer.Option(
        "--workers",
        help="Processes preparing training batches ahead (0: in the training process). \\[default: 1]",
    ),
]
ValFractionFlag = Annotated[
    Optional[float],
    typer.Option(
        "--val-fraction",
        help="Share held out for validation (default 0.1): whole images from 10 pairs on, "
        "else a strip of each image; 0: no validation.",
    ),
]
RecipeFlag = Annotated[
    Optional[str],
    typer.Option(
        "--recipe",
        help="budget (default without --model and --config: settings for --steps/--minutes) "
        "or paper (the architecture's published settings).",
    ),
]
MinutesFlag = Annotated[
    Optional[float],
    typer.Option("--minutes", help="Time budget: the steps that fit, timed on this machine."),
]
