"""Training from images read on demand (data.lazy) feeds the loop the batches training from memory feeds it."""

from __future__ import annotations

import numpy as np
import pytest

from microsr.engine.data import prepare_data
from microsr.engine.prefetch import batch_feed

from .test_train_files import _cfg, make_pairs

pytest.importorskip("zarr")


@pytest.mark.parametrize(("n", "split"), [(2, "region"), (4, "image")])
def test_lazy_and_in_memory_training_data_are_equal(tmp_path, n, split):
    lr, hr = make_pairs(tmp_path, n=n, size=96)
    data = {}
    for mode in ("never", "always"):
        cfg = _cfg(tmp_path, lr, hr, steps=4, data={
            "lr_dir": str(lr), "hr_dir": str(hr), "patch_size": 16, "batch_size": 4, "val_split": split,
            "val_fraction": 0.25, "lazy": mode, "cache_mb": 1, "percentile_jitter": True,
        })  # fmt: skip
        data[mode] = prepare_data(cfg)
    mem, lazy = data["never"], data["always"]
    assert type(lazy.batcher.items[0].hr).__name__ == "LazyPlane"
    assert mem.summary == lazy.summary and mem.epoch_steps == lazy.epoch_steps
    assert len(mem.val_batches) == len(lazy.val_batches) > 0
    for a, b in zip(mem.val_batches, lazy.val_batches):
        assert a["lr"].equal(b["lr"]) and a["hr"].equal(b["hr"])
    indices = range(3, 9)
    with (
        batch_feed(mem.batcher, indices, workers=0) as ref,
        batch_feed(lazy.batcher, indices, workers=2) as got,
    ):
        for i, x, y in zip(indices, ref, got):  # the lazy batches come from two worker processes
            assert x["lr"].equal(y["lr"]) and x["hr"].equal(y["hr"]), i
    assert np.isfinite(lazy.batcher.levels[0])


def test_a_lazily_read_run_resumed_equals_an_uninterrupted_in_memory_run(tmp_path):
    from safetensors.torch import load_file

    from microsr.engine import train

    lr, hr = make_pairs(tmp_path, n=2, size=64)

    def cfg(out, steps, lazy, **over):
        data = {
            "lr_dir": str(lr),
            "hr_dir": str(hr),
            "patch_size": 16,
            "batch_size": 4,
            "lazy": lazy,
            "cache_mb": 1,
        }
        return _cfg(tmp_path / out, lr, hr, steps=steps, val_every=3, data=data, **over)

    straight = train(cfg("a", 6, "never"), progress=False)
    train(cfg("b", 3, "always"), progress=False)  # stops after step 3, as an interrupted run would
    resumed = train(cfg("b", 6, "always", resume=True), progress=False)
    wa, wb = (
        load_file(str(straight / "weights/last.safetensors")),
        load_file(str(resumed / "weights/last.safetensors")),
    )
    assert wa.keys() == wb.keys() and all(wa[k].equal(wb[k]) for k in wa)
