"""The training callback: one event per step, validation rows on validation steps, and a stop
request that saves the resume state so that the resumed run equals the uninterrupted one."""

from __future__ import annotations

import threading

import pytest

from microsr.engine.checkpoint import load_checkpoint
from microsr.engine.loop import run_training

from .helpers import tiny_config, tiny_data
from .test_interrupt import _same_as_straight


def test_events_carry_step_loss_and_validation_rows(tmp_path):
    events = []
    run_training(
        tiny_config(tmp_path / "a", steps=6, val_every=3), tiny_data(), progress=False, callback=events.append
    )
    assert [e.step for e in events] == [1, 2, 3, 4, 5, 6]
    assert all(e.total == 6 and e.loss > 0 for e in events)
    vals = {e.step: e.validation for e in events if e.validation is not None}
    assert sorted(vals) == [3, 6]
    assert vals[3]["phase"] == "val" and vals[3]["psnr"] > 0 and vals[3]["val_loss"] > 0


def test_stop_from_a_worker_thread_saves_state_and_resumes_exactly(tmp_path):
    kw = dict(steps=12, val_every=12, log_every=3)
    straight = run_training(tiny_config(tmp_path / "a", **kw), tiny_data(), progress=False)
    failure = []

    def stopped_run():  # as the napari widget runs it: not the main thread, so no SIGINT handler
        try:
            run_training(
                tiny_config(tmp_path / "b", **kw), tiny_data(), progress=False, callback=lambda e: e.step == 7
            )
        except KeyboardInterrupt:
            failure.append("stopped")

    worker = threading.Thread(target=stopped_run)
    worker.start()
    worker.join()
    assert failure == ["stopped"]
    assert load_checkpoint(tmp_path / "b/checkpoint/last.pt")["step"] == 7
    resumed = run_training(tiny_config(tmp_path / "b", resume=True, **kw), tiny_data(), progress=False)
    _same_as_straight(straight, resumed)


def test_a_callback_error_propagates(tmp_path):
    def boom(event):
        raise RuntimeError("plot failed")

    with pytest.raises(RuntimeError, match="plot failed"):
        run_training(tiny_config(tmp_path / "a", steps=3), tiny_data(), progress=False, callback=boom)
