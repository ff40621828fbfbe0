"""A rich progress bar with the running loss and the time left, silent when disabled."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from microsr.inference.progress import StderrProgress


class ProgressBar(StderrProgress):
    """Progress over optimiser steps ``start..total``.

    Parameters
    ----------
    total : int
        Last step.
    start : int
        First step (non-zero when resuming).
    enabled : bool
        False: print nothing (other DDP ranks, tests, ``progress=False``).
    title : str
        Shown before the bar.
    """

    def __init__(self, total: int, start: int, *, enabled: bool, title: str = "training"):
        super().__init__(enabled)
        self.total, self.start = total, start
        self._task = None
        self.title = title

    def __enter__(self) -> ProgressBar:
        columns = (
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
        )
        if self.open(*columns):
            self._task = self.bar.add_task(self.title, total=self.total, completed=self.start, loss="-")
        return self

    def update(self, step: int, loss: float) -> None:
        """Move to ``step`` and show ``loss``."""
        if self.bar is not None:
            self.bar.update(self._task, completed=step, loss=f"{loss:.4g}")

    def note(self, text: str, *, always: bool = False) -> None:
        """Print one line above the bar; with ``always``, to stderr even when the bar is disabled."""
        if self.enabled:  # no hard wrap: a command in the text stays whole, the terminal folds it
            self.console.print(text, soft_wrap=True, markup=False, highlight=False)
        elif always:
            print(text, file=sys.stderr)


@dataclass
class TrainEvent:
    """What a training callback receives after every optimiser step.

    Attributes
    ----------
    step, total : int
        Steps done and the run's last step.
    loss : float
        Training loss of this step.
    validation : dict or None
        The ``log.csv`` validation row (``val_loss``, ``psnr``, ``ssim``...) when this step
        validated, else ``None``.
    """

    step: int
    total: int
    loss: float
    validation: dict | None = field(default=None)


#: ``callback(event) -> bool``: return True to stop; the loop then saves the resume state (as on
#: Ctrl-C) and raises ``KeyboardInterrupt``. Used by the napari widget and the notebook API.
TrainCallback = Callable[[TrainEvent], bool | None]
