"""Per-tile mode of ``speed.py`` (``--tiles``): every model's forward pass as a ratio to the matmul rate.

For each model, tile edge T and backend (``torch``: the default path; ``onnx``: ``--backend onnx``;
``before``: the Fourier attention as computed before ``models/fourier.py``, Fourier models only), a
fresh process builds the model (seed 0) and times one (1, 1, T, T) LR tile (see
``_speed_child.child_tile``). Achieved GFLOP/s = FLOPs counted by ``FlopCounterMode`` (convolutions
and matrix products; FFTs are not counted) / time; the ratio divides it by the float32 ``torch.mm``
rate of 4096 x 4096 matrices with the same thread count, measured at the start and at the end of
the run (their mean is the reference; both are stored to show the drift of the load).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from _common import machine, print_table, run_child, write_json

HERE = Path(__file__).resolve().parent


def matmul_rate(threads: int) -> float | None:
    res = run_child(
        [
            "-c",
            f"import sys; sys.path.insert(0, {str(HERE)!r}); import json; from _common import "
            f"matmul_peak; print(json.dumps({{'gflops': matmul_peak({threads})}}))",
        ]
    )
    return res.get("gflops")


def pivot(rows: list[dict], tiles: list[int], peak: float) -> list[dict]:
    """One line per model: ratio to the matmul rate per tile and backend, and the speed-ups."""
    out = []
    for name in dict.fromkeys(r["model"] for r in rows):
        line: dict = {"model": name}
        for r in rows:
            if r["model"] != name:
                continue
            line.setdefault("mflops_per_px", (r.get("flops_per_px") or 0) / 1e6 or None)
            if r.get("gflop_per_s") and peak:
                line[f"{r['backend']}@{r['tile']}"] = r["gflop_per_s"] / peak
        for t in tiles:
            torch_r, onnx_r, before_r = (line.get(f"{b}@{t}") for b in ("torch", "onnx", "before"))
            if torch_r and onnx_r:
                line[f"onnx_speedup@{t}"] = onnx_r / torch_r
            if torch_r and before_r:
                line[f"after_over_before@{t}"] = torch_r / before_r
        out.append(line)
    return out


def run_tiles(a, child_argv) -> None:
    """Measure, print the tables and write ``speed_tiles_<tiles>.json`` (rewritten after every
    model, with ``"partial": true`` until the run ends, so a run cut short keeps what it measured)."""
    from microsr.models import list_models

    models = a.models or list_models()
    a.onnx_cache = a.onnx_cache or tempfile.mkdtemp(prefix="microsr-speed-onnx-")
    out_name = a.out or "speed_tiles_" + "_".join(map(str, a.tiles)) + ("_tiny" if a.tiny else "")
    start = matmul_rate(a.threads)
    print(f"float32 matmul rate ({a.threads} thread(s)), start: {start:.1f} GFLOP/s", flush=True)
    rows = []
    for name in models:
        t0 = time.perf_counter()
        res = run_child(child_argv(a, "tile", "microsr", name), timeout=a.timeout)
        for r in res.get("rows", [{"error": res.get("error")}]):
            rows.append({"model": name, "flops_per_px": res.get("flops_per_px"), **r})
        took = time.perf_counter() - t0
        print(f"  {name}: {took:.0f} s {res}", file=sys.stderr, flush=True)
        write_json(out_name, {"partial": True, "matmul_gflops_start": start, "rows": rows}, smoke=a.smoke)
    end = matmul_rate(a.threads)
    peak = (start + end) / 2 if start and end else start or end or 0.0
    print(f"float32 matmul rate, end: {end:.1f} GFLOP/s; reference (mean): {peak:.1f}", flush=True)
    table = pivot(rows, a.tiles, peak)
    cols = ["model", "mflops_per_px"]
    for t in a.tiles:
        cols += [f"{b}@{t}" for b in a.backends] + [f"onnx_speedup@{t}", f"after_over_before@{t}"]
    print(f"\nForward pass of one LR tile at x{a.scale}, {a.threads} thread(s), ratio to the matmul rate")
    print_table(table, cols)
    print("\nSeconds per tile")
    print_table(
        rows, ["model", "tile", "backend", "seconds", "gflop_per_s", "onnx_export_s", "skipped", "error"]
    )
    args = {k: v for k, v in vars(a).items() if k not in ("child", "impl", "onnx_cache", "backend")}
    payload = {
        "machine": machine(),
        "args": args,
        "matmul_gflops_start": start,
        "matmul_gflops_end": end,
        "matmul_gflops_reference": peak,
        "rows": rows,
        "ratios": table,
        "load_at_start": os.getloadavg(),
    }
    write_json(out_name, payload, smoke=a.smoke)
