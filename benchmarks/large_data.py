"""Block-wise prediction of large OME-Zarr images: peak memory (all processes) and throughput.

For each LR size in ``--sizes`` a uint16 OME-Zarr (NGFF 0.5, chunks ``--chunk``) is written with
ome-zarr-py from a Dask random array (never whole in memory), then ``microsr predict --input
IN.ome.zarr --output OUT.ome.zarr`` runs as a subprocess at x2 with a tiny model of ``--model``
(random weights: time and memory do not depend on them). While it runs, the resident memory of
the command and all its children (Dask worker processes) is summed every 0.1 s; the largest sum is
the reported peak. Cases:

* ``in-process``: default scheduler, every size;
* ``workers``: ``--workers 1`` and ``--workers 2`` on the first size, for the throughput ratio.

With ``--simulate STRUCTURE ...`` it measures ``microsr simulate --structure STRUCTURE --size SIZE
--count 1`` instead (SIZE in HR px, from ``--sizes``), the same way (peak of the process tree).

Usage::

    python benchmarks/large_data.py --model bicubic --sizes 4096 8192 16384 --no-workers
    python benchmarks/large_data.py --model edsr --sizes 1024 --name large_data_workers
    python benchmarks/large_data.py --sizes 1024 --no-workers --smoke   # quick check, writes nothing
    python benchmarks/large_data.py --simulate microtubules er --sizes 4096 --name large_data_simulate
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import machine, print_table, write_json


def make_input(path: Path, size: int, chunk: int) -> None:
    """A random uint16 OME-Zarr written block by block by ome-zarr-py."""
    import dask.array as da
    import zarr
    from ome_zarr.format import FormatV05
    from ome_zarr.writer import write_image

    image = da.random.default_rng(0).integers(0, 4000, (size, size), chunks=chunk, dtype="uint16")
    group = zarr.open_group(str(path), mode="w", zarr_format=3)
    write_image(
        image, group, axes="yx", fmt=FormatV05(), scale_factors=(), storage_options={"chunks": (chunk, chunk)},
        scale={"y": 0.1, "x": 0.1}, axes_units={"y": "micrometer", "x": "micrometer"},
    )  # fmt: skip


def make_model(folder: Path, name: str) -> None:
    import torch

    from microsr.inference.model_io import save_model_folder
    from microsr.models import create_model

    torch.manual_seed(0)
    save_model_folder(
        folder,
        create_model(name, tiny=True),
        name=name,
        scale=2,
        tiny=True,
        normalization={"kind": "percentile"},
    )


def run_measured(cmd: list[str]) -> dict:
    """Run ``cmd``; wall time and peak summed RSS (MiB) of it and its descendants."""
    import psutil

    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    root, peak = psutil.Process(proc.pid), 0
    while proc.poll() is None:
        total = 0
        try:
            for p in [root, *root.children(recursive=True)]:
                try:
                    total += p.memory_info().rss
                except psutil.Error:
                    pass
        except psutil.Error:
            pass
        peak = max(peak, total)
        time.sleep(0.1)
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{err[-2000:]}")
    return {"seconds": round(time.perf_counter() - t0, 1), "peak_mib_all_processes": round(peak / 2**20)}


def predict_cmd(model: Path, src: Path, out: Path, extra: list[str]) -> list[str]:
    return [sys.executable, "-m", "microsr.cli.main", "predict", "--model", str(model), "--input", str(src),
            "--output", str(out), *extra]  # fmt: skip


def simulate_rows(structures: list[str], sizes: list[int], work: Path) -> list[dict]:
    """Peak memory (process tree) and time of ``microsr simulate`` for each structure and HR size."""
    rows = []
    for size in sizes:
        for structure in structures:
            out = work / f"sim-{structure}-{size}"
            shutil.rmtree(out, ignore_errors=True)
            cmd = [sys.executable, "-m", "microsr.cli.main", "simulate", "--structure", structure,
                   "--size", str(size), "--count", "1", "--out", str(out), "--quiet"]  # fmt: skip
            rows.append({"case": f"simulate {structure}", "hr_size": size, **run_measured(cmd)})
            print(json.dumps(rows[-1]), flush=True)
            shutil.rmtree(out, ignore_errors=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[4096, 8192, 16384])
    ap.add_argument("--chunk", type=int, default=1024)
    ap.add_argument("--model", default="edsr")
    ap.add_argument("--no-workers", action="store_true", help="skip the --workers 1 / 2 comparison")
    ap.add_argument("--workdir", type=Path, default=None, help="where the images go (default: a temp dir)")
    ap.add_argument("--name", default="large_data", help="results file name (benchmarks/results/NAME.json)")
    ap.add_argument("--smoke", action="store_true", help="print only; never write the results file")
    ap.add_argument("--simulate", nargs="+", metavar="STRUCTURE", help="measure `microsr simulate` instead")
    a = ap.parse_args()
    work = Path(a.workdir or tempfile.mkdtemp(prefix="microsr-large-"))
    work.mkdir(parents=True, exist_ok=True)
    if a.simulate:
        rows = simulate_rows(a.simulate, a.sizes, work)
        print_table(rows, ["case", "hr_size", "seconds", "peak_mib_all_processes"])
        if not a.smoke:
            write_json(a.name, {"machine": machine(), "rows": rows, "loadavg_end": os.getloadavg()})
        if a.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
        return
    make_model(work / "model", a.model)
    rows = []
    for size in a.sizes:
        src = work / f"lr{size}.ome.zarr"
        if not src.exists():
            make_input(src, size, a.chunk)
        cases = [("in-process", [])]
        if size == a.sizes[0] and not a.no_workers:
            cases += [("workers 1", ["--workers", "1"]), ("workers 2", ["--workers", "2"])]
        for name, extra in cases:
            out = work / f"sr{size}.ome.zarr"
            shutil.rmtree(out, ignore_errors=True)
            r = run_measured(predict_cmd(work / "model", src, out, extra))
            mpx = size * size / 1e6
            rows.append({"case": name, "lr_size": size, **r, "lr_mpx_per_s": round(mpx / r["seconds"], 3)})
            print(json.dumps(rows[-1]), flush=True)
            shutil.rmtree(out, ignore_errors=True)
    by = {(r["case"], r["lr_size"]): r for r in rows}
    ratio = None
    if ("workers 2", a.sizes[0]) in by:
        ratio = round(by[("workers 1", a.sizes[0])]["seconds"] / by[("workers 2", a.sizes[0])]["seconds"], 2)
    print_table(rows, ["case", "lr_size", "seconds", "peak_mib_all_processes", "lr_mpx_per_s"])
    print(f"--workers 2 vs 1 throughput ratio: {ratio}; load: {os.getloadavg()}")
    payload = {"machine": machine(), "model": f"{a.model} (tiny)", "chunk": a.chunk, "rows": rows,
               "workers2_vs_1": ratio, "loadavg_end": os.getloadavg()}  # fmt: skip
    if not a.smoke:
        write_json(a.name, payload)
    if a.workdir is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
