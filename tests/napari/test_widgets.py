"""Every widget docked in a real viewer (Xvfb), driven as a user would, on small images."""

from __future__ import annotations

import time

import numpy as np
import pytest
from napari.utils.notifications import notification_manager
from qtpy.QtCore import QTimer

import microsr
from microsr.inference.predict import predict_image
from microsr.io import ImageData
from microsr.modelcard import load_model_folder

from . import scenes


def last_notification() -> str:
    return str(notification_manager.records[-1].message)


def test_super_resolve_overlays_the_input(make_napari_viewer_proxy, pairs, model_dir):
    viewer = make_napari_viewer_proxy()
    widget, outcome = scenes.super_resolve(viewer, pairs, model_dir, tile=16, overlap=4)
    assert outcome.error is None and not outcome.cancelled
    lr, out = viewer.layers["cell LR"], viewer.layers["cell LR x2 srcnn"]
    assert out.data.shape == (64, 64)
    np.testing.assert_allclose(out.scale, np.asarray(lr.scale) / 2)
    # first output pixel centre sits a quarter input pixel before the input's (s = 2)
    np.testing.assert_allclose(out.translate, np.asarray(lr.translate) - np.asarray(lr.scale) / 4)
    # reference: the same prediction through microsr.inference directly
    model, info = load_model_folder(model_dir, device="cpu")
    ref, _ = predict_image(model, info, ImageData(np.asarray(lr.data), "YX"), tile=16, overlap=4)
    np.testing.assert_allclose(out.data, ref, rtol=1e-5, atol=1e-6)
    assert widget.progress.value() == widget.progress.maximum() > 1  # one step per tile


def test_super_resolve_can_be_cancelled_midway(make_napari_viewer_proxy, pairs, model_dir):
    viewer = make_napari_viewer_proxy()
    scenes.open_pair(viewer, pairs)
    widget = scenes.dock(viewer, "Super-resolve")
    widget.layer.select("cell LR")
    widget.model.setText(str(model_dir))
    widget.tile.setValue(16)
    widget.overlap.setValue(0)
    widget.tta.setChecked(True)
    widget.progress.valueChanged.connect(lambda v: v >= 1 and widget.cancel())  # after the first tile
    outcome = scenes.wait_done(widget, widget.run)
    assert outcome.cancelled and outcome.error is None
    assert 1 <= widget.progress.value() < widget.progress.maximum()
    assert [layer.name for layer in viewer.layers] == ["cell LR", "cell HR"]  # nothing added
    assert "cancelled" in widget.status.text()


def test_bad_input_is_one_line_notification(make_napari_viewer_proxy, pairs, model_dir, tmp_path):
    viewer = make_napari_viewer_proxy()
    scenes.open_pair(viewer, pairs)
    viewer.add_image(np.zeros((8, 8, 3), np.uint8), name="colour", rgb=True)
    viewer.add_image(np.zeros((3, 8, 8), np.float32), name="stack")
    widget = scenes.dock(viewer, "Super-resolve")
    widget.layer.select("cell LR")
    cases = [("", "no model chosen"), (str(tmp_path), "not a microsr model folder")]
    for text, expected in cases:
        widget.model.setText(text)
        assert scenes.wait_done(widget, widget.run) is None  # refused before any worker starts
        assert expected in last_notification() and "\n" not in last_notification()
    widget.model.setText(str(model_dir))
    for layer, expected in (("colour", "is RGB"), ("stack", "is 3-D")):
        widget.layer.select(layer)
        widget.run()
        assert expected in last_notification() and "\n" not in last_notification()
    quality = scenes.dock(viewer, "Quality")
    quality.pred.select("cell HR")
    quality.run()
    assert "no ground-truth layer chosen" in last_notification()
    assert widget.job is None and quality.job is None


def test_train_keeps_the_ui_responsive_stops_and_resumes(make_napari_viewer_proxy, pairs, tmp_path):
    viewer = make_napari_viewer_proxy()
    scenes.open_pair(viewer, pairs)
    widget = scenes.dock(viewer, "Train")
    widget.lr_layer.select("cell LR")
    widget.hr_layer.select("cell HR")
    widget.model.setCurrentText("srcnn")
    widget.steps.setValue(400)  # far more than the stop needs: a late stop still lands mid-run
    widget.patch.setValue(16)
    widget.out.setText(str(tmp_path / "run"))
    ticks: list[float] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start(20)
    widget.progress.valueChanged.connect(lambda v: v == 5 and widget.stop())
    start = time.monotonic()
    outcome = scenes.wait_done(widget, widget.train)
    took = time.monotonic() - start
    timer.stop()
    assert outcome.cancelled and outcome.error is None
    assert "press Resume" in widget.status.text()
    # the event loop kept turning while the worker trained (a blocked UI thread gives ~0 ticks)
    during = [t for t in ticks if t >= start]
    assert len(during) >= 3, (len(during), took)  # a short run on a fast machine gives few ticks
    assert max(np.diff([start, *during])) < max(2.0, took / 4)
    assert (tmp_path / "run" / "checkpoint" / "last.pt").is_file()
    stopped_at = widget.progress.value()
    assert 5 <= stopped_at < 400 and len(widget.plot.steps) == stopped_at  # live loss, every step

    target = stopped_at + 6
    widget.steps.setValue(target)
    outcome = scenes.wait_done(widget, widget.resume)
    assert outcome.error is None and not outcome.cancelled
    assert outcome.value.validation["step"] == target
    assert widget.progress.value() == target and widget.plot.psnr  # the final validation PSNR
    steps = [int(r["step"]) for r in outcome.value.log if r["phase"] == "train"]
    assert steps == sorted(set(steps)) and steps[-1] == target  # one continuous log, no restart


def test_quality_tables_and_map_layers(make_napari_viewer_proxy, pairs):
    viewer = make_napari_viewer_proxy()
    widget, outcome = scenes.quality(viewer, pairs)
    assert outcome.error is None
    sr, hr, lr = (viewer.layers[n] for n in ("cell SR", "cell HR", "cell LR"))
    # reference: microsr.evaluate on the same arrays (SR = 0.5 * HR + 10 fits back exactly)
    ref = microsr.evaluate(np.asarray(sr.data), np.asarray(hr.data), lr=np.asarray(lr.data))
    assert widget.table.rowCount() == 2
    assert widget.table.item(0, 0).text() == "model" and widget.table.item(1, 0).text() == "bicubic"
    assert float(widget.table.item(1, 1).text()) == pytest.approx(ref["bicubic"]["psnr"], rel=1e-3)
    assert float(widget.table.item(0, 2).text()) == pytest.approx(1.0)
    for suffix in ("SSIM map", "abs error", "SQUIRREL error"):
        layer = viewer.layers[f"cell SR {suffix}"]
        assert layer.data.shape == (64, 64)
        np.testing.assert_allclose(layer.scale, sr.scale)
        np.testing.assert_allclose(layer.translate, sr.translate)
    names = [widget.resolution.item(i, 0).text() for i in range(widget.resolution.rowCount())]
    assert names == ["prediction", "ground truth", "LR"]
    assert widget.resolution.item(2, 1).text().endswith(("nm", "not found"))
