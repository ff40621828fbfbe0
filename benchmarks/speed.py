"""Inference and training speed of every registered model (full default size), beside BasicSR.

For each model, in fresh subprocesses (so ``ru_maxrss`` is the peak resident memory of that one
measurement):

* ``infer``: :func:`microsr.inference.tiling.predict_tiled` (the product's tiled prediction, tile
  ``--tile``, overlap ``--overlap``, channels-last on, ``torch.inference_mode``) of a random
  ``--size`` x ``--size`` LR image at x2. After a small warm-up forward, at most ``--max-tiles``
  tiles are run; the time of the whole image is extrapolated from the measured per-tile time
  (``complete`` says whether every tile ran). Throughput is LR megapixels of the image per second.
  Achieved GFLOP/s = counted FLOPs of the tiles that ran / their time; FLOPs are counted with
  ``torch.utils.flop_counter.FlopCounterMode`` (convolutions and matrix products only) on a 32 x 32
  input and scaled per pixel (exact for convolutions with 'same' padding).
* ``train``: Adam (lr 1e-4) + L1 training steps on random (``--batch``, 1, ``--patch``, ``--patch``)
  LR / x2 HR batches, one warm-up step then ``--train-steps`` timed steps (GAN models: generator
  step only).
* ``variants`` (for ``--variant-models``): one (1, 1, ``--variant-tile``)^2 forward pass timed under
  no_grad (contiguous), channels-last, inference_mode, both, ``torch.compile`` and bfloat16 autocast.

The same is run for BasicSR 1.4.2's RCAN and EDSR (``benchmarks/_basicsr.py``) with the Python of
``benchmarks/.venvs/basicsr`` when it exists, on the same inputs with the same thread count; the
ratio microsr / BasicSR (throughput and steps per second) is printed. The machine's float32 matmul
peak (``torch.mm`` of 4096 x 4096 matrices, same thread count) is measured first, in the same run,
with the rate of one large 3x3 convolution (on AMD CPUs MKL's matmul is far below oneDNN's convs).

``--tiles 128 256`` (per-tile mode, ``benchmarks/_speed_tiles.py``) instead times one forward pass of
a (1, 1, T, T) LR tile per registered model, tile and backend (PyTorch; ONNX Runtime; the Fourier
attention as computed before ``models/fourier.py``) as a ratio to the float32 matmul rate measured
at the start and end of the same run; ``--smoke`` runs that mode on two tiny models.

Usage::

    python benchmarks/speed.py --tiles 128 256 --threads 1     # -> results/speed_tiles_128_256.json
    python benchmarks/speed.py --smoke                         # a temporary folder, seconds
    python benchmarks/speed.py --models rcan edsr dfcan        # -> benchmarks/results/speed.json
    python benchmarks/speed.py --models srcnn --max-tiles 2 --train-steps 2 --no-basicsr
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from _common import VENVS, machine, print_table, run_child, write_json

BASICSR_PYTHON = VENVS / "basicsr" / "bin" / "python"


# ----------------------------------------------------------------------------- parent side
def child_argv(a, what: str, impl: str, model: str) -> list[str]:
    argv = [__file__, "--child", what, "--impl", impl, "--models", model]
    for k in (
        "size",
        "tile",
        "overlap",
        "max_tiles",
        "threads",
        "scale",
        "batch",
        "patch",
        "train_steps",
        "variant_tile",
        "repeats",
        "onnx_cache",
        "single_above",
    ):
        argv += [f"--{k.replace('_', '-')}", str(getattr(a, k))]
    argv += ["--tiles", *map(str, a.tiles or [])] + ["--backends", *a.backends]
    return argv + (["--compile"] if a.compile else []) + (["--tiny"] if a.tiny else [])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--models", nargs="+", default=None, help="registry names (default: all)")
    p.add_argument("--size", type=int, default=1024)
    p.add_argument("--tile", type=int, default=256)
    p.add_argument("--overlap", type=int, default=32)
    p.add_argument("--max-tiles", type=int, default=1, help="0 = all tiles")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--scale", type=int, default=2)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--patch", type=int, default=64, help="LR training patch edge")
    p.add_argument("--train-steps", type=int, default=2)
    p.add_argument("--variant-models", nargs="*", default=["edsr-baseline"])
    p.add_argument("--variant-tile", type=int, default=128)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--compile", action="store_true", help="also try torch.compile in the variants")
    p.add_argument("--no-basicsr", action="store_true")
    p.add_argument("--skip-train", action="store_true", help="inference only")
    p.add_argument("--timeout", type=float, default=1800)
    p.add_argument("--out", default=None, help="result name (default: speed, or speed_tiles_<tiles>)")
    p.add_argument(
        "--tiles",
        type=int,
        nargs="*",
        help="per-tile mode: one forward of a (1, 1, T, T) LR tile per model, tile and backend, "
        "as a ratio to the matmul rate of the same run (e.g. --tiles 128 256 --threads 1)",
    )
    p.add_argument("--backends", nargs="+", default=["torch", "onnx", "before"], help="per-tile mode")
    p.add_argument("--single-above", type=float, default=4.0, help="one timed pass when it takes longer")
    p.add_argument("--tiny", action="store_true", help="tiny presets (per-tile mode)")
    p.add_argument(
        "--smoke", action="store_true", help="per-tile mode on two tiny models (checks the script)"
    )
    p.add_argument("--child", choices=["infer", "train", "variants", "tile"], help=argparse.SUPPRESS)
    p.add_argument("--onnx-cache", default="", help=argparse.SUPPRESS)
    p.add_argument("--impl", default="microsr", help=argparse.SUPPRESS)
    a = p.parse_args()

    if a.child:
        import _speed_child

        fn = getattr(_speed_child, f"child_{a.child}")
        print(json.dumps(fn(argparse.Namespace(**{**vars(a), "model": a.models[0]}))))
        return
    if a.smoke:
        a.models, a.tiles, a.tiny, a.repeats = a.models or ["srcnn", "dfcan"], a.tiles or [32], True, 1
        a.threads = 1
    if a.tiles:
        from _speed_tiles import run_tiles

        run_tiles(a, child_argv)
        return
    a.out = a.out or "speed"

    from _basicsr import EQUIVALENT

    from microsr.models import list_models

    models = a.models or list_models()
    basicsr_ok = not a.no_basicsr and BASICSR_PYTHON.exists()
    peak = run_child(
        [
            "-c",
            f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); import json; "
            f"from _common import matmul_peak, conv_peak; print(json.dumps({{'gflops': matmul_peak({a.threads}), "
            f"'conv_gflops': conv_peak({a.threads})}}))",
        ]
    )
    peak_gflops, conv_gflops = peak.get("gflops"), peak.get("conv_gflops")
    print(
        f"float32 matmul peak ({a.threads} threads): {peak_gflops:.1f} GFLOP/s; "
        f"3x3 conv 256->256 on 128 px: {conv_gflops:.1f} GFLOP/s",
        flush=True,
    )
    rows = []
    for name in models:
        impls = ["microsr"] + (["basicsr"] if basicsr_ok and name in EQUIVALENT else [])
        for impl in impls:
            py = str(BASICSR_PYTHON) if impl == "basicsr" else None
            row = {"model": name, "impl": impl}
            for what in ("infer",) + (() if a.skip_train else ("train",)):
                t0 = time.perf_counter()
                res = run_child(child_argv(a, what, impl, name), python=py, timeout=a.timeout)
                row.update(res if "error" not in res else {f"{what}_error": res["error"]})
                print(
                    f"  {name} [{impl}] {what}: {time.perf_counter() - t0:.0f} s {res}",
                    file=sys.stderr,
                    flush=True,
                )
            if row.get("gflop_per_s") and peak_gflops:
                row["fraction_of_peak"] = row["gflop_per_s"] / peak_gflops
            if row.get("flops_per_px") is not None:
                row["mflops_per_px"] = row["flops_per_px"] / 1e6
            rows.append(row)
    variants = []
    for name in a.variant_models or []:
        for impl in ["microsr"] + (["basicsr"] if basicsr_ok and name in EQUIVALENT else []):
            py = str(BASICSR_PYTHON) if impl == "basicsr" else None
            res = run_child(child_argv(a, "variants", impl, name), python=py, timeout=a.timeout)
            variants.append({"model": name, "impl": impl, **res})
            print(f"  {name} [{impl}] variants: {res}", file=sys.stderr, flush=True)

    print(
        f"\nInference: {a.size}x{a.size} LR, x{a.scale}, tiled (tile {a.tile}, overlap {a.overlap}), "
        f"{a.threads} threads; matmul peak {peak_gflops:.1f} GFLOP/s"
    )
    print_table(
        rows,
        [
            "model",
            "impl",
            "params",
            "mflops_per_px",
            "mp_per_s",
            "gflop_per_s",
            "fraction_of_peak",
            "tiles_run",
            "tiles_total",
            "peak_rss_mib",
            "train_steps_per_s",
            "train_peak_rss_mib",
        ],
    )
    ratios = []
    for r in rows:
        if r["impl"] != "basicsr":
            continue
        ours = next(x for x in rows if x["model"] == r["model"] and x["impl"] == "microsr")
        ratio = {"model": r["model"]}
        for k in ("mp_per_s", "train_steps_per_s"):
            if ours.get(k) and r.get(k):
                ratio[k] = ours[k] / r[k]
        ratios.append(ratio)
    if ratios:
        print("\nRatio microsr / BasicSR 1.4.2 (>1 means microsr is faster)")
        print_table(ratios, ["model", "mp_per_s", "train_steps_per_s"])
    if variants:
        keys = [k for k in variants[0] if k not in ("model", "impl", "variant_tile")]
        print(
            f"\nInference variants: seconds per (1,1,{a.variant_tile},{a.variant_tile}) forward (best of {a.repeats})"
        )
        print_table(variants, ["model", "impl", *keys])
    write_json(
        a.out,
        {
            "machine": machine(),
            "args": {k: v for k, v in vars(a).items() if k not in ("child", "impl")},
            "matmul_peak_gflops": peak_gflops,
            "conv_peak_gflops": conv_gflops,
            "rows": rows,
            "ratios": ratios,
            "variants": variants,
        },
    )


if __name__ == "__main__":
    main()
