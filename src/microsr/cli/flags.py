"""Flags that mean the same in several commands, one annotated type each (typer reads the help from
them), so that ``--weights``, ``--mask`` and ``--quiet`` read and behave alike everywhere."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer


class Weights(str, Enum):
    """Which weights of a training run to use."""

    best = "best"
    last = "last"


WeightsFlag = Annotated[
    Weights,
    typer.Option("--weights", help="Weights of the training run: best (best validation so far) or last."),
]
MasksFlag = Annotated[
    Optional[Path],
    typer.Option(
        "--mask",
        "--masks",
        help="Folder of parsing maps (same names as the images, HR size) for the models that need "
        "them (geometry prior, SFTGAN).",
    ),
]
QuietFlag = Annotated[bool, typer.Option("--quiet", help="No progress bar.")]
