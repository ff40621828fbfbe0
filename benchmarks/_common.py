"""Helpers shared by the benchmark scripts (not part of the microsr package).

* :func:`run_child` runs one measurement in a fresh Python process (so that ``ru_maxrss`` is the peak
  resident memory of that measurement alone) and returns the JSON dict it printed last;
* :func:`matmul_peak` measures this machine's float32 matrix-multiply rate;
* :func:`flops_of` counts the FLOPs of one forward pass with ``torch.utils.flop_counter``;
* :func:`print_table` / :func:`write_json` for the outputs.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# MICROSR_BENCH_RESULTS sends every result file elsewhere (CI runs the smoke modes that way)
RESULTS = Path(os.environ.get("MICROSR_BENCH_RESULTS") or HERE / "results")
VENVS = HERE / ".venvs"


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far, MiB (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_child(
    argv: list[str], *, python: str | None = None, timeout: float | None = None, env: dict | None = None
) -> dict:
    """Run ``python argv...`` and parse the last stdout line starting with ``{`` as JSON.

    Returns ``{"error": ...}`` instead of raising when the child fails or times out, so that one
    failing model does not end a long benchmark.
    """
    cmd = [python or sys.executable, *argv]
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})}
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return {"error": f"exit {proc.returncode}: " + " | ".join(tail)}
    return json.loads(lines[-1])


def matmul_peak(threads: int, n: int = 4096, repeats: int = 5) -> float:
    """Best float32 ``torch.mm`` rate of two ``n`` x ``n`` matrices in GFLOP/s (2 n^3 per product)."""
    import torch

    torch.set_num_threads(threads)
    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.mm(a, b)
    best = 0.0
    for _ in range(repeats):
        t0 = time.perf_counter()
        torch.mm(a, b)
        best = max(best, 2 * n**3 / (time.perf_counter() - t0) / 1e9)
    return best


def conv_peak(threads: int, channels: int = 256, size: int = 128, repeats: int = 5) -> float:
    """Best rate of one 3x3 float32 convolution, ``channels`` -> ``channels`` on a ``size``^2 image,
    channels-last, no_grad, in GFLOP/s (2 * 9 * C^2 * H * W per pass). On this AMD CPU, MKL's
    ``torch.mm`` does not reach the rate of oneDNN's convolutions, so both are reported."""
    import torch

    torch.set_num_threads(threads)
    conv = torch.nn.Conv2d(channels, channels, 3, padding=1, bias=False).to(memory_format=torch.channels_last)
    x = torch.randn(1, channels, size, size).contiguous(memory_format=torch.channels_last)
    best = 0.0
    with torch.no_grad():
        conv(x)
        for _ in range(repeats):
            t0 = time.perf_counter()
            conv(x)
            best = max(best, 2 * 9 * channels**2 * size**2 / (time.perf_counter() - t0) / 1e9)
    return best


def flops_of(model, x) -> int:
    """FLOPs of ``model(x)`` counted by ``torch.utils.flop_counter.FlopCounterMode``.

    The counter covers matrix products and convolutions (the bulk of every model here); FFTs,
    element-wise ops, pooling and interpolation are not counted.
    """
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        model(x)
    return int(counter.get_total_flops())


def time_partial_tiled(
    model, image, scale: int, *, tile: int, overlap: int, max_tiles: int | None = None, cond=None
) -> dict:
    """Time ``predict_tiled`` on the first ``max_tiles`` tiles (all when ``None``/0).

    Returns ``tiles_run``, ``tiles_total``, ``complete``, ``measured_s`` and ``seconds`` (the
    whole-image time, extrapolated from the tiles run when the run was cut short).
    """
    from microsr.inference.tiling import predict_tiled

    class _Stop(Exception):
        pass

    seen = {"done": 0, "total": 0}

    def on_tile(done, total):
        seen.update(done=done, total=total)
        if max_tiles and done >= max_tiles and done < total:
            raise _Stop

    t0 = time.perf_counter()
    try:
        predict_tiled(model, image, scale, tile=tile, overlap=overlap, cond=cond, on_tile=on_tile)
        complete = True
    except _Stop:
        complete = False
    measured = time.perf_counter() - t0
    return {
        "tiles_run": seen["done"],
        "tiles_total": seen["total"],
        "complete": complete,
        "measured_s": measured,
        "seconds": measured / seen["done"] * seen["total"],
    }


def machine() -> dict:
    """What the numbers were measured on."""
    import torch

    model = platform.processor()
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "cpu": model,
        "logical_cpus": os.cpu_count(),
        "memory_gib": round(mem, 1),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "loadavg_1_5_15_min_when_written": [round(v, 2) for v in os.getloadavg()],
        "date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
    }


def print_table(rows: list[dict], columns: list[str]) -> None:
    """Print ``rows`` as a Markdown table with the given columns (missing values as '-')."""

    def fmt(v):
        if v is None:
            return "-"
        if isinstance(v, float):
            return f"{v:.4g}" if abs(v) < 1e4 else f"{v:.0f}"
        return str(v)

    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for r in rows:
        print("| " + " | ".join(fmt(r.get(c)) for c in columns) + " |")


def results_dir(*, smoke: bool = False) -> Path:
    """Where result files go: :data:`RESULTS`, except that a smoke run without
    ``MICROSR_BENCH_RESULTS`` writes to a new temporary folder, never over committed results."""
    if smoke and not os.environ.get("MICROSR_BENCH_RESULTS"):
        import tempfile

        return Path(tempfile.mkdtemp(prefix="microsr-bench-smoke-"))
    return RESULTS


def write_json(name: str, payload: dict, *, smoke: bool = False) -> Path:
    """Write ``payload`` to ``<results_dir(smoke=smoke)>/<name>.json`` and return the path."""
    folder = results_dir(smoke=smoke)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(json.dumps(payload, indent=1) + "\n")
    print(f"wrote {path}")
    return path
