"""Scenes shared by the widget tests and by ``screenshots.py`` (docs/napari.md's pictures).

Each function opens layers and a docked widget in a real viewer, fills the widget as a user would
and runs it to the end, returning the widget. ``wait_done`` spins the Qt event loop until the
widget's ``done`` signal (no pytest needed, so the screenshot script can use the same code).
"""

from __future__ import annotations

import bisect
import time
from pathlib import Path
from types import SimpleNamespace

from qtpy.QtCore import QEventLoop, QTimer

from microsr.io import read_image
from microsr.napari._layers import upsampled_placement


def wait_done(widget, action, timeout_s: float = 300.0):
    """Call ``action()`` (which starts the widget's worker) and return the emitted Outcome."""
    loop, got = QEventLoop(), []

    def finished(outcome):
        got.append(outcome)
        loop.quit()

    widget.done.connect(finished)
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    action()
    if not got and widget.job is not None:  # not refused at once: wait for the worker
        loop.exec_()
    widget.done.disconnect(finished)
    return got[0] if got else None


def tick_timer(interval_ms: int = 20) -> SimpleNamespace:
    """A running Qt timer recording the time of each of its ticks in ``.times`` (``.timer`` stops it)."""
    ticks = SimpleNamespace(timer=QTimer(), times=[])
    ticks.timer.timeout.connect(lambda: ticks.times.append(time.monotonic()))
    ticks.timer.start(interval_ms)
    return ticks


def interleaved(events: list[float], ticks: list[float]) -> int:
    """How many gaps between consecutive ``events`` hold at least one of the sorted ``ticks``.

    Both are times taken on the UI thread. While the event loop turns freely, timer ticks fall
    between the worker's progress events; when the UI thread is blocked, the queued events are
    handled in one burst afterwards and no tick falls between them. The count does not depend on
    how fast the machine is, only on whether the loop turned between events.
    """
    return sum(
        bisect.bisect_right(ticks, a) < bisect.bisect_left(ticks, b) for a, b in zip(events, events[1:])
    )


def open_pair(viewer, pairs: Path, index: int = 0, translate=(0.0, 0.0)):
    """Add LR and HR image ``index`` of ``pairs`` as layers overlaying in micrometres."""
    lr, hr = read_image(pairs / "lr" / f"{index}.tif"), read_image(pairs / "hr" / f"{index}.tif")
    lr_scale = (lr.pixel_size, lr.pixel_size)
    a = viewer.add_image(lr.array, name="cell LR", scale=lr_scale, translate=translate, units="µm")
    hr_scale, hr_translate = upsampled_placement(lr_scale, translate, 2)
    b = viewer.add_image(hr.array, name="cell HR", scale=hr_scale, translate=hr_translate, units="µm")
    return a, b


def dock(viewer, name: str):
    """Dock one of the plugin's widgets through its npe2 manifest; returns the widget."""
    return viewer.window.add_plugin_dock_widget("microsr", name)[1]


def super_resolve(viewer, pairs: Path, model_dir: Path, **options):
    """Super-resolve "cell LR" with the model folder; returns (widget, outcome)."""
    open_pair(viewer, pairs, translate=(1.0, 2.0))
    widget = dock(viewer, "Super-resolve")
    widget.layer.select("cell LR")
    widget.model.setText(str(model_dir))
    for key, value in options.items():  # spin boxes take numbers, check boxes True/False
        getattr(widget, key).setChecked(value) if isinstance(value, bool) else getattr(widget, key).setValue(
            value
        )
    return widget, wait_done(widget, widget.run)


def train(viewer, pairs: Path, out: Path, steps: int = 6, model: str = "srcnn"):
    """Train from the "cell LR"/"cell HR" layers into ``out``; returns (widget, outcome)."""
    open_pair(viewer, pairs)
    widget = dock(viewer, "Train")
    widget.lr_layer.select("cell LR")
    widget.hr_layer.select("cell HR")
    widget.model.setCurrentText(model)
    widget.steps.setValue(steps)
    widget.patch.setValue(16)
    widget.out.setText(str(out))
    return widget, wait_done(widget, widget.train)


def quality(viewer, pairs: Path, prediction_name: str | None = None):
    """Measure ``prediction_name`` (default: the HR layer's own bicubic-free copy) against HR."""
    if prediction_name is None:
        open_pair(viewer, pairs)
        hr = viewer.layers["cell HR"]
        viewer.add_image(
            hr.data * 0.5 + 10.0, name="cell SR", scale=hr.scale, translate=hr.translate, units="µm"
        )
        prediction_name = "cell SR"
    widget = dock(viewer, "Quality")
    widget.pred.select(prediction_name)
    widget.gt.select("cell HR")
    widget.lr.select("cell LR")
    return widget, wait_done(widget, widget.run)
