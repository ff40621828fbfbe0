"""Progress displays: a rich display on stderr (:class:`StderrProgress`, also the training bar's
base) and, for prediction, a bar over files with one over the current file's tiles."""

from __future__ import annotations

from typing import Any


class StderrProgress:
    """A rich progress display on stderr, open inside its ``with`` block, silent when disabled.

    stdout is for results (``microsr predict`` and ``microsr train`` print what they wrote there).
    Subclasses open the display in ``__enter__`` with their columns (:meth:`open`) and add their
    tasks to ``bar``; every update is a no-op while ``bar`` is ``None``.

    Parameters
    ----------
    enabled : bool
        False: show nothing (tests, scripts, other DDP ranks, ``progress=False``).
    """

    def __init__(self, enabled: bool):
        from rich.console import Console

        self.enabled = enabled
        self.console = Console(stderr=True)
        self.bar: Any = None  # a rich Progress while open

    def open(self, *columns: Any) -> bool:
        """Start the display with ``columns`` if enabled; True when it was started."""
        if self.enabled:
            from rich.progress import Progress

            self.bar = Progress(*columns, console=self.console)
            self.bar.__enter__()
        return self.bar is not None

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)


class FileProgress(StderrProgress):
    """A rich progress bar over files with a second bar over the current file's tiles.

    Parameters
    ----------
    enabled : bool
        False makes every method a no-op (tests, scripts).
    n_files : int
        Number of files to be processed.
    """

    def __init__(self, enabled: bool, n_files: int):
        super().__init__(enabled)
        self.n_files = n_files

    def __enter__(self) -> FileProgress:
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn

        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        if self.open(*columns):
            self.files = self.bar.add_task("images", total=self.n_files)
            self.tiles = self.bar.add_task("tiles", total=1)
        return self

    def start_file(self, name: str) -> None:
        if self.bar is not None:
            self.bar.update(self.tiles, description=f"  {name}", completed=0, total=1)

    def on_tile(self, done: int, total: int) -> None:
        if self.bar is not None:
            self.bar.update(self.tiles, completed=done, total=total)

    def end_file(self) -> None:
        if self.bar is not None:
            self.bar.advance(self.files)
