"""Every widget docked in a real viewer (Xvfb), driven as a user would, on small images."""

from __future__ import annotations

import threading
import time
import zipfile

import numpy as np
import pytest
import yaml
from napari.utils.notifications import notification_manager

import microsr
from microsr.engine.budget import RECOMMENDED_MODEL, budget_recipe
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


def test_super_resolve_with_a_bioimageio_package(
    make_napari_viewer_proxy, pairs, model_dir, package, tmp_path
):
    with zipfile.ZipFile(package) as zf:  # the same package unpacked: a folder with rdf.yaml
        zf.extractall(tmp_path / "unpacked")
    model, info = load_model_folder(model_dir, device="cpu")
    for source in (package, tmp_path / "unpacked"):
        viewer = make_napari_viewer_proxy()
        widget, outcome = scenes.super_resolve(viewer, pairs, source, tile=32, overlap=8)
        assert outcome.error is None and not outcome.cancelled, outcome.error
        lr, out = viewer.layers["cell LR"], viewer.layers["cell LR x2 srcnn"]
        assert out.data.shape == (64, 64)
        np.testing.assert_allclose(out.scale, np.asarray(lr.scale) / 2)
        np.testing.assert_allclose(out.translate, np.asarray(lr.translate) - np.asarray(lr.scale) / 4)
        # reference: the run folder the package was exported from, through microsr's own network
        ref, _ = predict_image(model, info, ImageData(np.asarray(lr.data), "YX"), tile=32, overlap=8)
        np.testing.assert_allclose(out.data, ref, atol=1e-4 * float(np.ptp(ref)))


def test_super_resolve_can_be_cancelled_midway(make_napari_viewer_proxy, pairs, model_dir, monkeypatch):
    import microsr.inference.predict as predict_module

    viewer = make_napari_viewer_proxy()
    scenes.open_pair(viewer, pairs)
    widget = scenes.dock(viewer, "Super-resolve")
    widget.layer.select("cell LR")
    widget.model.setText(str(model_dir))
    widget.tile.setValue(16)
    widget.overlap.setValue(0)
    widget.tta.setCurrentIndex(widget.tta.findData("all"))
    # a long run, whatever the machine's load: after its first tile the worker waits (at most a
    # minute) until the UI thread has shown the progress and Cancel was clicked
    clicked = threading.Event()

    def long_run(*args, on_tile, **kw):
        def tile_done(done: int, total: int) -> None:
            on_tile(done, total)  # the widget's own callback: reports, or stops once cancelled
            clicked.wait(60)

        return predict_image(*args, on_tile=tile_done, **kw)

    monkeypatch.setattr(predict_module, "predict_image", long_run)
    widget.progress.valueChanged.connect(lambda v: v >= 1 and (widget.cancel_button.click(), clicked.set()))
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
    not_a_model = tmp_path / "notes.txt"
    not_a_model.write_text("hello")
    cases = [
        ("", "no model chosen"),
        (str(tmp_path), "neither a training run folder (model.json) nor a bioimage.io package"),
        (str(not_a_model), "neither a training run folder"),
        (str(tmp_path / "gone.zip"), "model not found"),
    ]
    for text, expected in cases:
        widget.model.setText(text)
        assert scenes.wait_done(widget, widget.run) is None  # refused before any worker starts
        assert expected in last_notification() and "\n" not in last_notification()
    (tmp_path / "bad.zip").write_text("not a zip")  # refused by the package importer in the worker
    widget.model.setText(str(tmp_path / "bad.zip"))
    outcome = scenes.wait_done(widget, widget.run)
    assert outcome.error is not None and "not a zip file" in outcome.error
    assert "not a zip file" in last_notification() and "\n" not in last_notification()
    assert [layer.name for layer in viewer.layers] == ["cell LR", "cell HR", "colour", "stack"]
    widget.model.setText(str(model_dir))
    widget.tile.setValue(32)
    widget.overlap.setValue(20)  # more than half a tile: the check and message of `microsr predict`
    assert scenes.wait_done(widget, widget.run) is None
    assert "--overlap 20 is more than half the tile (32 px)" in last_notification()
    widget.overlap.setValue(8)
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
    assert widget.model.currentText() == RECOMMENDED_MODEL and widget.budget.isChecked()  # as the CLI
    widget.model.setCurrentText("srcnn")
    widget.steps.setValue(5000)  # far more than the stop needs: a late stop still lands mid-run
    widget.patch.setValue(16)
    widget.out.setText(str(tmp_path / "run"))
    ticks, events = scenes.tick_timer(), []

    def on_step(step: int) -> None:  # on the UI thread: a queued signal from the worker
        events.append(time.monotonic())
        if step >= 5 and events[-1] - events[0] >= 1.0:  # long enough for the timer to show
            widget.stop()

    widget.progress.valueChanged.connect(on_step)
    outcome = scenes.wait_done(widget, widget.train)
    ticks.timer.stop()
    widget.progress.valueChanged.disconnect(on_step)
    assert outcome.cancelled and outcome.error is None
    assert "press Resume" in widget.status.text()
    # the event loop kept turning while the worker trained: timer ticks fall between the worker's
    # progress events (a UI thread blocked by the training gets them all in one burst, with no
    # tick in between: test_blocked_event_loop_is_detected)
    assert scenes.interleaved(events, ticks.times) >= 3, (len(events), len(ticks.times))
    assert (tmp_path / "run" / "checkpoint" / "last.pt").is_file()
    stopped_at = widget.progress.value()
    assert 5 <= stopped_at < 5000 and len(widget.plot.steps) == stopped_at  # live loss, every step

    target = stopped_at + 6
    widget.steps.setValue(target)
    outcome = scenes.wait_done(widget, widget.resume)
    assert outcome.error is None and not outcome.cancelled
    assert outcome.value.validation["step"] == target
    assert widget.progress.value() == target and widget.plot.psnr  # the final validation PSNR
    steps = [int(r["step"]) for r in outcome.value.log if r["phase"] == "train"]
    assert steps == sorted(set(steps)) and steps[-1] == target  # one continuous log, no restart
    cfg = yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())
    assert (
        cfg["recipe"] == "budget" and cfg["optimizer"]["lr"] == budget_recipe("srcnn", None)["optimizer.lr"]
    )


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


def test_blocked_event_loop_is_detected(qapp):
    """The control of the responsiveness measure: events queued while the UI thread is blocked
    arrive in one burst with no timer tick between them."""
    from qtpy.QtCore import QObject, Signal

    class Relay(QObject):
        fired = Signal()

    relay, events = Relay(), []
    relay.fired.connect(lambda: events.append(time.monotonic()))
    ticks = scenes.tick_timer()
    done = threading.Event()

    def worker():  # emits from another thread: queued to the UI thread, as the Job's progress is
        for _ in range(10):
            relay.fired.emit()
            time.sleep(0.03)
        done.set()

    threading.Thread(target=worker).start()
    done.wait()  # the UI thread is blocked for ~0.3 s while the worker emits its 10 events
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        qapp.processEvents()
    ticks.timer.stop()
    assert len(events) == 10 and len(ticks.times) > 10  # all delivered, and the timer did run
    assert scenes.interleaved(events, ticks.times) == 0


def test_super_resolve_with_the_training_intensity_range(make_napari_viewer_proxy, pairs, model_dir):
    viewer = make_napari_viewer_proxy()
    _, outcome = scenes.super_resolve(viewer, pairs, model_dir, tile=16, overlap=4, train_norm=True)
    assert outcome.error is None and not outcome.cancelled, outcome.error
    # reference: the API's prediction with the training images' range
    lr = np.asarray(viewer.layers["cell LR"].data)
    ref = microsr.predict(model_dir, lr, tile=16, overlap=4, normalization="training")
    np.testing.assert_allclose(viewer.layers["cell LR x2 srcnn"].data, ref.image, rtol=1e-5, atol=1e-6)
    assert ref.metadata["normalization"]["kind"] == "fixed"
    own = microsr.predict(model_dir, lr, tile=16, overlap=4)  # the image's own percentiles differ
    assert np.abs(own.image - ref.image).max() > 1e-3
