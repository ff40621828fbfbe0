"""What a run leaves behind besides weights: ``log.csv`` and the loss-curve figures.

``log.csv`` has one row per logged training interval (``phase=train``: mean loss and loss parts
since the previous row, learning rate) and one per validation (``phase=val``: validation loss,
PSNR, SSIM). Columns appear in the order they are first logged. The file is rewritten atomically on
every flush, so it is always complete; a resumed run first drops the rows at or after its resume
step, so the log of a resumed run equals that of an uninterrupted one.
"""

from __future__ import annotations

import csv
import functools
import io
import math
from pathlib import Path

from microsr.engine.checkpoint import atomic_write
from microsr.io import write_text_atomic

BASE_COLUMNS = ["step", "epoch", "phase", "lr", "loss", "val_loss", "psnr", "ssim"]


class RunLog:
    """Rows of ``log.csv`` kept in memory and written atomically.

    Parameters
    ----------
    path : Path
        ``RUN/log.csv``.
    keep_before : int or None
        When resuming: read the existing file and keep only rows with ``step <= keep_before``
        (``None``: start empty).
    """

    def __init__(self, path: Path, keep_before: int | None = None):
        self.path = Path(path)
        self.columns = list(BASE_COLUMNS)
        self.rows: list[dict[str, object]] = []
        if keep_before is not None and self.path.is_file():
            with self.path.open(newline="", encoding="utf-8") as fh:
                reader = csv.DictReader(fh)
                for name in reader.fieldnames or []:
                    if name not in self.columns:
                        self.columns.append(name)
                for row in reader:
                    if int(row["step"]) <= keep_before:
                        self.rows.append({k: v for k, v in row.items() if v != ""})

    def add(self, **values: object) -> None:
        """Append one row (missing columns stay empty); new names become new columns."""
        for name in values:
            if name not in self.columns:
                self.columns.append(name)
        self.rows.append(values)

    def flush(self) -> None:
        """Write the whole table to ``log.csv`` atomically."""
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=self.columns, lineterminator="\n")
        writer.writeheader()
        for row in self.rows:
            writer.writerow({k: _fmt(v) for k, v in row.items()})
        write_text_atomic(self.path, buf.getvalue())

    def series(self, phase: str, column: str) -> tuple[list[int], list[float]]:
        """(steps, values) of ``column`` over the rows of ``phase``, skipping empty cells."""
        steps, values = [], []
        for row in self.rows:
            if row.get("phase") == phase and row.get(column) not in (None, ""):
                steps.append(int(str(row["step"])))
                values.append(float(str(row[column])))
        return steps, values


def _fmt(value: object) -> object:
    if isinstance(value, float):
        return repr(value)  # shortest exact round trip: logged losses compare bitwise after reload
    return value


def loss_figure(log: RunLog, *, logy: bool = False):
    """Training loss (mean per logged interval) and validation loss against the optimiser step.

    A matplotlib ``Figure`` not attached to pyplot (the caller's backend is never switched);
    with ``logy`` the y axis is logarithmic and non-positive values are left out.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 4.0), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    series = (
        (log.series("train", "loss"), "training loss", "-"),
        (log.series("val", "val_loss"), "validation loss", "o-"),
    )
    for (steps, values), label, style in series:
        pts = [(s, v) for s, v in zip(steps, values) if math.isfinite(v) and (v > 0 or not logy)]
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], style, label=label, markersize=3)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("loss (log scale)" if logy else "loss")
    ax.set_title("Training and validation loss")
    if ax.lines:
        ax.legend()
    ax.grid(True, alpha=0.3)
    fig.subplots_adjust(left=0.16, right=0.97, bottom=0.12, top=0.92)
    return fig


def plot_loss_curves(log: RunLog, folder: Path) -> list[Path]:
    """Write ``loss_curves.png`` (linear y) and ``loss_curves_log.png`` (log y) of :func:`loss_figure`.

    The curves the ZeroCostDL4Mic notebooks show.
    """
    paths = []
    for name, logy in (("loss_curves.png", False), ("loss_curves_log.png", True)):
        fig = loss_figure(log, logy=logy)
        path = Path(folder) / name
        atomic_write(path, functools.partial(fig.savefig, format="png"))
        paths.append(path)
    return paths
