"""Training steps/s with batch preparation against compute only (the same batches made beforehand).

One process, one model (``--model``, default ``edsr-baseline`` at full size), batch ``--batch`` of
``--patch`` px LR patches at x2 from simulated microtubule/F-actin images held in memory
(normalised like training does), Adam, MSE, CPU. Cases, interleaved in ``--rounds`` rounds so that a
change of machine load hits every case alike:

* ``compute``: a step on a batch made before its clock starts (the loop only trains);
* ``workers=N``: a step whose batch is drawn by :func:`microsr.engine.prefetch.batch_feed`
  (``N = 0``: in the training process, between steps; ``N >= 1``: prepared ahead in N DataLoader
  worker processes), as ``microsr train --workers N``.

The cases take turns step by step (``--steps`` x ``--rounds`` steps each), so a change of machine
load hits them alike; each case's steps/s is 1 / its median step time, and ``ratio_to_compute`` is
that over compute-only steps/s (``median_paired_ratio``: the median of the step-by-step ratios).
It also times one batch's preparation alone.

Usage::

    python benchmarks/train_feed.py                      # writes results/train_feed.json
    python benchmarks/train_feed.py --smoke              # tiny model, 2 steps, writes nothing
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from _common import machine, print_table, write_json


def make_batcher(batch: int, patch: int, n_images: int, hr_size: int):
    """A PatchBatcher over simulated, percentile-normalised pairs (as ``microsr train`` builds it)."""
    import numpy as np

    from microsr.data.batches import PatchBatcher
    from microsr.data.simulate import simulate_pair

    class Item:
        def __init__(self, lr, hr, name):
            self.lr, self.hr, self.mask, self.name = lr, hr, None, name

    def norm(a):
        lo, hi = np.percentile(a, (2, 99.8))
        return ((a - lo) / max(hi - lo, 1e-6)).astype(np.float32)

    items = []
    for i in range(n_images):
        lr, hr = simulate_pair(("microtubules", "f-actin")[i % 2], size=hr_size, scale=2, seed=i)
        items.append(Item(norm(lr), norm(hr), f"im{i}"))
    return PatchBatcher(items, patch_size=patch, scale=2, batch_size=batch, seed=0)


def timed_steps(model, opt, batches) -> float:
    """Seconds for one training step per batch of the iterable (drawing included)."""
    import torch.nn.functional as F

    t0 = time.perf_counter()
    for b in batches:
        opt.zero_grad(set_to_none=True)
        loss = F.mse_loss(model(b["lr"]), b["hr"])
        loss.backward()
        opt.step()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="edsr-baseline")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--patch", type=int, default=64)
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--workers", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--smoke", action="store_true")
    args = ap.parse_args()
    import torch

    from microsr.engine.prefetch import batch_feed
    from microsr.models import create_model

    if args.smoke:
        args.steps, args.rounds, args.batch, args.patch = 2, 1, 2, 16
    torch.manual_seed(0)
    model = create_model(args.model, 1, 1, 2, tiny=args.smoke)
    opt = torch.optim.Adam(model.parameters(), 1e-4)
    batcher = make_batcher(args.batch, args.patch, 2 if args.smoke else 8, 128 if args.smoke else 512)
    t0 = time.perf_counter()
    made = [batcher.batch(i) for i in range(args.steps)]
    prep_ms = (time.perf_counter() - t0) / args.steps * 1000
    timed_steps(model, opt, made[:1])  # warm-up
    cases = ["compute"] + [f"workers={w}" for w in args.workers]
    times: dict[str, list[float]] = {c: [] for c in cases}
    n = args.steps * args.rounds
    start = 1000  # batch indices not used above; compute-only gets the same batches, pre-made
    feeds = [batch_feed(batcher, range(start, start + n), workers=w) for w in args.workers]
    iters = [f.__enter__() for f in feeds]
    try:
        for i in range(n):  # one step of each case in turn: a change of load hits them alike
            times["compute"].append(timed_steps(model, opt, [batcher.batch(start + i)]))
            for w, it in zip(args.workers, iters):
                times[f"workers={w}"].append(timed_steps(model, opt, [next(it)]))
    finally:
        for f in feeds:
            f.__exit__(None, None, None)
    base = statistics.median(times["compute"])
    table = []
    for name in cases:
        med = statistics.median(times[name])
        ratios = [c / t for c, t in zip(times["compute"], times[name])]
        table.append(
            {
                "case": name,
                "median_step_s": round(med, 3),
                "steps_per_s": round(1 / med, 4),
                "ratio_to_compute": round(base / med, 4),
                "median_paired_ratio": round(statistics.median(ratios), 4),
            }
        )
    print_table(table, ["case", "median_step_s", "steps_per_s", "ratio_to_compute", "median_paired_ratio"])
    print(f"one batch prepared alone: {prep_ms:.1f} ms")
    load = os.getloadavg()
    result = {
        "model": args.model,
        "batch": args.batch,
        "patch": args.patch,
        "steps": args.steps,
        "rounds": args.rounds,
        "threads": torch.get_num_threads(),
        "batch_prep_ms": round(prep_ms, 2),
        "rows": table,
        "load_average": [round(x, 2) for x in load],
        "machine": machine(),
    }
    if not args.smoke:
        write_json("train_feed", result)


if __name__ == "__main__":
    main()
