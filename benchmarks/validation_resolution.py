"""Can a run's validation data tell its best weights from its last? A paired, per-block test.

For each training run folder given (``microsr train --out RUN``), the validation images are
rebuilt exactly as training built them (``microsr.engine.data.prepare_data`` on the run's
``config.yaml``), both ``weights/best.safetensors`` and ``weights/last.safetensors`` predict them,
and the squared errors are averaged in blocks of ``--block`` x ``--block`` HR px. Per block, the
PSNR difference ``10 log10(MSE_last / MSE_best)`` (dB by which the best weights beat the last);
printed: the whole-set difference (what the training log compared), the mean over blocks, its
standard error and t = mean / SE. A ``|t|`` below about 2 means the validation data do not resolve
the two checkpoints: the choice between them is noise. Optionally, ``--test`` compares with the result.json of ``real_data_ablation.py``::

    python benchmarks/validation_resolution.py /tmp/abl/runs/*/unet+k3/seed*/run --test

Prints one JSON line per run; writes nothing. ``--smoke`` trains a tiny SRCNN for 40 steps on one
simulated pair in a temporary folder and analyses that run (checks the script, not the question).
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch


def block_errors(pred: np.ndarray, gt: np.ndarray, block: int) -> np.ndarray:
    """Mean squared error of each whole ``block`` x ``block`` tile of two (H, W) arrays."""
    h, w = (s // block * block for s in gt.shape)
    e = ((pred[:h, :w] - gt[:h, :w]) ** 2).reshape(h // block, block, w // block, block)
    return e.mean(axis=(1, 3)).ravel()


def run_errors(run: Path, weights: str, batches: list, block: int) -> tuple[np.ndarray, float]:
    """Per-block MSEs of ``weights`` over every validation image, and the mean of the images' PSNRs."""
    from microsr.modelcard.folder import load_model_folder
    from microsr.models.outputs import final_output

    model = load_model_folder(run, weights=weights, device="cpu")[0].eval()
    errs, psnrs = [], []
    with torch.no_grad():
        for b in batches:
            args = (b["lr"], b["mask"]) if "mask" in b else (b["lr"],)
            pred = final_output(model(*args))[0, 0].numpy()
            gt = b["hr"][0, 0].numpy()
            errs.append(block_errors(pred, gt, block))
            psnrs.append(10 * math.log10(1 / float(np.mean((pred - gt) ** 2))))
    return np.concatenate(errs), float(np.mean(psnrs))


def compare(run: Path, block: int) -> dict | None:
    """The paired comparison of best and last weights of ``run`` (None without validation images)."""
    from microsr.engine.config import load_config
    from microsr.engine.data import prepare_data

    log = [line.split(",") for line in (run / "log.csv").read_text().splitlines()[1:]]
    val_steps = [int(r[0]) for r in log if r[2] == "val"]
    cfg = load_config(run / "config.yaml")
    batches = prepare_data(cfg).val_batches
    if not batches:
        return None
    best, best_psnr = run_errors(run, "best", batches, block)
    last, last_psnr = run_errors(run, "last", batches, block)
    diff = 10 * np.log10(last / best)
    se = float(diff.std(ddof=1) / math.sqrt(len(diff))) if len(diff) > 1 else math.nan
    return {
        "run": str(run),
        "best_is_last": bool(np.array_equal(best, last)),
        "validations": val_steps,
        "val_psnr_best_minus_last": round(best_psnr - last_psnr, 3),
        "blocks": int(len(diff)),
        "block_mean_db": round(float(diff.mean()), 3),
        "block_se_db": round(se, 3),
        "t": round(float(diff.mean()) / se, 2) if se > 0 else None,
    }


def smoke_run(work: Path) -> Path:
    """A tiny training run with a validation strip: one simulated 256 px pair, SRCNN, 40 steps."""
    cli = [sys.executable, "-m", "microsr.cli.main"]
    subprocess.run([*cli, "simulate", "--structure", "microtubules", "--out", str(work / "data"),
                    "--count", "1", "--size", "256", "--seed", "3"], check=True)  # fmt: skip
    subprocess.run([*cli, "train", "--lr", str(work / "data" / "lr"), "--hr", str(work / "data" / "hr"),
                    "--scale", "2", "--out", str(work / "run"), "--model", "srcnn", "--recipe", "budget",
                    "--steps", "40", "--val-every", "10", "--quiet", "--device", "cpu"], check=True)  # fmt: skip
    return work / "run"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("runs", nargs="*", type=Path, help="training run folders")
    p.add_argument("--block", type=int, default=32, help="block edge, HR px")
    p.add_argument("--test", action="store_true", help="add the test-set difference from ../result.json")
    p.add_argument("--smoke", action="store_true", help="analyse a 40-step run made in a temporary folder")
    a = p.parse_args()
    torch.set_num_threads(1)
    tmp = tempfile.TemporaryDirectory() if a.smoke else None
    runs = [smoke_run(Path(tmp.name))] if tmp is not None else a.runs
    for run in runs:
        res = compare(run, a.block)
        if res is None:
            continue
        result = run.parent / "result.json"
        if a.test and result.is_file():
            r = json.loads(result.read_text())
            res["test_psnr_best_minus_last"] = round(r["best"]["psnr"] - r["last"]["psnr"], 3)
        print(json.dumps(res), flush=True)


if __name__ == "__main__":
    main()
