"""The Train widget: LR/HR folders or two open layers, a model from the registry, a live plot.

Training runs :func:`microsr.api.train` in a thread worker; its per-step callback sends each
:class:`~microsr.engine.TrainEvent` to the UI thread (queued signal), which updates the progress
bar and the plot of training loss and validation PSNR, and returns whether Stop was pressed: the
engine then saves the resume state (as on Ctrl-C) and Resume continues the same run folder.
Training from layers writes the pair, cut into four quadrants (three train, one validates), to
``<run>_layers/{lr,hr}`` beside the run folder so that a resumed run finds its data again.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSpinBox,
)

from microsr.engine.budget import RECOMMENDED_MODEL
from microsr.errors import InputError
from microsr.napari._layers import one_line, plane_of
from microsr.napari._plot import LossPlot
from microsr.napari._widgets import JobWidget, LayerChoice, side_by_side
from microsr.napari._worker import Job, Outcome


def trainable_models() -> list[tuple[str, str, str | None]]:
    """``(name, description, why bicubic_residual is refused or None)`` of every trainable model."""
    from microsr.models import get_spec, list_models
    from microsr.models.registry import residual_refusal

    specs = [get_spec(n) for n in list_models()]
    return [(s.name, s.description, residual_refusal(s)) for s in specs if s.trainable]


def write_layer_pair(lr: np.ndarray, hr: np.ndarray, folder: Path) -> tuple[Path, Path, int]:
    """Write an LR/HR layer pair as four quadrant pairs under ``folder``; returns (lr, hr, scale)."""
    from microsr.io import write_image

    s = hr.shape[0] // lr.shape[0]
    if s < 1 or hr.shape != (s * lr.shape[0], s * lr.shape[1]):
        raise InputError(None, f"HR layer {hr.shape} is not an integer multiple of the LR layer {lr.shape}")
    h, w = lr.shape[0] // 2, lr.shape[1] // 2
    for i, (y, x) in enumerate(((0, 0), (0, w), (h, 0), (h, w))):
        write_image(folder / "lr" / f"q{i}.tif", lr[y : y + h, x : x + w])
        write_image(folder / "hr" / f"q{i}.tif", hr[s * y : s * (y + h), s * x : s * (x + w)])
    return folder / "lr", folder / "hr", s


class TrainWidget(JobWidget):
    """Dock widget; ``done`` is emitted with the :class:`Outcome` of every run or resume."""

    def __init__(self, napari_viewer):
        super().__init__(napari_viewer)
        self.from_folders, self.from_layers = QRadioButton("folders"), QRadioButton("layers")
        self.from_layers.setChecked(True)
        self.lr_dir, self.hr_dir = QLineEdit(), QLineEdit()
        self.lr_dir.setPlaceholderText("folder of low-resolution images")
        self.hr_dir.setPlaceholderText("folder of high-resolution images (same file names)")
        self.lr_layer, self.hr_layer = LayerChoice(napari_viewer), LayerChoice(napari_viewer)
        self.models = trainable_models()
        self.model = QComboBox()
        self.model.addItems([m[0] for m in self.models])
        self.model.setCurrentText(RECOMMENDED_MODEL)  # what `microsr train` picks with no --model
        self.budget = QCheckBox("budget recipe (settings measured for a few hundred steps)")
        self.budget.setChecked(True)
        self.budget.setToolTip("off: the architecture's own (paper) settings; see docs/training.md")
        self.description = QLabel()
        self.description.setWordWrap(True)
        self.tiny = QCheckBox("tiny preset (a small network for a CPU)")
        self.tiny.setChecked(True)
        self.residual = QCheckBox("bicubic residual (learn the correction to bicubic)")
        self.model.currentIndexChanged.connect(self._describe)
        self.scale, self.steps, self.patch = QSpinBox(), QSpinBox(), QSpinBox()
        for box, lo, hi, value in (
            (self.scale, 1, 8, 2),
            (self.steps, 1, 1_000_000, 200),
            (self.patch, 8, 512, 32),
        ):
            box.setRange(lo, hi)
            box.setValue(value)
        self.out = QLineEdit()
        self.out.setPlaceholderText("new run folder (Resume: an existing one)")
        self.train_button, self.stop_button = QPushButton("Train"), QPushButton("Stop")
        self.resume_button = QPushButton("Resume")
        self.train_button.clicked.connect(self.train)
        self.stop_button.clicked.connect(self.stop)
        self.resume_button.clicked.connect(self.resume)
        self.stop_button.setEnabled(False)
        self.progress = QProgressBar()
        self.plot = LossPlot()
        self._layout()
        self._describe()

    def _layout(self) -> None:
        self._form(
            ("train from", side_by_side(self.from_layers, self.from_folders)),
            ("LR layer", self.lr_layer),
            ("HR layer", self.hr_layer),
            ("LR folder", self.lr_dir),
            ("HR folder", self.hr_dir),
            ("model", self.model),
            self.description,
            self.budget,
            self.tiny,
            self.residual,
            ("scale", self.scale),
            ("steps", self.steps),
            ("patch (LR px)", self.patch),
            ("run folder", self.out),
            (self.train_button, self.stop_button, self.resume_button),
            self.progress,
            self.plot,
        )

    def _describe(self, *_args) -> None:
        name, description, refusal = self.models[self.model.currentIndex()]
        self.description.setText(description)
        self.residual.setEnabled(refusal is None)
        self.residual.setToolTip(f"not for {name}: it {refusal}" if refusal else "")
        if refusal:
            self.residual.setChecked(False)

    def _data_folders(self, out: Path) -> tuple[Path, Path, int]:
        if self.from_folders.isChecked():
            lr, hr = self.lr_dir.text().strip(), self.hr_dir.text().strip()
            if not lr or not hr:
                raise InputError(None, "choose both an LR and an HR folder")
            return Path(lr), Path(hr), self.scale.value()
        lr_data = plane_of(self.lr_layer.current(), "LR")
        hr_data = plane_of(self.hr_layer.current(), "HR (ground truth)")
        return write_layer_pair(lr_data, hr_data, out.parent / f"{out.name}_layers")

    def _run_folder(self, *, existing: bool) -> Path:
        text = self.out.text().strip()
        if not text:
            raise InputError(None, "choose a run folder")
        out = Path(text).expanduser()
        if existing and not (out / "checkpoint" / "last.pt").is_file():
            raise InputError(out, "nothing to resume: no checkpoint/last.pt in this folder")
        if not existing and out.exists() and any(out.iterdir()):
            raise InputError(out, "run folder is not empty: choose a new one, or press Resume")
        return out

    def train(self) -> None:
        """Check the inputs and start a new run in a worker."""
        from microsr.api import train

        try:
            out = self._run_folder(existing=False)
            lr, hr, scale = self._data_folders(out)
        except InputError as exc:
            return self._fail(one_line(exc))
        kw = dict(
            model=self.model.currentText(), scale=scale, steps=self.steps.value(), tiny=self.tiny.isChecked()
        )
        kw.update(bicubic_residual=self.residual.isChecked() and self.residual.isEnabled())
        kw.update(recipe="budget" if self.budget.isChecked() else None)
        settings = {"data.patch_size": self.patch.value(), "data.batch_size": 4, "device": "cpu"}
        settings["val_every"] = max(1, self.steps.value() // 10)
        if self.from_layers.isChecked():
            settings["data.val_fraction"] = 0.25  # one of the four quadrants
        self.plot.clear()
        self._start(
            lambda callback: train(lr, hr, out, settings=settings, progress=False, callback=callback, **kw)
        )

    def resume(self) -> None:
        """Continue the run folder from its resume state."""
        from microsr.api import resume

        try:
            out = self._run_folder(existing=True)
        except InputError as exc:
            return self._fail(one_line(exc))
        steps = self.steps.value()
        self._start(lambda callback: resume(out, steps=steps, progress=False, callback=callback))

    def _start(self, run) -> None:
        def work(report, cancel):
            def callback(event) -> bool:
                report(event)
                return cancel.is_set()

            return run(callback)

        for b, on in ((self.train_button, False), (self.resume_button, False), (self.stop_button, True)):
            b.setEnabled(on)
        self.status.setText("training…")
        self.job = Job(work, self._on_event, self._finish)

    def stop(self) -> None:
        """Stop after the current step; the resume state is saved."""
        if self.job is not None:
            self.job.cancel()
            self.status.setText("stopping after this step…")

    def _on_event(self, event) -> None:
        self.progress.setMaximum(event.total)
        self.progress.setValue(event.step)
        self.plot.add(event)

    def _finish(self, outcome: Outcome) -> None:
        self.job = None
        self.plot.flush()
        for b, on in ((self.train_button, True), (self.resume_button, True), (self.stop_button, False)):
            b.setEnabled(on)
        if outcome.cancelled:
            self.status.setText("stopped; the resume state is saved: press Resume to continue")
        elif outcome.error:
            self._fail(outcome.error)
        else:
            v = outcome.value.validation
            self.status.setText(
                f"done: {outcome.value.folder} (step {v.get('step')}, PSNR {v.get('psnr', 0):.2f} dB)"
            )
        self.done.emit(outcome)
