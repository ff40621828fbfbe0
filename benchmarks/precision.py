"""``microsr predict --precision bf16`` against fp32 through the product's own tiled prediction.

For each model (default size, random weights, seed 0), a random 512 x 512 LR image is predicted
with :func:`microsr.inference.tiling.predict_tiled` (256 px tiles, 32 px overlap, x2: 9 tiles) in
float32 and in bfloat16 autocast, alternating, ``--rounds`` times after one warm-up of each; the
median times, their ratio and the difference of the outputs (max |bf16 - fp32| / fp32 range, and
PSNR of the bf16 output against the fp32 one with that range) are printed and written to
``results/precision.json``. Refuses to run where bfloat16 is not native (the product refuses it
there too).

    python benchmarks/precision.py --models edsr-baseline dfcan rcan --rounds 3
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, print_table, write_json  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--models", nargs="+", default=["edsr-baseline", "dfcan", "rcan"])
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", default="precision")
    a = p.parse_args()

    import torch

    from microsr.inference.precision import bf16_supported
    from microsr.inference.tiling import predict_tiled
    from microsr.models import create_model

    if not bf16_supported(torch.device("cpu")):
        sys.exit("this CPU has no native bfloat16; microsr refuses --precision bf16 here")
    torch.set_num_threads(a.threads)
    image = np.random.default_rng(0).random((a.size, a.size), dtype=np.float32)
    rows = []
    for name in a.models:
        torch.manual_seed(0)
        model = create_model(name, scale=2)

        def run(precision: str, model=model) -> tuple[float, np.ndarray]:
            t0 = time.perf_counter()
            out = predict_tiled(model, image, 2, tile=256, overlap=32, precision=precision)
            return time.perf_counter() - t0, out

        run("fp32"), run("bf16")  # warm-up
        times: dict[str, list[float]] = {"fp32": [], "bf16": []}
        outs = {}
        for i in range(a.rounds):
            for prec in ("fp32", "bf16") if i % 2 == 0 else ("bf16", "fp32"):
                t, outs[prec] = run(prec)
                times[prec].append(t)
        ref, low = outs["fp32"].astype(np.float64), outs["bf16"].astype(np.float64)
        rng = float(ref.max() - ref.min())
        mse = float(np.mean((low - ref) ** 2))
        rows.append(
            {
                "model": name,
                "fp32_s": statistics.median(times["fp32"]),
                "bf16_s": statistics.median(times["bf16"]),
                "speedup": statistics.median(times["fp32"]) / statistics.median(times["bf16"]),
                "max_abs_diff_over_range": float(np.abs(low - ref).max()) / rng,
                "psnr_bf16_vs_fp32_db": 10 * np.log10(rng**2 / mse) if mse > 0 else float("inf"),
            }
        )
        print(f"  {rows[-1]}", file=sys.stderr, flush=True)
    print(
        f"\npredict_tiled, {a.size} px LR image, x2, 256 px tiles, {a.threads} threads, median of {a.rounds}"
    )
    print_table(
        rows, ["model", "fp32_s", "bf16_s", "speedup", "max_abs_diff_over_range", "psnr_bf16_vs_fp32_db"]
    )
    write_json(a.out, {"machine": machine(), "args": vars(a), "rows": rows})


if __name__ == "__main__":
    main()
