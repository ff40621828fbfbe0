"""Run-folder lock: a second writer is refused naming the holder; a killed holder is no obstacle."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from microsr.cli.main import main
from microsr.errors import InputError
from microsr.io import write_image
from microsr.io.lock import HOLDER_NAME, LOCK_NAME, folder_lock

HOLD = textwrap.dedent(
    """
    import sys, time
    from microsr.io.lock import folder_lock
    with folder_lock(sys.argv[1], "train"):
        print("held", flush=True)
        time.sleep(120)
    """
)


@pytest.fixture
def pairs(tmp_path):
    rng = np.random.default_rng(0)
    for i in range(3):
        hr = rng.random((32, 32))
        write_image(tmp_path / "hr" / f"p{i}.tif", (hr * 4000).astype(np.uint16))
        write_image(tmp_path / "lr" / f"p{i}.tif", (hr[::2, ::2] * 4000).astype(np.uint16))
    return tmp_path


def _train(t, out, steps=2):
    return ["train", "--lr", str(t / "lr"), "--hr", str(t / "hr"), "--model", "srcnn", "--tiny"] + (
        f"--steps {steps} --patch-size 8 --batch-size 2 --num-threads 1 --device cpu --quiet --out".split()
        + [str(out)]
    )


def test_second_writer_refused_then_killed_holder_taken_over(pairs, capsys):
    out = pairs / "run"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(out)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert main(_train(pairs, out)) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1
        assert f"in use by `microsr train` (process {holder.pid} on " in err[0]
        assert err[0].endswith("wait for it to finish or choose another folder")
        assert sorted(p.name for p in out.iterdir()) == [LOCK_NAME, HOLDER_NAME]  # nothing of ours
    finally:
        holder.kill()  # kill -9: no clean-up, the holder note stays behind
        holder.wait()
    stale_tmp = out / f".loss_curves.png.{holder.pid}-k3j4abcd.tmp"  # as a killed run leaves it
    stale_tmp.write_bytes(b"\x89PNG half")
    assert main(_train(pairs, out)) == 0
    captured = capsys.readouterr()
    assert f"previous run `microsr train` (process {holder.pid}" in captured.err
    assert "ended without releasing the folder (killed?); taking it over" in captured.err
    assert not stale_tmp.exists() and not (out / HOLDER_NAME).exists()
    assert (out / "weights" / "last.safetensors").is_file()


def test_two_concurrent_trainings_exactly_one_runs(pairs):
    out = pairs / "run"
    runner = "import sys; from microsr.cli.main import main; sys.exit(main(sys.argv[1:]))"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", runner, *_train(pairs, out, steps=4)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = [(p.wait(timeout=300), p.stderr.read()) for p in procs]
    codes = sorted(code for code, _ in results)
    assert codes == [0, 2], results
    refused = next(err for code, err in results if code == 2).strip().splitlines()
    assert len(refused) == 1
    # refused while the other runs, or (if it started only after the other finished) as a full folder
    assert "in use by `microsr train`" in refused[0] or "run folder is not empty" in refused[0]


def test_failed_new_run_leaves_no_folder(pairs, capsys):
    out = pairs / "new_run"
    (pairs / "hr" / "p0.tif").write_bytes(b"not a tiff")
    assert main(_train(pairs, out)) == 2
    assert "cannot read TIFF" in capsys.readouterr().err
    assert not out.exists()


def test_folder_lock_in_process(tmp_path):
    with folder_lock(tmp_path / "a", "predict") as folder:
        note = (folder / HOLDER_NAME).read_text()
        assert note.startswith("`microsr predict` (process ")
    assert not (tmp_path / "a" / HOLDER_NAME).exists()
    with pytest.raises(InputError):  # the folder path is a file
        with folder_lock(tmp_path / "a" / LOCK_NAME / "x", "train"):
            pass
