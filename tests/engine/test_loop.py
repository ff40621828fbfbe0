"""Training loop: outputs, exact resume, refusals, early stopping, schedules, fine-tuning."""

from __future__ import annotations

import csv
import json

import pytest
import torch
from safetensors.torch import load_file

from microsr.engine.checkpoint import load_checkpoint
from microsr.engine.loop import run_training
from microsr.errors import ConfigError, InputError
from microsr.modelcard import load_model_folder

from .helpers import tiny_config, tiny_data


def _rows(run):
    with open(run / "log.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def test_run_folder_contents(tmp_path):
    run = run_training(tiny_config(tmp_path / "run"), tiny_data(), progress=False)
    for name in [
        "config.yaml",
        "model.json",
        "weights/best.safetensors",
        "weights/last.safetensors",
        "checkpoint/last.pt",
        "log.csv",
        "loss_curves.png",
        "loss_curves_log.png",
    ]:
        assert (run / name).is_file(), name
    doc = json.loads((run / "model.json").read_text())
    assert doc["architecture"] == {
        "name": "srcnn",
        "options": {},
        "tiny": True,
        "in_channels": 1,
        "out_channels": 1,
        "scale": 2,
    }
    assert doc["validation"]["step"] == 12 and doc["validation"]["best_step"] in (6, 12)
    assert doc["normalization"]["kind"] == "percentile"
    last = load_file(str(run / "weights/last.safetensors"))
    model, info = load_model_folder(run, weights="last", device="cpu")
    for k, v in model.state_dict().items():
        assert torch.equal(v, last[k])
    rows = _rows(run)
    assert [r["step"] for r in rows if r["phase"] == "val"] == ["6", "12"]
    assert len([r for r in rows if r["phase"] == "train"]) == 12
    assert all(r["loss_mse"] and not r["ssim"] for r in rows if r["phase"] == "train")  # no collision
    assert (run / "loss_curves.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"ema_decay": 0.99},
        {
            "model": {"name": "dfgan", "tiny": True},
            "schedule": {"name": "plateau", "patience": 0},
            "adversarial": {"options": {"stem": 4, "widths": [4, 8], "hidden": 8}, "g_steps_per_d_step": 2},
        },
    ],
    ids=["srcnn", "srcnn-ema", "dfgan-plateau"],
)
def test_resume_reproduces_uninterrupted_run(tmp_path, extra):
    straight = run_training(tiny_config(tmp_path / "a", steps=12, **extra), tiny_data(), progress=False)
    run_training(tiny_config(tmp_path / "b", steps=6, **extra), tiny_data(), progress=False)
    assert load_checkpoint(tmp_path / "b/checkpoint/last.pt")["step"] == 6
    resumed = run_training(
        tiny_config(tmp_path / "b", steps=12, resume=True, **extra), tiny_data(), progress=False
    )
    a, b = _rows(straight), _rows(resumed)
    assert a == b  # every logged value (losses, lr, metrics, D terms) identical as text
    assert len(a) == 14
    wa = load_file(str(straight / "weights/last.safetensors"))
    wb = load_file(str(resumed / "weights/last.safetensors"))
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


def test_refusals(tmp_path):
    with pytest.raises(InputError, match="no checkpoint to resume from"):
        run_training(tiny_config(tmp_path / "none", resume=True), tiny_data(), progress=False)
    run = run_training(tiny_config(tmp_path / "r", steps=2, val_every=2), tiny_data(), progress=False)
    with pytest.raises(InputError, match="not empty"):
        run_training(tiny_config(run, steps=2), tiny_data(), progress=False)
    crashed = tmp_path / "crashed"  # stopped before its first checkpoint: only config.yaml
    crashed.mkdir()
    (crashed / "config.yaml").write_text("steps: 1\n")
    run_training(tiny_config(crashed, steps=1, val_every=1), tiny_data(), progress=False)
    with pytest.raises(ConfigError, match="differ.*optimizer.lr"):
        run_training(
            tiny_config(run, steps=4, resume=True, optimizer={"lr": 5e-4}), tiny_data(), progress=False
        )
    with pytest.raises(ConfigError, match="needs a GPU"):
        run_training(tiny_config(tmp_path / "p", precision="bf16-mixed"), tiny_data(), progress=False)
    with pytest.raises(ConfigError, match="diverged"):
        run_training(
            tiny_config(tmp_path / "nan", optimizer={"lr": 1e30}, steps=20), tiny_data(), progress=False
        )
    with pytest.raises(ConfigError, match="no weights to train"):
        run_training(tiny_config(tmp_path / "b", model={"name": "bicubic"}), tiny_data(), progress=False)


def test_early_stopping(tmp_path):
    # lr 0 -> validation never improves after the first check; patience 2 stops at the 3rd check
    cfg = tiny_config(
        tmp_path / "es",
        steps=40,
        val_every=2,
        optimizer={"lr": 1e-12},
        early_stopping={"patience": 2, "min_delta": 1.0},
    )
    run = run_training(cfg, tiny_data(), progress=False)
    doc = json.loads((run / "model.json").read_text())
    assert doc["training"]["stopped_early"] is True
    assert doc["training"]["steps_done"] == 6
    assert [r["step"] for r in _rows(run) if r["phase"] == "val"] == ["2", "4", "6"]


@pytest.mark.parametrize(
    "schedule,expected",
    [
        ({"name": "step", "step_size": 2, "gamma": 0.5}, [1e-3, 5e-4, 5e-4, 2.5e-4]),
        ({"name": "plateau", "factor": 0.5, "patience": 0}, None),
    ],
)
def test_schedules(tmp_path, schedule, expected):
    cfg = tiny_config(
        tmp_path / "s",
        steps=4,
        val_every=1,
        schedule=schedule,
        optimizer={"lr": 1e-3} if expected else {"lr": 1e-12},
    )
    rows = [r for r in _rows(run_training(cfg, tiny_data(), progress=False)) if r["phase"] == "train"]
    lrs = [float(r["lr"]) for r in rows]
    if expected:
        assert lrs == pytest.approx(expected)
    else:  # no improvement at lr ~0 -> halved after every validation but the first
        assert lrs[1] == pytest.approx(lrs[0] / 2) and lrs[3] == pytest.approx(lrs[0] / 8)


def test_onecycle_resume_needs_same_total(tmp_path):
    run = run_training(
        tiny_config(tmp_path / "o", steps=4, val_every=2, schedule={"name": "onecycle"}),
        tiny_data(),
        progress=False,
    )
    with pytest.raises(ConfigError, match="same steps"):
        run_training(
            tiny_config(run, steps=8, val_every=2, resume=True, schedule={"name": "onecycle"}),
            tiny_data(),
            progress=False,
        )


def test_init_from_loads_weights_fresh_optimizer(tmp_path):
    first = run_training(tiny_config(tmp_path / "first", steps=4, val_every=4), tiny_data(), progress=False)
    cfg = tiny_config(
        tmp_path / "second", steps=1, val_every=1, init_from=str(first), optimizer={"lr": 1e-12}
    )
    second = run_training(cfg, tiny_data(), progress=False)
    a = load_file(str(first / "weights/best.safetensors"))
    b = load_file(str(second / "weights/last.safetensors"))
    assert all(torch.allclose(a[k], b[k], atol=1e-9) for k in a)
    with pytest.raises(ConfigError, match="differs"):
        run_training(
            tiny_config(tmp_path / "third", scale=3, init_from=str(first)), tiny_data(), progress=False
        )


@pytest.mark.gpu
@pytest.mark.parametrize("precision", ["32-true", "bf16-mixed", "16-mixed"])
def test_gpu_precisions(tmp_path, precision):
    cfg = tiny_config(tmp_path / precision, device="cuda", precision=precision, steps=2, val_every=2)
    run = run_training(cfg, tiny_data(), progress=False)
    assert json.loads((run / "model.json").read_text())["training"]["steps_done"] == 2
