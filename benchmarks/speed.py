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

Usage::

    python benchmarks/speed.py --models rcan edsr dfcan        # -> benchmarks/results/speed.json
    python benchmarks/speed.py --models srcnn --max-tiles 2 --train-steps 2 --no-basicsr
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from _common import (
    VENVS,
    flops_of,
    machine,
    peak_rss_mib,
    print_table,
    run_child,
    time_partial_tiled,
    write_json,
)

BASICSR_PYTHON = VENVS / "basicsr" / "bin" / "python"


# ----------------------------------------------------------------------------- child side
def build(impl: str, name: str, scale: int):
    import torch

    torch.manual_seed(0)
    if impl == "basicsr":
        from _basicsr import create_basicsr

        return create_basicsr(name, scale), False
    from microsr.inference.model_io import takes_mask
    from microsr.models import create_model, get_spec

    model = create_model(name, scale=scale)  # masks only where prediction takes one, as in the product
    return model, get_spec(name).needs_mask and takes_mask(model)


def forward_fn(model, needs_mask: bool, scale: int):
    """model(x) for plain models, model(x, random one-hot mask) for mask-conditioned ones."""
    import torch
    import torch.nn.functional as F

    from microsr.models.outputs import final_output

    def fwd(x):
        if not needs_mask:
            return final_output(model(x))
        b, _, h, w = x.shape
        labels = torch.randint(0, 3, (b, scale * h, scale * w))
        mask = F.one_hot(labels, 3).permute(0, 3, 1, 2).float()
        return final_output(model(x, mask))

    return fwd


def child_infer(a) -> dict:
    import numpy as np
    import torch

    torch.set_num_threads(a.threads)
    model, needs_mask = build(a.impl, a.model, a.scale)
    model.eval()
    fwd = forward_fn(model, needs_mask, a.scale)
    per_px = flops_of(fwd, torch.rand(1, 1, 32, 32)) / 32**2
    with torch.inference_mode():
        fwd(torch.rand(1, 1, 32, 32))  # warm-up
    image = np.random.default_rng(0).random((a.size, a.size), dtype=np.float32)
    cond = None
    if needs_mask:
        lab = np.random.default_rng(1).integers(0, 3, (a.scale * a.size,) * 2)
        cond = np.eye(3, dtype=np.float32)[lab].transpose(2, 0, 1)
    timing = time_partial_tiled(
        model, image, a.scale, tile=a.tile, overlap=a.overlap, max_tiles=a.max_tiles, cond=cond
    )
    seconds, measured = timing["seconds"], timing["measured_s"]
    from microsr.inference.tiling import choose_tile

    tile = min(choose_tile(a.tile), a.size)
    gflops = per_px * tile**2 * timing["tiles_run"] / measured / 1e9
    return {
        "flops_per_px": per_px,
        "params": sum(p.numel() for p in model.parameters()),
        "tiles_run": timing["tiles_run"],
        "tiles_total": timing["tiles_total"],
        "complete": timing["complete"],
        "seconds": seconds,
        "mp_per_s": a.size**2 / 1e6 / seconds,
        "gflop_per_s": gflops,
        "peak_rss_mib": peak_rss_mib(),
    }


def child_train(a) -> dict:
    import torch

    torch.set_num_threads(a.threads)
    model, needs_mask = build(a.impl, a.model, a.scale)
    if not any(p.requires_grad for p in model.parameters()):
        return {"train_steps_per_s": None}
    model.train()
    fwd = forward_fn(model, needs_mask, a.scale)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    g = torch.Generator().manual_seed(0)
    lr = torch.rand(a.batch, 1, a.patch, a.patch, generator=g)
    hr = torch.rand(a.batch, 1, a.scale * a.patch, a.scale * a.patch, generator=g)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = torch.nn.functional.l1_loss(fwd(lr), hr)
        loss.backward()
        opt.step()

    step()  # warm-up
    t0 = time.perf_counter()
    for _ in range(a.train_steps):
        step()
    dt = time.perf_counter() - t0
    return {"train_steps_per_s": a.train_steps / dt, "train_peak_rss_mib": peak_rss_mib()}


def _time(fn, x, repeats: int) -> float:
    fn(x)  # warm-up
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn(x)
        best = min(best, time.perf_counter() - t0)
    return best


def child_variants(a) -> dict:
    import torch

    torch.set_num_threads(a.threads)
    model, needs_mask = build(a.impl, a.model, a.scale)
    model.eval()
    x = torch.rand(1, 1, a.variant_tile, a.variant_tile)
    cl = torch.channels_last
    out = {}

    def run(label, ctx, memfmt, fn=None, autocast=False):
        model.to(memory_format=memfmt)
        f = fn or forward_fn(model, needs_mask, a.scale)
        xi = x.contiguous(memory_format=memfmt)

        def call(inp):
            with ctx(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
                return f(inp)

        try:
            out[label] = _time(call, xi, a.repeats)
        except Exception as exc:  # noqa: BLE001 - report, do not stop the benchmark
            out[label] = f"failed: {type(exc).__name__}: {str(exc)[:120]}"

    run("no_grad", torch.no_grad, torch.contiguous_format)
    run("no_grad+channels_last", torch.no_grad, cl)
    run("inference_mode", torch.inference_mode, torch.contiguous_format)
    run("inference_mode+channels_last", torch.inference_mode, cl)
    run("bf16_autocast+inference_mode+channels_last", torch.inference_mode, cl, autocast=True)
    with torch.inference_mode():  # how far bfloat16 autocast moves the output (relative to its range)
        model.to(memory_format=torch.contiguous_format)
        ref = forward_fn(model, needs_mask, a.scale)(x)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            low = forward_fn(model, needs_mask, a.scale)(x).float()
        out["bf16_max_rel_diff"] = float((low - ref).abs().max() / (ref.max() - ref.min()))
    if a.compile:
        model.to(memory_format=cl)
        t0 = time.perf_counter()
        compiled = torch.compile(forward_fn(model, needs_mask, a.scale))
        try:
            with torch.inference_mode():
                compiled(x.contiguous(memory_format=cl))
            out["compile_seconds"] = time.perf_counter() - t0
            run("compile+inference_mode+channels_last", torch.inference_mode, cl, fn=compiled)
        except Exception as exc:  # noqa: BLE001
            out["compile+inference_mode+channels_last"] = f"failed: {type(exc).__name__}: {str(exc)[:120]}"
    out["variant_tile"] = a.variant_tile
    return out


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
    ):
        argv += [f"--{k.replace('_', '-')}", str(getattr(a, k))]
    return argv + (["--compile"] if a.compile else [])


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
    p.add_argument("--out", default="speed")
    p.add_argument("--child", choices=["infer", "train", "variants"], help=argparse.SUPPRESS)
    p.add_argument("--impl", default="microsr", help=argparse.SUPPRESS)
    a = p.parse_args()

    if a.child:
        fn = {"infer": child_infer, "train": child_train, "variants": child_variants}[a.child]
        print(json.dumps(fn(argparse.Namespace(**{**vars(a), "model": a.models[0]}))))
        return

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
