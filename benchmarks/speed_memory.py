"""MHTCUN training memory with and without activation checkpointing (the ``checkpoint`` option).

Each variant runs in a fresh Python process (so ``ru_maxrss`` is the peak resident memory of that
one measurement): the full-size ``mhtcun`` (or ``--tiny``), Adam (lr 1e-4), L1 on every stage's
output (``final`` and each ``aux`` stage against the same random HR), random (``--batch``, 1,
``--patch``, ``--patch``) LR / x2 HR float32 batches; one warm-up step, then ``--steps`` timed steps.
Reported: peak RSS of the process (MiB; it includes Python, PyTorch and the model, measured alone
as ``baseline_rss_mib`` after building the model), the peak of the training steps above that
baseline, and seconds per step.

Usage::

    python benchmarks/speed_memory.py                  # batch 4 of 64 px -> results/mhtcun_train_memory.json
    python benchmarks/speed_memory.py --smoke          # tiny model, 16 px, results to a temporary folder
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from _common import machine, peak_rss_mib, print_table, results_dir, run_child


def child(a) -> dict:
    import torch

    from microsr.models import create_model

    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = create_model("mhtcun", scale=2, tiny=a.tiny, checkpoint=a.checkpoint).train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    g = torch.Generator().manual_seed(0)
    lr = torch.rand(a.batch, 1, a.patch, a.patch, generator=g)
    hr = torch.rand(a.batch, 1, 2 * a.patch, 2 * a.patch, generator=g)
    baseline = peak_rss_mib()

    def step() -> float:
        opt.zero_grad(set_to_none=True)
        out = model(lr)
        loss = sum(torch.nn.functional.l1_loss(y, hr) for y in [out.final, *out.aux.values()])
        loss.backward()
        opt.step()
        return float(loss)

    step()  # warm-up (also the first step of the peak)
    t0 = time.perf_counter()
    loss = 0.0
    for _ in range(a.steps):
        loss = step()
    peak = peak_rss_mib()
    return {
        "checkpoint": a.checkpoint,
        "peak_rss_mib": peak,
        "baseline_rss_mib": baseline,
        "step_peak_above_baseline_mib": peak - baseline,
        "seconds_per_step": (time.perf_counter() - t0) / a.steps,
        "last_loss": loss,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--patch", type=int, default=64, help="LR patch edge")
    p.add_argument("--steps", type=int, default=1, help="timed steps after the warm-up step")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--tiny", action="store_true", help="the tiny preset instead of the full size")
    p.add_argument("--smoke", action="store_true", help="tiny model, batch 2 of 16 px (checks the script)")
    p.add_argument("--out", default="mhtcun_train_memory")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--checkpoint", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.smoke:
        a.tiny, a.batch, a.patch = True, 2, 16
    if a.child:
        print(json.dumps(child(a)))
        return
    argv = [__file__, "--child", "--batch", str(a.batch), "--patch", str(a.patch)]
    argv += ["--steps", str(a.steps), "--threads", str(a.threads)] + (["--tiny"] if a.tiny else [])
    rows = []
    for ckpt in (False, True):
        res = run_child(argv + (["--checkpoint"] if ckpt else []))
        rows.append({"checkpoint": ckpt, **res})
        print(f"  checkpoint={ckpt}: {res}", file=sys.stderr, flush=True)
    if all("peak_rss_mib" in r for r in rows):
        for r in rows:
            r["peak_rss_vs_off"] = r["peak_rss_mib"] / rows[0]["peak_rss_mib"]
            r["step_peak_vs_off"] = (
                r["step_peak_above_baseline_mib"] / rows[0]["step_peak_above_baseline_mib"]
            )
    what = "tiny" if a.tiny else "full-size"
    print(f"\n{what} mhtcun training, batch {a.batch} of {a.patch} px LR (x2), {a.threads} thread(s)")
    cols = ["checkpoint", "peak_rss_mib", "baseline_rss_mib", "step_peak_above_baseline_mib"]
    print_table(rows, [*cols, "peak_rss_vs_off", "step_peak_vs_off", "seconds_per_step", "error"])
    path = results_dir(smoke=a.smoke) / f"{a.out}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"machine": machine(), "args": {k: v for k, v in vars(a).items() if k != "child"}, "rows": rows}
    path.write_text(json.dumps(payload, indent=1) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
