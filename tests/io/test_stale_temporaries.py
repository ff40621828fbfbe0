"""Temporaries of killed runs are removed by the next run in the same place; live ones are kept."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import torch

from microsr.cli.main import main
from microsr.inference.model_io import save_model_folder
from microsr.io import write_image
from microsr.io._atomic import remove_stale_temporaries
from microsr.models import create_model


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_remove_stale_temporaries_by_process(tmp_path):
    dead, alive = _dead_pid(), os.getppid()
    stale = [
        tmp_path / f".cell.{dead}-0123456789ab.tmp.tif",  # predict output
        tmp_path / f".loss_curves.png.{dead}-k3j4_abc.tmp",  # run folder (mkstemp)
        tmp_path / ".cell.0123456789ab.tmp.tif",  # written before process ids were recorded
    ]
    kept = [
        tmp_path / f".cell.{alive}-0123456789ab.tmp.tif",
        tmp_path / f".cell.{os.getpid()}-0123456789ab.tmp.tif",
        tmp_path / "cell.tif",
        tmp_path / ".notes.txt",
    ]
    for p in stale + kept:
        p.write_bytes(b"x")
    (tmp_path / f".out.partial-{dead}-0123abcd").mkdir()
    (tmp_path / f".out.partial-{dead}-0123abcd" / "lr").mkdir()
    (tmp_path / f".out.partial-{alive}-0123abcd").mkdir()
    removed = remove_stale_temporaries(tmp_path)
    assert sorted(removed) == sorted(stale + [tmp_path / f".out.partial-{dead}-0123abcd"])
    assert all(p.exists() for p in kept) and (tmp_path / f".out.partial-{alive}-0123abcd").is_dir()
    assert remove_stale_temporaries(tmp_path / "missing") == []


def test_predict_and_degrade_clean_up_after_killed_runs(tmp_path, rng):
    torch.manual_seed(0)
    save_model_folder(tmp_path / "m", create_model("srcnn", tiny=True), name="srcnn", scale=2, tiny=True)
    write_image(tmp_path / "lr" / "a.tif", rng.integers(0, 4000, (20, 20), dtype=np.uint16), "YX")
    dead = _dead_pid()
    (tmp_path / "sr").mkdir()
    left = tmp_path / "sr" / f".a.{dead}-0123456789ab.tmp.tif"
    left.write_bytes(b"II*\x00half")
    partial = tmp_path / f".deg.partial-{dead}-0123abcd"
    (partial / "lr").mkdir(parents=True)
    argv = ["predict", "--model", str(tmp_path / "m"), "--input", str(tmp_path / "lr")]
    assert main(argv + ["--output", str(tmp_path / "sr"), "--tile", "16", "--overlap", "4"]) == 0
    assert sorted(p.name for p in (tmp_path / "sr").iterdir()) == ["a.tif"]
    assert main(["degrade", "--hr", str(tmp_path / "lr"), "--out", str(tmp_path / "deg"), "--quiet"]) == 0
    assert not partial.exists() and (tmp_path / "deg" / "lr" / "a.tif").is_file()
