"""Data-parallel training: two CPU processes (gloo) launched by torchrun."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def test_two_process_ddp_on_cpu(tmp_path):
    out = tmp_path / "run"
    worker = Path(__file__).with_name("ddp_worker.py")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        str(worker),
        str(out),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
    if proc.returncode != 0:
        pytest.fail(f"torchrun failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    r0 = json.loads(Path(f"{out}.rank0.json").read_text())
    r1 = json.loads(Path(f"{out}.rank1.json").read_text())
    assert r0["world"] == r1["world"] == 2
    assert r0["drawn"] == [0, 2, 4, 6] and r1["drawn"] == [1, 3, 5, 7]  # different batches per rank
    assert (out / "weights/last.safetensors").is_file() and (out / "model.json").is_file()
    assert not list(tmp_path.glob("run/**/*.tmp*"))
    log = (out / "log.csv").read_text().splitlines()
    assert len([line for line in log if ",train," in line]) == 4
