"""Best weights: with the PSNR monitor, earlier weights stay the best only when the per-block errors
of the validation images resolve them as better (paired, 2 standard errors); per-block errors
equal a direct computation; the tracker's state survives a checkpoint round trip."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from microsr.engine.build import RESOLVED_SE, Tracker
from microsr.engine.validate import BLOCK, block_log_mse


def _psnr_tracker(first: list[float], value: float = 30.0) -> Tracker:
    t = Tracker.new("psnr")
    assert t.update(value, 100, 0.0, first)
    return t


def test_lower_psnr_within_noise_moves_the_best_to_the_later_weights():
    # the later weights are worse on average by 0.01 (log10 MSE) but the blocks disagree:
    # mean 0.01, SE of (+0.11, -0.09, +0.11, -0.09) = 0.058 -> t = 0.17, not resolved
    t = _psnr_tracker([-3.0, -3.0, -3.0, -3.0])
    later = [-2.89, -3.09, -2.89, -3.09]
    assert t.update(29.9, 200, 0.0, later)
    assert t.best_step == 200 and t.best == 29.9 and t.best_blocks == later


def test_earlier_weights_resolved_better_stay_the_best():
    # every block worse by 0.10 +- 0.01: t is about 20
    t = _psnr_tracker([-3.0, -3.1, -2.9, -3.05])
    later = [-2.90, -2.99, -2.81, -2.95]
    assert not t.update(29.0, 200, 0.0, later)
    assert t.best_step == 100 and t.best == 30.0


def test_threshold_is_two_standard_errors():
    d = np.array([0.0, 0.2, 0.1, 0.3])  # mean 0.15, SE 0.0645: t = 2.32 > 2
    se = d.std(ddof=1) / math.sqrt(len(d))
    assert d.mean() / se > RESOLVED_SE
    t = _psnr_tracker([0.0] * 4)
    assert not t.update(29.0, 200, 0.0, d.tolist())
    t = _psnr_tracker([0.0] * 4)
    assert t.update(29.0, 200, 0.0, (d / 2 - 0.05).tolist())  # mean 0.025, t = 0.78


def test_without_blocks_or_other_monitors_the_plain_comparison_holds():
    t = _psnr_tracker([])
    assert not t.update(29.9, 200, 0.0)  # no block errors: plain "higher is better"
    loss = Tracker.new("val_loss")
    assert loss.update(0.5, 100, 0.0) and not loss.update(0.6, 200, 0.0, [0.0, 0.0])
    assert loss.best_step == 100


def test_a_single_block_never_resolves_and_identical_blocks_tie():
    t = _psnr_tracker([-3.0])
    assert t.update(29.0, 200, 0.0, [-2.5])
    t = _psnr_tracker([-3.0, -2.0])
    assert t.update(29.0, 200, 0.0, [-3.0, -2.0])


def test_block_log_mse_equals_a_direct_computation():
    rng = np.random.default_rng(0)
    gt = rng.random((1, 1, 2 * BLOCK + 5, 3 * BLOCK + 1)).astype(np.float32)
    pred = gt + rng.normal(0, 0.1, gt.shape).astype(np.float32)
    got = block_log_mse(torch.from_numpy(pred), torch.from_numpy(gt))
    e = (pred - gt)[0, 0] ** 2
    want = [
        math.log10(float(e[i : i + BLOCK, j : j + BLOCK].mean()))
        for i in range(0, 2 * BLOCK, BLOCK)
        for j in range(0, 3 * BLOCK, BLOCK)
    ]
    np.testing.assert_allclose(got, want, rtol=1e-5)
    small = block_log_mse(torch.from_numpy(pred[..., :8, :8]), torch.from_numpy(gt[..., :8, :8]))
    assert small == pytest.approx([math.log10(float(e[:8, :8].mean()))], rel=1e-5)


def test_state_round_trip_keeps_the_blocks(tmp_path):
    from microsr.engine.checkpoint import load_checkpoint, save_checkpoint

    t = _psnr_tracker([-3.0, -2.5])
    path = save_checkpoint(tmp_path / "last.pt", {"tracker": t.state()})
    back = Tracker(**load_checkpoint(path)["tracker"])
    assert back == t
    old = t.state()
    del old["best_blocks"]  # a checkpoint written before best_blocks existed
    assert Tracker(**old).best_blocks == []
