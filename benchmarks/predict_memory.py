"""Peak memory and speed of tiled prediction on a large image.

Runs :func:`microsr.inference.tiling.predict_tiled` on a random ``--size`` x ``--size`` uint16 image
with a full-size model (random weights: memory and time do not depend on the weights) in a fresh
subprocess, and prints the subprocess's peak resident memory (``ru_maxrss``), the wall time and the
throughput in LR megapixels per second.

Usage::

    python benchmarks/predict_memory.py                      # dfcan, 4096 x 4096, 256 px tiles
    python benchmarks/predict_memory.py --size 1024 --model edsr-baseline --tile 128
    python benchmarks/predict_memory.py --smoke   # tiny edsr-baseline, 256 px, 64 px tiles: seconds

On a busy machine, ``--max-tiles N`` stops after N tiles of the full-size tile grid (all image-size
buffers, input and output, are already allocated by then, so the peak RSS is representative) and
reports the measured per-tile time and the extrapolated total, labelled as such.

Target: peak RSS under 3 GB for 4096 x 4096 (the x2 float32 output alone is 256 MB).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time


class _Stop(Exception):
    """Raised from the tile callback to end a ``--max-tiles`` run early."""


def child(args: argparse.Namespace) -> dict:
    """Run one prediction in this process and return its measurements."""
    import numpy as np
    import torch

    from microsr.data.normalize import NormConfig, normalize
    from microsr.inference.tiling import predict_tiled
    from microsr.models import create_model

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = create_model(args.model, scale=args.scale, tiny=args.tiny).eval()
    rng = np.random.default_rng(0)
    image = rng.integers(0, 4096, size=(args.size, args.size), dtype=np.uint16)
    x, _ = normalize(image, NormConfig(kind="percentile"))
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    last = [t0]
    seen = {"done": 0, "total": 0}

    def on_tile(done: int, total: int) -> None:
        now = time.perf_counter()
        seen.update(done=done, total=total)
        if args.max_tiles and done >= args.max_tiles and done < total:
            raise _Stop
        if now - last[0] > 30 or done == total:
            last[0] = now
            eta = (now - t0) / done * (total - done)
            print(f"  {done}/{total} tiles, {now - t0:.0f} s, eta {eta:.0f} s", file=sys.stderr, flush=True)

    try:
        out = predict_tiled(
            model,
            x,
            args.scale,
            tile=args.tile,
            overlap=args.overlap,
            batch_size=args.batch,
            channels_last=not args.contiguous,
            on_tile=on_tile,
        )
        assert out.shape == (args.scale * args.size, args.scale * args.size)
        assert np.isfinite(out).all()
        complete = True
    except _Stop:
        complete = False
    measured = time.perf_counter() - t0
    seconds = measured if complete else measured / seen["done"] * seen["total"]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB on Linux
    return {
        "model": args.model,
        "size": args.size,
        "tile": args.tile,
        "overlap": args.overlap,
        "threads": args.threads,
        "channels_last": not args.contiguous,
        "complete": complete,
        "tiles_run": seen["done"],
        "tiles_total": seen["total"],
        "measured_seconds": round(measured, 1),
        "seconds": round(seconds, 1),
        "peak_rss_mib": round(peak, 1),
        "rss_before_prediction_mib": round(rss_before, 1),
        "lr_megapixels_per_s": round(args.size**2 / 1e6 / seconds, 4),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="dfcan")
    p.add_argument("--size", type=int, default=4096, help="LR image edge in pixels")
    p.add_argument("--scale", type=int, default=2)
    p.add_argument("--tile", type=int, default=256)
    p.add_argument("--overlap", type=int, default=32)
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument(
        "--max-tiles",
        type=int,
        default=0,
        help="stop after this many tiles and extrapolate the time (0: run all)",
    )
    p.add_argument("--contiguous", action="store_true", help="disable channels-last")
    p.add_argument("--tiny", action="store_true", help="the model's tiny preset")
    p.add_argument("--smoke", action="store_true", help="tiny run that checks the script (writes nothing)")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.smoke:
        args.model, args.size, args.tile, args.overlap, args.tiny = "edsr-baseline", 256, 64, 8, True
    if args.child:
        print(json.dumps(child(args)), flush=True)
        return 0
    cmd = [sys.executable, __file__, "--child"] + [a for a in (argv or sys.argv[1:]) if a != "--child"]
    res = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=True)
    m = json.loads(res.stdout.strip().splitlines()[-1])
    print(
        f"{m['model']} {m['size']}x{m['size']} x{args.scale}, tile {m['tile']} overlap {m['overlap']}, "
        f"{m['threads']} threads, channels_last={m['channels_last']}"
    )
    if m["complete"]:
        print(f"  time            {m['seconds']:.1f} s ({m['tiles_total']} tiles)")
    else:
        print(
            f"  time            {m['measured_seconds']:.1f} s for {m['tiles_run']} of "
            f"{m['tiles_total']} tiles; whole image extrapolated: {m['seconds']:.0f} s"
        )
    print(f"  throughput      {m['lr_megapixels_per_s']:.4f} LR megapixels/s")
    print(
        f"  peak RSS        {m['peak_rss_mib']:.0f} MiB (before prediction {m['rss_before_prediction_mib']:.0f} MiB)"
    )
    print(f"  target < 3 GB:  {'met' if m['peak_rss_mib'] < 3072 else 'NOT met'}")
    print(json.dumps(m))
    return 0


if __name__ == "__main__":
    sys.exit(main())
