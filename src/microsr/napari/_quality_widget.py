"""The Quality widget: a prediction layer against a ground-truth layer (and optionally its LR).

Scores come from :func:`microsr.api.evaluate` (PSNR/SSIM/NRMSE after a least-squares intensity
fit, the conventions of ``microsr evaluate``; bicubic of the LR scored the same way), maps are
added as layers on the prediction's grid (SSIM map, absolute error, NanoJ-SQUIRREL error of the
prediction against the LR, or against the GT without an LR), and the decorrelation resolution
(Descloux 2019) of every layer is listed, in nm when the layer's scale is in micrometres.
"""

from __future__ import annotations

from qtpy.QtWidgets import QPushButton, QTableWidget, QTableWidgetItem

from microsr.errors import InputError
from microsr.napari._layers import one_line, pixel_size_of, plane_of
from microsr.napari._widgets import JobWidget, LayerChoice
from microsr.napari._worker import Job, Outcome

METRICS = ("psnr", "ssim", "nrmse")


def quality(pred, gt, lr, pixel_sizes: dict[str, float | None]) -> dict:
    """Scores, maps and resolutions of 2-D arrays ``pred``, ``gt`` and ``lr`` (``lr`` may be None)."""
    from microsr.api import evaluate
    from microsr.evaluation.maps import squirrel
    from microsr.evaluation.resolution import decorrelation

    ev = evaluate(pred, gt, lr=lr)
    sq = squirrel(lr if lr is not None else gt, pred)
    images = {"prediction": pred, "ground truth": gt, **({"LR": lr} if lr is not None else {})}
    res = {k: decorrelation(v, pixel_size=pixel_sizes.get(k)).describe() for k, v in images.items()}
    return {
        "rows": ev.rows,
        "ssim_map": ev.ssim_map,
        "error_map": ev.error_map,
        "squirrel": sq,
        "resolution": res,
    }


class QualityWidget(JobWidget):
    """Dock widget; ``done`` is emitted with the :class:`Outcome` of every run."""

    def __init__(self, napari_viewer):
        super().__init__(napari_viewer)
        self.pred = LayerChoice(napari_viewer)
        self.gt = LayerChoice(napari_viewer, optional=True)
        self.lr = LayerChoice(napari_viewer, optional=True)
        self.run_button = QPushButton("Measure")
        self.run_button.clicked.connect(self.run)
        self.table = QTableWidget(0, 1 + len(METRICS))
        self.table.setHorizontalHeaderLabels(["method", "PSNR (dB)", "SSIM", "NRMSE"])
        self.resolution = QTableWidget(0, 2)
        self.resolution.setHorizontalHeaderLabels(["layer", "decorrelation resolution"])
        for table in (self.table, self.resolution):
            table.setMinimumHeight(120)
        self._form(
            ("prediction", self.pred),
            ("ground truth", self.gt),
            ("LR (optional)", self.lr),
            self.run_button,
            self.table,
            self.resolution,
        )

    def run(self) -> None:
        """Check the layers and measure in a worker."""
        try:
            pred_layer = self.pred.current()
            pred = plane_of(pred_layer, "prediction")
            if self.gt.current() is None:
                raise InputError(
                    None, "no ground-truth layer chosen: quality needs the GT image of the prediction"
                )
            gt = plane_of(self.gt.current(), "ground truth")
            lr_layer = self.lr.current()
            lr = plane_of(lr_layer, "LR") if lr_layer is not None else None
        except InputError as exc:
            return self._fail(one_line(exc))
        if gt.shape != pred.shape:
            return self._fail(f"ground truth {gt.shape} and prediction {pred.shape} differ in shape")
        sizes = {"prediction": pixel_size_of(pred_layer), "ground truth": pixel_size_of(self.gt.current())}
        sizes["LR"] = pixel_size_of(lr_layer) if lr_layer is not None else None
        place = {"scale": tuple(pred_layer.scale), "translate": tuple(pred_layer.translate)}
        place["units"] = tuple(pred_layer.units)
        self.run_button.setEnabled(False)
        self.status.setText("measuring…")
        self.job = Job(
            lambda report, cancel: quality(pred, gt, lr, sizes),
            lambda _: None,
            lambda outcome: self._finish(outcome, pred_layer.name, place),
        )

    def _fill(self, table: QTableWidget, rows: list[list[str]]) -> None:
        table.setRowCount(len(rows))
        for i, row in enumerate(rows):
            for j, text in enumerate(row):
                table.setItem(i, j, QTableWidgetItem(text))
        table.resizeColumnsToContents()

    def _finish(self, outcome: Outcome, name: str, place: dict) -> None:
        self.job = None
        self.run_button.setEnabled(True)
        if outcome.error:
            self._fail(outcome.error)
            self.done.emit(outcome)
            return
        q = outcome.value
        self._fill(self.table, [[r["method"]] + [f"{r[m]:.4g}" for m in METRICS] for r in q["rows"]])
        self._fill(self.resolution, [[k, v] for k, v in q["resolution"].items()])
        sq = q["squirrel"]
        maps = (
            ("SSIM map", q["ssim_map"], "viridis", (0.0, 1.0)),
            ("abs error", q["error_map"], "inferno", None),
            ("SQUIRREL error", sq.error_map, "magma", None),
        )
        for suffix, data, cmap, limits in maps:
            kw = {"contrast_limits": limits} if limits else {}
            self.viewer.add_image(
                data, name=f"{name} {suffix}", colormap=cmap, blending="additive", **place, **kw
            )
        self.status.setText(f"SQUIRREL: RSE {sq.rse:.4g}, RSP {sq.rsp:.3f}")
        self.done.emit(outcome)
