"""Progress display for prediction: a bar over files and one over the current file's tiles."""

from __future__ import annotations

from typing import Any


class FileProgress:
    """A rich progress bar over files with a second bar over the current file's tiles.

    Parameters
    ----------
    enabled : bool
        False makes every method a no-op (tests, scripts).
    n_files : int
        Number of files to be processed.
    """

    def __init__(self, enabled: bool, n_files: int):
        self.enabled, self.n_files = enabled, n_files
        self.bar: Any = None  # a rich Progress while enabled

    def __enter__(self) -> FileProgress:
        if self.enabled:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self.bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                transient=False,
                console=Console(stderr=True),  # stdout is for results, as in `microsr train`
            )
            self.bar.__enter__()
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

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)
