"""Batches prepared ahead in DataLoader workers: the same batches in the same order, errors with their
own type, only pure batchers leave the training process, and Ctrl-C / kill -9 still resume exactly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from microsr.cli.main import main
from microsr.data.batches import PatchBatcher
from microsr.engine.checkpoint import load_checkpoint
from microsr.engine.loop import run_training
from microsr.engine.prefetch import batch_feed, runs_ahead
from microsr.errors import InputError

from ..simulated_pairs import write_pairs
from .helpers import TinyBatcher, tiny_config, tiny_data
from .test_interrupt import _same_as_straight


class _Item:
    def __init__(self, rng: np.random.Generator, name: str):
        self.name, self.mask = name, None
        self.hr = rng.random((64, 64), dtype=np.float32)
        self.lr = self.hr.reshape(32, 2, 32, 2).mean(axis=(1, 3))


def _batcher(seed: int = 3) -> PatchBatcher:
    rng = np.random.default_rng(0)
    items = [_Item(rng, f"im{i}") for i in range(3)]
    return PatchBatcher(items, patch_size=8, scale=2, batch_size=4, seed=seed)


@pytest.mark.parametrize("workers", [0, 2])
def test_feed_yields_the_batches_of_the_indices_in_order(workers):
    batcher, indices = _batcher(), range(3, 21, 2)  # a resumed rank 1 of 2: steps 1..9
    with batch_feed(batcher, indices, workers=workers) as feed:
        got = list(feed)
    assert len(got) == len(indices)
    for i, b in zip(indices, got):
        ref = batcher.batch(i)
        assert set(b) == set(ref) and all(torch.equal(b[k], ref[k]) for k in ref)


class _Broken(PatchBatcher):
    def batch(self, step):
        if step == 5:
            raise InputError("im1.tif", "no foreground patch found")
        return super().batch(step)


def test_an_error_in_a_worker_arrives_with_its_type_and_message():
    b = _batcher()
    broken = _Broken(b.items, patch_size=8, scale=2, batch_size=4, seed=3)
    got: list = []
    with pytest.raises(InputError, match="^im1.tif: no foreground patch found$"):
        with batch_feed(broken, range(0, 10), workers=2) as feed:
            got.extend(next(feed) for _ in range(6))
    assert len(got) == 5  # batches 0-4 arrived; the error is raised where batch 5 is needed


def test_a_batcher_that_is_not_pure_runs_in_the_training_process_when_its_step_needs_it():
    calls = []

    class Recording(TinyBatcher):
        def batch(self, index):
            calls.append((index, os.getpid()))
            return super().batch(index)

    assert not runs_ahead(Recording(0), 2) and runs_ahead(_batcher(), 2) and not runs_ahead(_batcher(), 0)
    with batch_feed(Recording(0), range(4), workers=2) as feed:
        next(feed)
        assert calls == [(0, os.getpid())]  # nothing drawn ahead
        list(feed)
    assert [i for i, _ in calls] == [0, 1, 2, 3]


def _patch_data():
    data = tiny_data()
    data.batcher = _batcher()
    return data


def test_ctrl_c_with_workers_resumes_exactly(tmp_path):
    kw = dict(steps=10, val_every=10, log_every=3, data={"num_workers": 2, "batch_size": 4})
    straight = run_training(tiny_config(tmp_path / "a", **kw), _patch_data(), progress=False)

    def ctrl_c(event):
        if event.step == 4:
            os.kill(os.getpid(), signal.SIGINT)  # like a terminal: arrives while batches 5-8 are ahead

    with pytest.raises(KeyboardInterrupt):
        run_training(tiny_config(tmp_path / "b", **kw), _patch_data(), progress=False, callback=ctrl_c)
    assert load_checkpoint(tmp_path / "b/checkpoint/last.pt")["step"] == 4
    resumed = run_training(tiny_config(tmp_path / "b", resume=True, **kw), _patch_data(), progress=False)
    _same_as_straight(straight, resumed)


def _args(data, out, *extra):
    return [
        "train", "--lr", str(data / "lr"), "--hr", str(data / "hr"), "--out", str(out), "--model", "srcnn",
        "--tiny", "--steps", "40", "--batch-size", "4", "--patch-size", "16", "--val-every", "40",
        "--num-threads", "1", "--device", "cpu", "--quiet", *extra,
    ]  # fmt: skip


def test_kill_9_with_workers_resumes_exactly(tmp_path):
    data = write_pairs(tmp_path / "pairs", count=2, size=64)
    code = "import sys; from microsr.cli.main import main; sys.exit(main(sys.argv[1:]))"
    args = _args(data, tmp_path / "b", "--workers", "2", "--checkpoint-every", "2")
    killed = subprocess.Popen([sys.executable, "-c", code, *args], stderr=subprocess.PIPE)
    ckpt, deadline = tmp_path / "b/checkpoint/last.pt", time.monotonic() + 120
    while not ckpt.is_file() and killed.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    killed.kill()  # SIGKILL: no handler runs
    killed.wait()
    assert 2 <= load_checkpoint(ckpt)["step"] <= 40
    assert main(_args(data, tmp_path / "a", "--workers", "2")) == 0
    assert main(_args(data, tmp_path / "b", "--workers", "1", "--resume")) == 0  # workers may change
    _same_as_straight(tmp_path / "a", tmp_path / "b")


def test_a_training_thread_other_than_main_prepares_batches_in_its_own_process():
    # The napari Train widget trains on a worker thread: no worker processes there (torch would
    # raise a worker's exit into the GUI's main thread), the same batches in the same order.
    import threading

    seen: dict[str, object] = {}

    def on_thread() -> None:
        seen["ahead"] = runs_ahead(_batcher(), 2)
        with batch_feed(_batcher(), range(3), workers=2) as feed:
            seen["batches"] = list(feed)

    t = threading.Thread(target=on_thread)
    t.start()
    t.join()
    assert seen["ahead"] is False
    with batch_feed(_batcher(), range(3), workers=0) as feed:
        expected = list(feed)
    for got, want in zip(seen["batches"], expected, strict=True):  # type: ignore[call-overload]
        assert got.keys() == want.keys()
        assert all(torch.equal(got[k], want[k]) for k in want)


def test_an_exception_that_cannot_cross_processes_keeps_its_name_and_text():
    from microsr.engine.prefetch import _Raised
    from microsr.errors import InputError

    class LocalError(Exception):  # defined in a function: pickle cannot find it by name
        pass

    carried = _Raised(LocalError("bad patch")).exc
    assert type(carried) is RuntimeError and str(carried) == "LocalError: bad patch"
    kept = _Raised(InputError("a.tif", "no pixels")).exc
    assert type(kept) is InputError and str(kept) == "a.tif: no pixels"
