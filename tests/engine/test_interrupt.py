"""Mid-run checkpoints (``checkpoint_every``) and Ctrl-C: both resume to exactly the uninterrupted run."""

from __future__ import annotations

import csv
import os
import signal

import pytest
import torch
from safetensors.torch import load_file

from microsr.engine.checkpoint import load_checkpoint
from microsr.engine.loop import run_training

from .helpers import TinyBatcher, tiny_config, tiny_data


def _rows(run):
    with open(run / "log.csv", newline="") as fh:
        return list(csv.DictReader(fh))


class _Failing(TinyBatcher):
    """Batch ``at`` sends SIGINT to this process (``how="sigint"``) or raises (``how="crash"``)."""

    def __init__(self, at: int, how: str):
        super().__init__(0)
        self.at, self.how = at, how

    def batch(self, index):
        if index == self.at:
            if self.how == "sigint":
                os.kill(os.getpid(), signal.SIGINT)  # arrives now; the loop must finish this step
            else:
                raise RuntimeError("simulated crash")
        return super().batch(index)


def _same_as_straight(straight, resumed):
    assert _rows(straight) == _rows(resumed)  # every logged value, as text
    a = load_file(str(straight / "weights/last.safetensors"))
    b = load_file(str(resumed / "weights/last.safetensors"))
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_ctrl_c_saves_after_the_current_step_and_resumes_exactly(tmp_path, capsys):
    kw = dict(steps=12, val_every=12, log_every=3)  # log rows every 3 steps: pending losses matter
    straight = run_training(tiny_config(tmp_path / "a", **kw), tiny_data(), progress=False)
    data = tiny_data()
    data.batcher = _Failing(at=7, how="sigint")
    before = signal.getsignal(signal.SIGINT)  # default, or SIG_IGN when the tests run in background
    with pytest.raises(KeyboardInterrupt):
        run_training(tiny_config(tmp_path / "b", **kw), data, progress=False)
    ckpt = load_checkpoint(tmp_path / "b/checkpoint/last.pt")
    assert ckpt["step"] == 8  # step index 7 (the 8th) was completed before stopping
    assert sum(len(v) for v in ckpt["pending_losses"].values()) > 0  # steps 7-8 not yet logged
    assert signal.getsignal(signal.SIGINT) is before  # the caller's handler restored
    assert "interrupted after step 8; resume state saved" in capsys.readouterr().err
    resumed = run_training(tiny_config(tmp_path / "b", resume=True, **kw), tiny_data(), progress=False)
    _same_as_straight(straight, resumed)


def test_checkpoint_every_survives_a_crash_between_validations(tmp_path):
    kw = dict(steps=10, val_every=10, log_every=1, checkpoint_every=4)
    straight = run_training(tiny_config(tmp_path / "a", **kw), tiny_data(), progress=False)
    data = tiny_data()
    data.batcher = _Failing(at=9, how="crash")
    with pytest.raises(RuntimeError, match="simulated crash"):
        run_training(tiny_config(tmp_path / "b", **kw), data, progress=False)
    assert load_checkpoint(tmp_path / "b/checkpoint/last.pt")["step"] == 8
    assert [r["step"] for r in _rows(tmp_path / "b")][-1] == "8"  # log.csv written with it
    resumed = run_training(tiny_config(tmp_path / "b", resume=True, **kw), tiny_data(), progress=False)
    _same_as_straight(straight, resumed)


def test_without_checkpoint_every_a_crash_loses_the_steps_since_validation(tmp_path):
    data = tiny_data()
    data.batcher = _Failing(at=9, how="crash")
    with pytest.raises(RuntimeError):
        run_training(tiny_config(tmp_path / "c", steps=10, val_every=5), data, progress=False)
    assert load_checkpoint(tmp_path / "c/checkpoint/last.pt")["step"] == 5
