"""A rich progress bar with the running loss and the time left, silent when disabled."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class ProgressBar:
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
        self.enabled = enabled
        self.total, self.start = total, start
        self.console = Console(stderr=True)
        self._progress: Any = None  # a rich Progress while enabled
        self._task = None
        self.title = title

    def __enter__(self) -> ProgressBar:
        if self.enabled:
            self._progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("loss {task.fields[loss]}"),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=self.console,
            )
            self._progress.__enter__()
            self._task = self._progress.add_task(self.title, total=self.total, completed=self.start, loss="-")
        return self

    def __exit__(self, *exc) -> None:
        if self._progress is not None:
            self._progress.__exit__(*exc)

    def update(self, step: int, loss: float) -> None:
        """Move to ``step`` and show ``loss``."""
        if self._progress is not None:
            self._progress.update(self._task, completed=step, loss=f"{loss:.4g}")

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
