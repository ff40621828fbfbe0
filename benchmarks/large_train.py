"""Training on an LR/HR pair larger than the tile cache, and degrading a large HR image: peak memory.

For each HR size in ``--sizes`` a uint16 pair of tiled TIFFs is written tile by tile (smooth
random blobs on a dim background, LR = 2 x 2 mean of HR; never whole in memory; with
``--contiguous`` plain untiled TIFFs instead, filled through a memory map), then
``microsr train`` runs as a subprocess for ``--steps`` steps (tiny SRCNN, patch 64, batch 8,
validation strips held out of the image) with

* ``lazy``: ``data.lazy: always`` and ``data.cache_mb: --cache-mb`` (patches read on demand),
  with ``--workers`` DataLoader workers (each with its own cache);
* ``in-memory``: ``data.lazy: never`` (the whole pair loaded and normalised), for comparison,
  on sizes up to ``--memory-up-to``;

and ``microsr degrade`` of the HR image at x2 (Gaussian PSF, Poisson-Gaussian noise). The
resident memory of the command and all its children is summed every 0.1 s; the largest sum is the
reported peak (:func:`large_data.run_measured`).

Usage::

    python benchmarks/large_train.py --sizes 4096 8192 16384          # results/large_train.json
    python benchmarks/large_train.py --sizes 8192 16384 --contiguous --memory-up-to 0 --name large_train_contiguous
    python benchmarks/large_train.py --smoke                           # 1024 px, 2 steps, prints only
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
from _common import machine, print_table, write_json
from large_data import run_measured

TILE = 512  # HR px per TIFF tile


def _hr_tile(size: int, ty: int, tx: int) -> np.ndarray:
    """HR tile (ty, tx) of a ``size`` px image: blobs of 8 px sigma on a dim noisy background."""
    from scipy import ndimage

    rng = np.random.default_rng([7, size, ty, tx])
    spots = (rng.random((TILE, TILE)) < 2e-4).astype(np.float64)
    img = 400 + 20 * rng.standard_normal((TILE, TILE)) + 6e5 * ndimage.gaussian_filter(spots, 8.0)
    return np.clip(img, 0, 65535).astype(np.uint16)


def _lr_tile(size: int, ty: int, tx: int) -> np.ndarray:
    return _hr_tile(size, ty, tx).reshape(TILE // 2, 2, TILE // 2, 2).mean(axis=(1, 3)).astype(np.uint16)


def make_contiguous_pair(root: Path, size: int) -> Path:
    """The same pair as plain (uncompressed, untiled) TIFFs, filled band by band through a memory map."""
    import tifffile

    n = size // TILE
    for sub, make, side in (("hr", _hr_tile, TILE), ("lr", _lr_tile, TILE // 2)):
        (root / sub).mkdir(parents=True, exist_ok=True)
        image = tifffile.memmap(root / sub / "big.tif", shape=(n * side,) * 2, dtype="uint16", bigtiff=True)
        for ty in range(n):
            image[ty * side : (ty + 1) * side] = np.concatenate(
                [make(size, ty, tx) for tx in range(n)], axis=1
            )
            image.flush()
        del image
    return root


def make_pair(root: Path, size: int) -> Path:
    """``root/lr/big.tif`` and ``root/hr/big.tif`` (tiled uint16), written tile by tile."""
    import tifffile

    for sub in ("lr", "hr"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    n = size // TILE
    tiles = ((ty, tx) for ty in range(n) for tx in range(n))
    hr = (_hr_tile(size, ty, tx) for ty, tx in tiles)
    tifffile.imwrite(
        root / "hr" / "big.tif", hr, shape=(size, size), dtype="uint16", tile=(TILE, TILE), bigtiff=True
    )
    tiles = ((ty, tx) for ty in range(n) for tx in range(n))
    lr = (_lr_tile(size, ty, tx) for ty, tx in tiles)
    half = TILE // 2
    tifffile.imwrite(
        root / "lr" / "big.tif", lr, shape=(size // 2,) * 2, dtype="uint16", tile=(half, half), bigtiff=True
    )
    return root


def train_cmd(data: Path, out: Path, *, steps: int, lazy: str, cache_mb: int, workers: int) -> list[str]:
    config = out.parent / f"{out.name}.yaml"
    config.write_text(
        json.dumps(
            {
                "model": {"name": "srcnn", "tiny": True},
                "data": {"lr_dir": str(data / "lr"), "hr_dir": str(data / "hr"), "patch_size": 64,
                         "batch_size": 8, "lazy": lazy, "cache_mb": cache_mb, "num_workers": workers},
                "steps": steps, "val_every": steps, "log_every": steps, "device": "cpu", "num_threads": 1,
            }
        )
    )  # fmt: skip
    return [
        sys.executable,
        "-m",
        "microsr.cli.main",
        "train",
        "--config",
        str(config),
        "--out",
        str(out),
        "--quiet",
    ]


def degrade_cmd(data: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "microsr.cli.main", "degrade", "--hr", str(data / "hr"), "--out", str(out),
            "--scale", "2", "--photons", "200", "--quiet"]  # fmt: skip


def measure(size: int, work: Path, a: argparse.Namespace) -> list[dict]:
    data = (make_contiguous_pair if a.contiguous else make_pair)(work / f"pair{size}", size)
    hr_mib = round(size * size * 2 / 2**20)
    cases = [("lazy", "always", a.workers)]
    if size <= a.memory_up_to:
        cases.append(("in-memory", "never", a.workers))
    rows = []
    for name, lazy, workers in cases:
        out = work / f"run-{name}-{size}"
        shutil.rmtree(out, ignore_errors=True)
        r = run_measured(train_cmd(data, out, steps=a.steps, lazy=lazy, cache_mb=a.cache_mb, workers=workers))
        rows.append({"case": f"train {name}", "layout": a.layout, "hr_size": size, "hr_file_mib": hr_mib, "cache_mb": a.cache_mb,
                     "workers": workers, "steps": a.steps, **r})  # fmt: skip
        print(json.dumps(rows[-1]), flush=True)
        shutil.rmtree(out, ignore_errors=True)
    out = work / f"degraded{size}"
    shutil.rmtree(out, ignore_errors=True)
    rows.append(
        {
            "case": "degrade",
            "layout": a.layout,
            "hr_size": size,
            "hr_file_mib": hr_mib,
            **run_measured(degrade_cmd(data, out)),
        }
    )
    print(json.dumps(rows[-1]), flush=True)
    shutil.rmtree(out, ignore_errors=True)
    shutil.rmtree(data, ignore_errors=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[4096, 8192, 16384], help="HR px per side")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--cache-mb", type=int, default=64)
    ap.add_argument("--workers", type=int, default=1, help="DataLoader workers (data.num_workers)")
    ap.add_argument("--memory-up-to", type=int, default=8192, help="largest size also trained in memory")
    ap.add_argument("--workdir", type=Path, default=None, help="where the images go (default: a temp dir)")
    ap.add_argument("--name", default="large_train", help="results file name (benchmarks/results/NAME.json)")
    ap.add_argument(
        "--contiguous", action="store_true", help="plain (untiled, uncompressed) TIFFs instead of tiled"
    )
    ap.add_argument("--smoke", action="store_true", help="1024 px, 2 steps; print only, never write results")
    a = ap.parse_args()
    a.layout = "contiguous" if a.contiguous else "tiled"
    if a.smoke:
        a.sizes, a.steps, a.cache_mb = [1024], 2, 8
    work = Path(a.workdir or tempfile.mkdtemp(prefix="microsr-large-train-"))
    work.mkdir(parents=True, exist_ok=True)
    rows = [row for size in a.sizes for row in measure(size, work, a)]
    print_table(
        rows,
        [
            "case",
            "layout",
            "hr_size",
            "hr_file_mib",
            "cache_mb",
            "workers",
            "seconds",
            "peak_mib_all_processes",
        ],
    )
    print(f"load: {os.getloadavg()}")
    if not a.smoke:
        write_json(a.name, {"machine": machine(), "rows": rows, "loadavg_end": os.getloadavg()})
    if a.workdir is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
