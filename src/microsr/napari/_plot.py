"""A live plot of training loss and validation PSNR for the Train widget (matplotlib in Qt).

The figure has its own Qt canvas (object-oriented API), so pyplot's global backend is untouched.
Redrawing is throttled: the next draw waits at least four times as long as the last one took (and
0.25 s), so that on a busy machine drawing never takes more than a fifth of the UI thread's time;
a tiny model's step costs less than one draw.
"""

from __future__ import annotations

import time

from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure


class LossPlot(FigureCanvasQTAgg):
    """Training loss (left axis, log scale) and validation PSNR (right axis) against the step."""

    def __init__(self):
        self.figure = Figure(figsize=(4, 2.6))
        self.figure.subplots_adjust(left=0.17, right=0.83, bottom=0.18, top=0.95)
        super().__init__(self.figure)
        self.setMinimumHeight(200)
        self.loss_ax = self.figure.add_subplot(1, 1, 1)
        self.psnr_ax = self.loss_ax.twinx()
        self.steps: list[int] = []
        self.losses: list[float] = []
        self.val_steps: list[int] = []
        self.psnr: list[float] = []
        self._next_draw = 0.0
        self.clear()

    def clear(self) -> None:
        self.steps.clear()
        self.losses.clear()
        self.val_steps.clear()
        self.psnr.clear()
        self._redraw()

    def add(self, event) -> None:
        """Append one :class:`~microsr.engine.TrainEvent`; redraw when due or at the last step."""
        self.steps.append(event.step)
        self.losses.append(event.loss)
        if event.validation is not None:
            self.val_steps.append(event.step)
            self.psnr.append(float(event.validation["psnr"]))
        if event.step == event.total or time.monotonic() >= self._next_draw:
            self._redraw()

    def flush(self) -> None:
        """Draw what has arrived (after a stop, whose last events may not have been drawn)."""
        self._redraw()

    def draw(self) -> None:
        start = time.monotonic()
        super().draw()
        took = time.monotonic() - start
        self._next_draw = time.monotonic() + max(0.25, 4 * took)

    def _redraw(self) -> None:
        for ax in (self.loss_ax, self.psnr_ax):
            ax.cla()
        self.loss_ax.plot(self.steps, self.losses, color="tab:blue", lw=1)
        self.psnr_ax.plot(self.val_steps, self.psnr, "o-", color="tab:orange", ms=3)
        if self.losses and min(self.losses) > 0:
            self.loss_ax.set_yscale("log")
        self.loss_ax.set_xlabel("step")
        self.loss_ax.set_ylabel("training loss", color="tab:blue")
        self.psnr_ax.set_ylabel("validation PSNR (dB)", color="tab:orange")
        self.psnr_ax.yaxis.set_label_position("right")
        self.draw_idle()
        self._next_draw = time.monotonic() + 0.25  # draw() sets it from the measured draw time
