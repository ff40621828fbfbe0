"""Interleaved A/B timing: microsr vs BasicSR 1.4.2, same process, alternating training steps or forwards.

On a shared, loaded machine, separate processes measured minutes apart see different loads; here
both models live in one process and their steps alternate, so load changes hit both alike. Same
settings as ``speed.py``'s ``train`` (Adam lr 1e-4, L1, random (4, 1, 64, 64) LR / x2 HR batch, one
warm-up step each). ``--mode infer`` times instead what ``microsr predict`` runs per tile: one
forward pass of a (1, 1, 256, 256) LR tile under ``torch.inference_mode`` with the model and input
in channels-last memory format (after two warm-up passes each). Run with the BasicSR venv's Python::

    benchmarks/.venvs/basicsr/bin/python benchmarks/ab_train.py --model edsr-baseline --rounds 6
    benchmarks/.venvs/basicsr/bin/python benchmarks/ab_train.py --mode infer --model edsr-baseline --rounds 20
    benchmarks/.venvs/basicsr/bin/python benchmarks/ab_train.py --mode infer --backend onnx --threads 1
    python benchmarks/ab_train.py --smoke   # checks the script in seconds; results to a temp folder

``--backend onnx`` (``--mode infer``) adds microsr's ONNX Runtime backend (``microsr predict
--backend onnx``, exported once before the rounds) as a third contestant in the same rounds.

``--smoke`` runs both modes for two rounds on a (1, 1, 16, 16) batch and a 32 px tile and writes
to ``$MICROSR_BENCH_RESULTS`` or a new temporary folder, never over the committed results. Without
BasicSR installed the second arm is a second microsr model (an A/A run, labelled ``basicsr:
"unavailable"`` in the file), so the script is checked where BasicSR is not.
"""

from __future__ import annotations

import argparse
import statistics
import time

from _common import machine, print_table, write_json


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", default="edsr-baseline", choices=["rcan", "edsr", "edsr-baseline"])
    p.add_argument("--mode", choices=["train", "infer"], default="train")
    p.add_argument("--rounds", type=int, default=6)
    p.add_argument("--tile", type=int, default=256, help="LR tile size for --mode infer")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--patch", type=int, default=64)
    p.add_argument("--smoke", action="store_true", help="tiny run of both modes (temp results)")
    p.add_argument("--backend", choices=["torch", "onnx"], default="torch", help="--mode infer: add onnx")
    a = p.parse_args()
    if a.smoke:
        a.rounds, a.batch, a.patch, a.tile = 2, 1, 16, 32
        for mode in ("train", "infer"):
            a.mode = mode
            run(a)
    else:
        run(a)


def _second_arm(a: argparse.Namespace):
    """BasicSR's model, or (smoke runs without BasicSR) a second microsr model and a label."""
    from microsr.models import create_model

    try:
        from _basicsr import create_basicsr

        return create_basicsr(a.model, 2), "1.4.2"
    except ImportError:
        if not a.smoke:
            raise
        return create_model(a.model, scale=2), "unavailable"


def onnx_forwarder(model, tile):
    """Time one tile through microsr's ONNX Runtime backend (exported here, before any round)."""
    import tempfile
    from pathlib import Path

    import torch

    from microsr.export.backends import FinalImage
    from microsr.export.importer import OnnxModule
    from microsr.export.weights import save_onnx

    path = Path(tempfile.mkdtemp(prefix="microsr-ab-onnx-")) / "model.onnx"
    save_onnx(FinalImage(model), torch.rand(1, 1, 64, 64), path, "input", "output")
    session = OnnxModule(path.read_bytes(), threads=torch.get_num_threads())

    def forward() -> float:
        t0 = time.perf_counter()
        session(tile)
        return time.perf_counter() - t0

    forward(), forward()  # warm-up
    return forward


def run(a: argparse.Namespace) -> None:
    """One interleaved A/B comparison in ``a.mode``; prints the table and writes the result file."""
    import torch

    from microsr.models import create_model

    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    lr = torch.rand(a.batch, 1, a.patch, a.patch)
    hr = torch.rand(a.batch, 1, 2 * a.patch, 2 * a.patch)

    def stepper(model):
        model.train()
        opt = torch.optim.Adam(model.parameters(), lr=1e-4)

        def step() -> float:
            t0 = time.perf_counter()
            opt.zero_grad(set_to_none=True)
            torch.nn.functional.l1_loss(model(lr), hr).backward()
            opt.step()
            return time.perf_counter() - t0

        step()  # warm-up
        return step

    tile = torch.rand(1, 1, a.tile, a.tile).contiguous(memory_format=torch.channels_last)

    def forwarder(model):
        model = model.eval().to(memory_format=torch.channels_last)

        def forward() -> float:
            t0 = time.perf_counter()
            with torch.inference_mode():
                model(tile)
            return time.perf_counter() - t0

        forward(), forward()  # warm-up (oneDNN primitive creation)
        return forward

    make = stepper if a.mode == "train" else forwarder
    other, basicsr = _second_arm(a)
    ours_model = create_model(a.model, scale=2)
    runners = {"microsr_s": make(ours_model), "basicsr_s": make(other)}
    if a.mode == "infer" and a.backend == "onnx":
        runners["microsr_onnx_s"] = onnx_forwarder(ours_model.eval(), tile)
    names = list(runners)
    rows = []
    for i in range(a.rounds):
        order = names[i % len(names) :] + names[: i % len(names)]  # rotate who goes first
        row: dict = {"round": i, **{n: runners[n]() for n in order}}
        row["ratio_basicsr_over_microsr"] = row["basicsr_s"] / row["microsr_s"]
        if "microsr_onnx_s" in row:
            row["ratio_basicsr_over_microsr_onnx"] = row["basicsr_s"] / row["microsr_onnx_s"]
        rows.append(row)
    med = statistics.median(r["ratio_basicsr_over_microsr"] for r in rows)
    what = "training step" if a.mode == "train" else f"inference ({a.tile} px tile, channels-last)"
    print(f"\n{a.model}: {what} seconds, interleaved (ratio > 1: microsr faster)")
    print_table(rows, list(rows[0]))
    print(f"median ratio basicsr_s / microsr_s = {med:.3f}")
    payload = {"machine": machine(), "args": vars(a), "basicsr": basicsr, "rows": rows, "median_ratio": med}
    if len(names) == 3:
        payload["median_ratio_onnx"] = statistics.median(r["ratio_basicsr_over_microsr_onnx"] for r in rows)
        print(f"median ratio basicsr_s / microsr_onnx_s = {payload['median_ratio_onnx']:.3f}")
    name = f"ab_{a.mode}_{a.model}" if a.mode == "infer" else f"ab_train_{a.model}"
    write_json(name + (f"_onnx_{a.threads}thread" if len(names) == 3 else ""), payload, smoke=a.smoke)


if __name__ == "__main__":
    main()
