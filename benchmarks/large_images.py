"""Tiled prediction of very large images: time, peak memory, agreement with whole-image prediction.

Cases (each in a fresh subprocess, so ``ru_maxrss`` is that case's peak resident memory):

* ``tiled``: :func:`microsr.inference.tiling.predict_tiled` (tile ``--tile``, overlap ``--overlap``,
  channels-last, inference_mode) of a random ``size`` x ``size`` LR image at x2 for each model in
  ``--models`` (full size, random weights) and size in ``--sizes``. With ``--max-tiles N`` (default
  2) only N tiles run after the image-size input and output buffers exist, and the whole-image
  time is extrapolated from the measured per-tile time (``complete: false`` in the table).
* ``whole-vs-tiled``: on a smaller random image (``--check-size``; per model, so that it runs in a
  few minutes here) the tiled result is compared with one whole-image forward pass: largest
  absolute difference over the image and inside it away from the border by the overlap, relative
  to the output's range.
* ``care``: CSBDeep 0.8.2's CARE ``predict(..., n_tiles=...)`` on the HR-grid-sized image of each
  size (CARE is upsampling-free: an LR of N px becomes a 2N px input) with a 2 M-parameter CARE
  U-Net (``benchmarks/care_large.py`` in ``benchmarks/.venvs/csbdeep``), HR-grid tiles of twice
  ``--tile``; as CSBDeep predicts row by row and allocates its full-size output after the first
  row, at least one row plus one tile runs, so the peak memory includes that output.

Usage::

    python benchmarks/large_images.py                            # -> benchmarks/results/large_images.json
    python benchmarks/large_images.py --models dfcan --sizes 4096 --max-tiles 4 --no-care
    python benchmarks/large_images.py --smoke   # checks the script in seconds; results to a temp folder

``--smoke``: tiny ``edsr-baseline`` on a 256 px image (64 px tiles, one tile) and a 64 px
whole-vs-tiled check, no CARE; the result file goes to ``$MICROSR_BENCH_RESULTS`` or a new
temporary folder, never over the committed results.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from _common import (
    VENVS,
    machine,
    peak_rss_mib,
    print_table,
    run_child,
    time_partial_tiled,
    write_json,
)

CHECK_SIZE = {"dfcan": 256, "rcan": 192}  # whole-image check size per model (LR px)


def child_tiled(a) -> dict:
    import numpy as np
    import torch

    from microsr.models import count_parameters, create_model

    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = create_model(a.model, scale=2, tiny=a.tiny).eval()
    with torch.inference_mode():
        model(torch.rand(1, 1, 32, 32))  # warm-up
    image = np.random.default_rng(0).random((a.size, a.size), dtype=np.float32)
    timing = time_partial_tiled(model, image, 2, tile=a.tile, overlap=a.overlap, max_tiles=a.max_tiles)
    return {"params": count_parameters(model), **timing, "peak_rss_mib": peak_rss_mib()}


def child_check(a) -> dict:
    import numpy as np
    import torch

    from microsr.inference.tiling import predict_tiled
    from microsr.models import create_model
    from microsr.models.outputs import final_output

    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = create_model(a.model, scale=2, tiny=a.tiny).eval()
    image = np.random.default_rng(0).random((a.size, a.size), dtype=np.float32)
    t0 = time.perf_counter()
    tiled = predict_tiled(model, image, 2, tile=a.tile, overlap=a.overlap)
    t_tiled = time.perf_counter() - t0
    with torch.inference_mode():
        t0 = time.perf_counter()
        whole = final_output(model(torch.from_numpy(image)[None, None])).numpy()[0, 0]
        t_whole = time.perf_counter() - t0
    diff = np.abs(tiled - whole)
    m = 2 * a.overlap
    rng = float(whole.max() - whole.min())
    return {
        "max_abs_diff": float(diff.max()),
        "max_abs_diff_interior": float(diff[m:-m, m:-m].max()),
        "output_range": rng,
        "max_rel_diff": float(diff.max()) / rng,
        "tiled_s": t_tiled,
        "whole_s": t_whole,
        "peak_rss_mib": peak_rss_mib(),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--models", nargs="*", default=["dfcan", "rcan"], help="none: CARE only")
    p.add_argument("--sizes", nargs="+", type=int, default=[4096, 8192])
    p.add_argument("--tile", type=int, default=256)
    p.add_argument("--overlap", type=int, default=32)
    p.add_argument("--max-tiles", type=int, default=2, help="0 = all tiles")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument(
        "--check-size", type=int, default=None, help="whole-vs-tiled image size (default per model)"
    )
    p.add_argument("--check-tile", type=int, default=128)
    p.add_argument("--no-check", action="store_true")
    p.add_argument("--no-care", action="store_true")
    p.add_argument("--out", default="large_images")
    p.add_argument("--smoke", action="store_true", help="tiny run that checks the script (temp results)")
    p.add_argument("--tiny", action="store_true", help="the models' tiny presets")
    p.add_argument("--child", choices=["tiled", "check"], help=argparse.SUPPRESS)
    p.add_argument("--model", help=argparse.SUPPRESS)
    p.add_argument("--size", type=int, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child:
        print(json.dumps((child_tiled if a.child == "tiled" else child_check)(a)))
        return

    if a.smoke:
        a.models, a.sizes, a.tile, a.overlap, a.max_tiles = ["edsr-baseline"], [256], 64, 8, 1
        a.check_size, a.check_tile, a.no_care, a.tiny = 64, 32, True, True
    common = ["--threads", str(a.threads), "--overlap", str(a.overlap), *(["--tiny"] if a.tiny else [])]
    rows, checks = [], []
    for model in a.models:
        for size in a.sizes:
            res = run_child(
                [
                    __file__,
                    "--child",
                    "tiled",
                    "--model",
                    model,
                    "--size",
                    str(size),
                    "--tile",
                    str(a.tile),
                    "--max-tiles",
                    str(a.max_tiles),
                    *common,
                ]
            )
            rows.append({"case": f"microsr {model}", "lr_size": size, **res})
            print(f"  {rows[-1]}", file=sys.stderr, flush=True)
        if not a.no_check:
            size = a.check_size or CHECK_SIZE.get(model, 256)
            res = run_child(
                [
                    __file__,
                    "--child",
                    "check",
                    "--model",
                    model,
                    "--size",
                    str(size),
                    "--tile",
                    str(a.check_tile),
                    *common,
                ]
            )
            checks.append(
                {"model": model, "lr_size": size, "tile": a.check_tile, "overlap": a.overlap, **res}
            )
            print(f"  {checks[-1]}", file=sys.stderr, flush=True)
    care_py = VENVS / "csbdeep" / "bin" / "python"
    if not a.no_care and care_py.exists():
        for size in a.sizes:
            # CSBDeep tiles row by row and allocates the full output after the first row: run one
            # tile more than a row so that the peak memory includes it
            per_row = size // a.tile
            tiles = 0 if not a.max_tiles else max(a.max_tiles, per_row + 1)
            res = run_child(
                [
                    str(Path(__file__).parent / "care_large.py"),
                    "--size",
                    str(2 * size),
                    "--tile",
                    str(2 * a.tile),
                    "--max-tiles",
                    str(tiles),
                    "--threads",
                    str(a.threads),
                ],
                python=str(care_py),
            )
            rows.append({"case": "CSBDeep CARE (HR-grid input)", "lr_size": size, **res})
            print(f"  {rows[-1]}", file=sys.stderr, flush=True)
    print(
        f"\nTiled prediction, x2, LR tile {a.tile} px, overlap {a.overlap}, {a.threads} threads "
        f"(seconds extrapolated from the tiles run when complete is False)"
    )
    print_table(
        rows,
        [
            "case",
            "lr_size",
            "params",
            "tiles_run",
            "tiles_total",
            "complete",
            "measured_s",
            "seconds",
            "peak_rss_mib",
            "error",
        ],
    )
    if checks:
        print("\nTiled vs whole-image prediction (same random weights and image)")
        print_table(
            checks,
            [
                "model",
                "lr_size",
                "tile",
                "overlap",
                "max_abs_diff",
                "max_abs_diff_interior",
                "max_rel_diff",
                "tiled_s",
                "whole_s",
                "peak_rss_mib",
                "error",
            ],
        )
    write_json(a.out, {"machine": machine(), "args": vars(a), "rows": rows, "checks": checks}, smoke=a.smoke)


if __name__ == "__main__":
    main()
