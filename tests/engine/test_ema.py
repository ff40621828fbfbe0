"""Exponential moving average of the weights: the update rule, buffers, and its use in training."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file
from torch import nn

from microsr.engine.checkpoint import load_checkpoint
from microsr.engine.ema import WeightEMA
from microsr.engine.loop import run_training
from microsr.errors import ConfigError

from .helpers import tiny_config, tiny_data


def test_update_rule_with_warm_up():
    # reference values by hand from d_n = min(decay, (1 + n) / (10 + n)) and ema = d ema + (1 - d) w
    model = nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        model.weight.fill_(0.0)
    ema = WeightEMA(model, decay=0.999)
    assert ema.current_decay() == pytest.approx(0.1)
    with torch.no_grad():
        model.weight.fill_(1.0)
    ema.update(model)  # 0.1 * 0 + 0.9 * 1
    assert ema.module.weight.item() == pytest.approx(0.9)
    ema.update(model)  # d = 2/11: 0.9 * 2/11 + 1 * 9/11
    assert ema.module.weight.item() == pytest.approx(10.8 / 11)
    assert ema.updates == 2 and not ema.module.weight.requires_grad
    assert model.weight.item() == 1.0  # the trained model is never touched


def test_decay_caps_the_warm_up():
    ema = WeightEMA(nn.Linear(1, 1), decay=0.5)
    ema.updates = 100
    assert ema.current_decay() == 0.5  # (1 + 100) / (10 + 100) = 0.918 would exceed the cap
    with pytest.raises(ValueError, match="decay must be in"):
        WeightEMA(nn.Linear(1, 1), decay=1.0)


def test_float_buffers_averaged_integer_buffers_copied():
    model = nn.BatchNorm2d(2)
    ema = WeightEMA(model, decay=0.9)
    model.train()
    model(torch.full((4, 2, 3, 3), 10.0))  # running_mean 0 -> 1.0 (momentum 0.1), counter 0 -> 1
    ema.update(model)  # d = 0.1
    assert torch.allclose(ema.module.running_mean, torch.full((2,), 0.9))
    assert ema.module.num_batches_tracked.item() == 1 and ema.module.num_batches_tracked.dtype == torch.long


def test_state_round_trip():
    model = nn.Linear(2, 2)
    a = WeightEMA(model, decay=0.99)
    with torch.no_grad():
        model.weight.add_(1.0)
    a.update(model)
    b = WeightEMA(nn.Linear(2, 2), decay=0.5)
    b.load_state_dict(a.state_dict())
    assert b.updates == 1 and b.decay == 0.99
    assert all(
        torch.equal(x, y) for x, y in zip(a.module.state_dict().values(), b.module.state_dict().values())
    )


def test_training_saves_and_validates_the_average(tmp_path):
    run = run_training(tiny_config(tmp_path / "ema", ema_decay=0.9), tiny_data(), progress=False)
    ckpt = load_checkpoint(run / "checkpoint/last.pt")
    last = load_file(str(run / "weights/last.safetensors"))
    assert ckpt["ema"]["updates"] == 12
    for k, v in last.items():
        assert torch.equal(v, ckpt["ema"]["weights"][k])  # the files hold the average ...
    assert any(not torch.equal(last[k], ckpt["model"][k]) for k in last)  # ... not the raw weights
    plain = run_training(tiny_config(tmp_path / "plain"), tiny_data(), progress=False)
    log_ema = (run / "log.csv").read_text().splitlines()
    log_plain = (plain / "log.csv").read_text().splitlines()
    train_rows = [i for i, line in enumerate(log_plain) if ",train," in line]
    assert all(log_ema[i] == log_plain[i] for i in train_rows)  # EMA does not change training
    assert [line for line in log_ema if ",val," in line] != [line for line in log_plain if ",val," in line]
    assert json.loads((run / "model.json").read_text())["training"]["ema_decay"] == 0.9


def test_resume_refuses_a_changed_decay(tmp_path):
    run_training(tiny_config(tmp_path / "r", steps=6, ema_decay=0.9), tiny_data(), progress=False)
    with pytest.raises(ConfigError, match="ema_decay"):
        run_training(
            tiny_config(tmp_path / "r", steps=12, ema_decay=0.99, resume=True), tiny_data(), progress=False
        )


@pytest.mark.parametrize("decay", [0.0, 1.0, -0.5])
def test_config_rejects_decay_outside_0_1(tmp_path, decay):
    with pytest.raises(ConfigError, match="ema_decay"):
        tiny_config(tmp_path / "x", ema_decay=decay)
