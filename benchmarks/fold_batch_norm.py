"""Prediction with batch norms folded into their convolutions, against the model as trained.

For every registered model with a convolution followed by a batch norm
(:mod:`microsr.inference.fusion`), one forward pass of a (1, 1, T, T) LR tile, channels-last, under
``torch.inference_mode`` as :func:`~microsr.inference.tiling.predict_tiled` runs it: the model as
built (``before``) and its folded copy (``after``), timed alternately in one process (the order
flips every round), medians over ``--rounds``; ``max_abs_diff`` compares the two outputs (batch
norms with random running statistics, so the folding is not an identity).

Usage::

    python benchmarks/fold_batch_norm.py --threads 1       # -> results/fold_batch_norm.json
    python benchmarks/fold_batch_norm.py --smoke           # tiny models, a temporary folder
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from _common import machine, print_table, write_json
from torch import nn

from microsr.inference.fusion import conv_bn_pairs, fold_batch_norm
from microsr.models import create_model, list_models


def randomise_statistics(model: nn.Module) -> nn.Module:
    """Batch norms with running statistics and affine parameters away from the identity."""
    g = torch.Generator().manual_seed(0)
    for bn in model.modules():
        if isinstance(bn, nn.BatchNorm2d):
            n = bn.num_features
            bn.running_mean.copy_(torch.rand(n, generator=g) - 0.5)
            bn.running_var.copy_(torch.rand(n, generator=g) + 0.5)
            bn.weight.data.copy_(torch.rand(n, generator=g) + 0.5)
    return model.eval()


def measure(name: str, tile: int, rounds: int, tiny: bool) -> dict:
    """Median seconds per forward pass before and after folding, and the largest output change."""
    model = randomise_statistics(create_model(name, 1, 1, 2, tiny=tiny))
    folded = fold_batch_norm(model)
    nets = {k: m.to(memory_format=torch.channels_last) for k, m in (("before", model), ("after", folded))}
    x = torch.rand(1, 1, tile, tile).contiguous(memory_format=torch.channels_last)
    times: dict[str, list[float]] = {"before": [], "after": []}
    with torch.inference_mode():
        diff = float((nets["before"](x) - nets["after"](x)).abs().max())  # also the warm-up
        for r in range(rounds):
            for k in ("before", "after") if r % 2 == 0 else ("after", "before"):
                t0 = time.perf_counter()
                nets[k](x)
                times[k].append(time.perf_counter() - t0)
    before, after = statistics.median(times["before"]), statistics.median(times["after"])
    pairs = len(conv_bn_pairs(model))
    return {"model": name, "tile": tile, "pairs": pairs, "before_s": before, "after_s": after,
            "speedup": before / after, "max_abs_diff": diff}  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", nargs="*", default=None, help="default: every model with a pair")
    p.add_argument("--tiles", nargs="+", type=int, default=[128, 256])
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--smoke", action="store_true", help="tiny models, 32 px, 3 rounds, dncnn only")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    if a.smoke:
        a.models, a.tiles, a.rounds = ["dncnn"], [32], 3
    names = a.models or [m for m in list_models() if conv_bn_pairs(create_model(m, 1, 1, 2, tiny=True))]
    rows = []
    for name in names:
        for tile in a.tiles:
            rows.append(measure(name, tile, a.rounds, tiny=a.smoke))
            print(rows[-1], flush=True)
    print(f"\nOne forward pass of a {a.tiles} px LR tile, {a.threads} thread(s), medians of {a.rounds}")
    print_table(rows, ["model", "tile", "pairs", "before_s", "after_s", "speedup", "max_abs_diff"])
    write_json("fold_batch_norm", {"machine": machine(), "args": vars(a), "rows": rows}, smoke=a.smoke)


if __name__ == "__main__":
    main()
