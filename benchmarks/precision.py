"""``microsr predict --precision bf16`` against fp32 through the product's own tiled prediction.

For each model (default size, random weights, seed 0), a random 512 x 512 LR image is predicted
with :func:`microsr.inference.tiling.predict_tiled` (256 px tiles, 32 px overlap, x2: 9 tiles) in
float32 and in bfloat16 autocast, alternating, ``--rounds`` times after one warm-up of each; the
median times, their ratio and the difference of the outputs (max |bf16 - fp32| / fp32 range, and
PSNR of the bf16 output against the fp32 one with that range) are printed and written to
``results/precision.json``. Refuses to run where bfloat16 is not native (the product refuses it
there too).

    python benchmarks/precision.py --models edsr-baseline dfcan rcan --rounds 3
    python benchmarks/precision.py --smoke   # tiny models and image, seconds; results to a temp folder

``--smoke`` checks the script (tiny ``edsr-baseline`` and ``rcan``, a 96 px image, 48 px tiles, one
round) and writes to ``$MICROSR_BENCH_RESULTS`` or a new temporary folder, never over the committed
results; where bfloat16 is not native it times float32 only instead of refusing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np
from _common import machine, print_table, write_json


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--models", nargs="+", default=["edsr-baseline", "dfcan", "rcan"])
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", default="precision")
    p.add_argument("--smoke", action="store_true", help="tiny run that checks the script (temp results)")
    a = p.parse_args()
    tile, overlap = 256, 32
    if a.smoke:
        a.models, a.size, a.rounds, tile, overlap = ["edsr-baseline", "rcan"], 96, 1, 48, 8

    import torch

    from microsr.inference.precision import bf16_supported
    from microsr.inference.tiling import predict_tiled
    from microsr.models import create_model

    precisions = ("fp32", "bf16")
    if not bf16_supported(torch.device("cpu")):
        if not a.smoke:
            sys.exit("this CPU has no native bfloat16; microsr refuses --precision bf16 here")
        precisions = ("fp32",)
    torch.set_num_threads(a.threads)
    image = np.random.default_rng(0).random((a.size, a.size), dtype=np.float32)
    rows = []
    for name in a.models:
        torch.manual_seed(0)
        model = create_model(name, scale=2, tiny=a.smoke)

        def run(precision: str, model=model) -> tuple[float, np.ndarray]:
            t0 = time.perf_counter()
            out = predict_tiled(model, image, 2, tile=tile, overlap=overlap, precision=precision)
            return time.perf_counter() - t0, out

        for prec in precisions:  # warm-up
            run(prec)
        times: dict[str, list[float]] = {prec: [] for prec in precisions}
        outs = {}
        for i in range(a.rounds):
            for prec in precisions if i % 2 == 0 else precisions[::-1]:
                t, outs[prec] = run(prec)
                times[prec].append(t)
        rows.append({"model": name, **_compare(times, outs)})
        print(f"  {rows[-1]}", file=sys.stderr, flush=True)
    print(
        f"\npredict_tiled, {a.size} px LR image, x2, {tile} px tiles, {a.threads} threads, median of {a.rounds}"
    )
    print_table(
        rows, ["model", "fp32_s", "bf16_s", "speedup", "max_abs_diff_over_range", "psnr_bf16_vs_fp32_db"]
    )
    write_json(a.out, {"machine": machine(), "args": vars(a), "rows": rows}, smoke=a.smoke)


def _compare(times: dict[str, list[float]], outs: dict[str, np.ndarray]) -> dict[str, float | None]:
    """Median times, their ratio and how far the bfloat16 output is from the float32 one."""
    fp32 = statistics.median(times["fp32"])
    if "bf16" not in outs:
        return {"fp32_s": fp32, "bf16_s": None, "speedup": None}
    ref, low = outs["fp32"].astype(np.float64), outs["bf16"].astype(np.float64)
    rng = float(ref.max() - ref.min())
    mse = float(np.mean((low - ref) ** 2))
    bf16 = statistics.median(times["bf16"])
    return {
        "fp32_s": fp32,
        "bf16_s": bf16,
        "speedup": fp32 / bf16,
        "max_abs_diff_over_range": float(np.abs(low - ref).max()) / rng,
        "psnr_bf16_vs_fp32_db": 10 * np.log10(rng**2 / mse) if mse > 0 else float("inf"),
    }


if __name__ == "__main__":
    main()
