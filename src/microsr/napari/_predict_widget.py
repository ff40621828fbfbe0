"""The Super-resolve widget: a model + an image layer -> an up-sampled layer on top of it.

The model is a training run folder or a bioimage.io package (a ``.zip`` or a folder with
``rdf.yaml``), loaded by :func:`microsr.api.load_model` (packages through
:mod:`microsr.export.importer`). Prediction runs in a thread worker (:mod:`microsr.napari._worker`) with a progress bar over tiles
and a Cancel button; the result layer keeps the input's name with the suffix ``" x{s} {model}"``,
has ``scale = input scale / s`` and the pixel-centre translation of
:func:`~microsr.napari._layers.upsampled_placement`, so it overlays the input exactly.
"""

from __future__ import annotations

from pathlib import Path

from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
)

from microsr.errors import InputError
from microsr.inference.tile_grid import OVERLAP, TILE
from microsr.io import ImageData
from microsr.napari._layers import one_line, plane_of, upsampled_placement
from microsr.napari._widgets import JobWidget, LayerChoice, side_by_side
from microsr.napari._worker import Cancelled, Job, Outcome


def check_model(text: str) -> Path:
    """The chosen model (run folder or package), or an :class:`InputError` saying what is wrong."""
    from microsr.api.prediction import model_kind

    if not text.strip():
        raise InputError(None, "no model chosen: pick a training run folder or a bioimage.io package (.zip)")
    path = Path(text.strip()).expanduser()
    model_kind(path)
    return path


TTA_LABELS = (  # what the combo box shows, and microsr predict --tta's value
    ("as chosen in training (auto)", "auto"),
    ("none", "none"),
    ("4 mirrors (4x slower)", "flips"),
    ("8 rotations and mirrors (8x slower)", "all"),
)


class SuperResolveWidget(JobWidget):
    """Dock widget; ``done`` is emitted with the :class:`Outcome` of every run."""

    def __init__(self, napari_viewer):
        super().__init__(napari_viewer)
        self.layer = LayerChoice(napari_viewer)
        self.model = QLineEdit()
        self.model.setPlaceholderText("training run folder, or bioimage.io package (.zip)")
        folder, package = QPushButton("Folder…"), QPushButton("Package…")
        folder.clicked.connect(self._browse_folder)
        package.clicked.connect(self._browse_package)
        self.tile, self.overlap = QSpinBox(), QSpinBox()
        self.tile.setRange(16, 4096)
        self.tile.setValue(TILE)
        self.overlap.setRange(0, 512)
        self.overlap.setValue(OVERLAP)
        self.tta = QComboBox()
        for label, mode in TTA_LABELS:
            self.tta.addItem(label, mode)
        self.tta.setToolTip(
            "Average the prediction over mirrors (and rotations) of the image (microsr predict --tta)"
        )
        self.train_norm = QCheckBox("training images' intensity range (same microscope settings)")
        self.train_norm.setToolTip(
            "Normalise with the range recorded at training instead of this image's own percentiles "
            "(microsr predict --normalization training; docs/prediction.md)"
        )
        self.run_button, self.cancel_button = QPushButton("Super-resolve"), QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.run_button.clicked.connect(self.run)
        self.cancel_button.clicked.connect(self.cancel)
        self.progress = QProgressBar()
        self._form(
            ("image layer", self.layer),
            ("model", side_by_side(self.model, folder, package)),
            ("tile (px)", self.tile),
            ("overlap (px)", self.overlap),
            ("test-time augmentation", self.tta),
            self.train_norm,
            (self.run_button, self.cancel_button),
            self.progress,
        )

    def _browse_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Training run or unpacked package folder")
        if folder:
            self.model.setText(folder)

    def _browse_package(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "bioimage.io package", "", "Zip files (*.zip)")
        if path:
            self.model.setText(path)

    def run(self) -> None:
        """Check the inputs (notifying one line when bad) and start the prediction worker."""
        from microsr.inference.tiling import check_tiling

        tile, overlap, tta = self.tile.value(), self.overlap.value(), self.tta.currentData()
        norm = "training" if self.train_norm.isChecked() else "image"
        try:
            layer = self.layer.current()
            data = plane_of(layer, "image")
            model = check_model(self.model.text())
            check_tiling(tile, overlap)
        except InputError as exc:
            return self._fail(one_line(exc))
        source = {"name": layer.name, "scale": tuple(layer.scale), "translate": tuple(layer.translate)}
        source["units"] = tuple(layer.units)

        def work(report, cancel):
            from microsr.api.prediction import load_model, with_normalization
            from microsr.inference.predict import predict_image

            loaded = with_normalization(load_model(model, device="cpu"), norm)

            def on_tile(done: int, total: int) -> None:
                if cancel.is_set():
                    raise Cancelled
                report((done, total))

            out, _ = predict_image(
                loaded.net, loaded.info, ImageData(data, "YX"), tile=tile, overlap=overlap, tta=tta,
                on_tile=on_tile,
            )  # fmt: skip
            return out, loaded.info

        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.progress.setValue(0)
        self.status.setText(f"super-resolving {layer.name!r}…")
        self.job = Job(work, self._on_progress, lambda outcome: self._finish(outcome, source))

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.status.setText("cancelling…")

    def _on_progress(self, value) -> None:
        done, total = value
        self.progress.setMaximum(total)
        self.progress.setValue(done)

    def _finish(self, outcome: Outcome, source: dict) -> None:
        self.job = None
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        if outcome.cancelled:
            self.status.setText("cancelled; no layer was added")
        elif outcome.error:
            self._fail(outcome.error)
        else:
            out, info = outcome.value
            scale, translate = upsampled_placement(source["scale"], source["translate"], info.scale)
            name = f"{source['name']} x{info.scale} {info.name}"
            self.viewer.add_image(out, name=name, scale=scale, translate=translate, units=source["units"])
            self.status.setText(f"added {name!r} {out.shape}")
        self.done.emit(outcome)
