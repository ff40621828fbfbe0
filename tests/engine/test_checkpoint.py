"""Checkpoint files: weights-only loading, refusal of pickled objects, atomic writes, RNG states."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from microsr.engine.checkpoint import load_checkpoint, rng_state, save_checkpoint, set_rng_state
from microsr.errors import InputError


class Payload:
    """Any class instance: torch.load(weights_only=True) must refuse to rebuild it."""


def test_round_trip_and_no_temp_files(tmp_path):
    path = tmp_path / "ck" / "last.pt"
    state = {
        "step": 7,
        "model": {"w": torch.arange(3.0)},
        "tracker": {"best": float("inf")},
        "rng": rng_state(),
        "fingerprint": "{}",
    }
    save_checkpoint(path, state)
    doc = load_checkpoint(path)
    assert doc["step"] == 7 and torch.equal(doc["model"]["w"], torch.arange(3.0))
    assert doc["tracker"]["best"] == float("inf")
    assert [p.name for p in path.parent.iterdir()] == ["last.pt"]


def test_pickled_objects_are_refused(tmp_path):
    path = tmp_path / "last.pt"
    torch.save({"format": "microsr-checkpoint/1", "evil": Payload()}, path)
    with pytest.raises(InputError, match="unreadable or unsafe"):
        load_checkpoint(path)
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(InputError, match="unreadable or unsafe"):
        load_checkpoint(path)
    torch.save({"step": 1}, path)
    with pytest.raises(InputError, match="not a microsr checkpoint"):
        load_checkpoint(path)


def test_rng_states_restore_all_generators(tmp_path):
    random.seed(1), np.random.seed(2), torch.manual_seed(3)
    save_checkpoint(tmp_path / "r.pt", {"rng": rng_state()})
    expected = (random.random(), np.random.rand(), torch.rand(1).item())
    random.seed(9), np.random.seed(9), torch.manual_seed(9)
    set_rng_state(load_checkpoint(tmp_path / "r.pt")["rng"])
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == expected
