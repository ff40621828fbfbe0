"""Ablations of the two seed methods under one CPU step budget: MHTCUN stages and the geometry prior.

Parts (``--part``, default both):

``mhtcun``  seed ``mhtcun-paper.md`` 4.2: ``mhtcun`` with ``stages`` = 1, 2, 3, each trained with its
            default loss ``mhtcun-cascade`` (the last stage against the GT, earlier stages against
            the 2x / 4x blurred GT). Data: simulated microtubules, x2 (``microsr.data.datasets.
            write_simulated``, default 200 photo-electrons).
``prior``   seed ``leukocyte-geometry-prior-paper.md`` 3.2 / Table 1: ``geometry-prior-full``
            (prior U-Net + SR net, loss ``geometry-prior`` = Charbonnier + BCE on the map),
            ``geometry-prior-noprior`` (Charbonnier only) and ``geometry-prior`` fed the
            ground-truth parsing map at training and test time (an upper bound for a perfect prior),
            vs bicubic; also ``geometry-prior-full`` with a wider prior U-Net (``prior_width`` 8,
            ``prior_depth`` 3 instead of the tiny preset's 4 / 2) and ``geometry-prior-noprior`` at
            width 16 (about as many parameters as the tiny ``geometry-prior-full``: a capacity
            control). Data: simulated leukocytes with parsing maps (``microsr simulate --structure
            leukocytes``), x4 as in the seed, 1000 photo-electrons (the seed's LR is noise-free).

Every variant of a part trains with :func:`microsr.engine.train` on the same images, seed, step
budget, patch, batch and learning rate (Adam, cosine decay), predicts the held-out test images with
:func:`microsr.inference.predict.predict_path` (``masks=`` the test parsing maps for
``geometry-prior``) and is scored by :func:`microsr.evaluation.evaluate.evaluate_folders` (affine
fit of the prediction to the HR, data range = HR max - min per image), which also scores bicubic.
Training and test images come from different seeds (test seeds start at 100000).

Budgets: ``smoke`` (a few steps), ``small`` (tiny presets, about 10-12 min for both parts on 2 idle
CPU cores), ``full`` (full-size models and a GPU-scale step count). A finished variant leaves
``result.json`` in ``WORK/<budget>/runs/<part>/<variant>``, reused while the budget's settings are
unchanged (``--fresh`` retrains anyway), so a part can be re-run or resumed; an unfinished
variant resumes its training run from its last checkpoint (microsr's exact resume); results
are merged into ``benchmarks/results/ablations.json`` under the budget and part (a smoke run
writes to a temporary folder instead, or to ``$MICROSR_BENCH_RESULTS``).

Usage::

    python benchmarks/ablations.py --budget smoke
    python benchmarks/ablations.py --budget small --part mhtcun
    python benchmarks/ablations.py --budget small --part prior
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

from _ablation_parts import parsing_scores, seed_summary, val_curve
from _common import machine, print_table, results_dir

TEST_SEED = 100_000
PARTS = {  # what each part simulates: scale, structure, photons
    "mhtcun": dict(scale=2, structure="microtubules", photons=200.0),
    "prior": dict(scale=4, structure="leukocytes", photons=1000.0),
}
_BUDGET_KEYS = ("steps", "patch", "batch", "lr", "tiny", "n_train", "n_test", "size")
_BUDGET_ROWS = {  # (budget, part): steps, LR patch, batch, learning rate, tiny presets, images, HR size
    ("smoke", "mhtcun"): (4, 16, 2, 1e-3, True, 3, 1, 64),
    ("smoke", "prior"): (4, 8, 2, 1e-3, True, 3, 1, 64),
    ("small", "mhtcun"): (500, 16, 8, 1e-3, True, 8, 4, 128),
    ("small", "prior"): (1000, 16, 8, 1e-3, True, 16, 6, 128),
    ("full", "mhtcun"): (20000, 64, 16, 1e-4, False, 60, 10, 512),
    ("full", "prior"): (20000, 56, 8, 1e-4, False, 200, 20, 224),
}
BUDGETS: dict[str, dict[str, dict]] = {}
for (_budget, _part), _row in _BUDGET_ROWS.items():
    BUDGETS.setdefault(_budget, {})[_part] = {**dict(zip(_BUDGET_KEYS, _row)), **PARTS[_part]}
# five times the small MHTCUN steps, validated every tenth of them: convergence along the run
BUDGETS["small-5x"] = {"mhtcun": {**BUDGETS["small"]["mhtcun"], "steps": 2500, "val_every": 250}}
VARIANTS = {  # part -> [(row name, registry name, options, uses the GT mask at prediction)]
    "mhtcun": [(f"mhtcun stages={s}", "mhtcun", {"stages": s}, False) for s in (1, 2, 3)],
    "prior": [
        ("geometry-prior-noprior", "geometry-prior-noprior", {}, False),
        ("geometry-prior-noprior, width 16", "geometry-prior-noprior", {"width": 16}, False),
        ("geometry-prior-full", "geometry-prior-full", {}, False),
        (
            "geometry-prior-full, prior U-Net 8/3",
            "geometry-prior-full",
            {"prior_width": 8, "prior_depth": 3},
            False,
        ),
        ("geometry-prior + GT map", "geometry-prior", {}, True),
    ],
}


def make_data(folder: Path, b: dict) -> None:
    """Train and test folders (lr/, hr/, and mask/ for leukocytes) through the data layer."""
    from microsr.data.datasets import write_simulated

    for split, n, seed in (("train", b["n_train"], 0), ("test", b["n_test"], TEST_SEED)):
        if not (folder / split / "hr").is_dir():
            shutil.rmtree(folder / split, ignore_errors=True)
            write_simulated(
                folder / split,
                structure=b["structure"],
                count=n,
                size=b["size"],
                scale=b["scale"],
                seed=seed,
                photons=b["photons"],
            )


def train_variant(
    model: str, options: dict, gt_mask: bool, data: Path, work: Path, b: dict, threads: int, seed: int
) -> dict:
    """Train one variant (resuming its run where an earlier invocation was stopped), predict the
    test images, score them; returns the result row. ``train_s`` sums the training time of every
    invocation (kept in ``WORK/train_seconds``)."""
    from microsr.engine import make_config, train
    from microsr.evaluation.evaluate import evaluate_folders
    from microsr.inference.predict import predict_path
    from microsr.models import count_parameters, create_model, get_spec

    masks = data / "train" / "mask" if get_spec(model).needs_mask else None
    cfg = make_config(
        {
            "out": str(work / "run"),
            "model": {"name": model, "tiny": b["tiny"], "options": options},
            "scale": b["scale"],
            "data": {
                "lr_dir": str(data / "train" / "lr"),
                "hr_dir": str(data / "train" / "hr"),
                "mask_dir": None if masks is None else str(masks),
                "patch_size": b["patch"],
                "batch_size": b["batch"],
                "val_fraction": 0.15,
                "val_crop": 64,
            },
            "optimizer": {"lr": b["lr"]},
            "schedule": {"name": "cosine"},
            "steps": b["steps"],
            "val_every": b.get("val_every", max(b["steps"] // 2, 1)),
            "log_every": max(b["steps"] // 10, 1),
            "monitor": "psnr",
            "seed": seed,
            "num_threads": threads,
            "resume": (work / "run" / "checkpoint" / "last.pt").exists(),
        }
    )
    spent = work / "train_seconds"
    earlier = float(spent.read_text()) if spent.exists() else 0.0
    t0 = time.perf_counter()
    try:
        run = train(cfg, progress=False)
    finally:
        spent.write_text(f"{earlier + time.perf_counter() - t0:.1f}")
    train_s = float(spent.read_text())
    predict_path(
        run,
        data / "test" / "lr",
        work / "pred",
        progress=False,
        masks=data / "test" / "mask" if gt_mask else None,
    )
    s = evaluate_folders(
        work / "pred", data / "test" / "hr", work / "eval", lr_dir=data / "test" / "lr", fit="affine"
    )
    params = count_parameters(create_model(model, scale=b["scale"], tiny=b["tiny"], **options))
    return {
        "params": params,
        "train_s": round(train_s, 1),
        "psnr": s["psnr"],
        "ssim": s["ssim"],
        "bicubic_psnr": s["baseline"]["psnr"],
        "bicubic_ssim": s["baseline"]["ssim"],
    }


def run_part(part: str, budget: str, work: Path, a: argparse.Namespace) -> dict:
    """Train (or reuse) every variant of ``part`` for each seed (seed outermost, so an interrupted
    run leaves whole seeds); returns the JSON block of the part. ``a.only``: variants whose name
    contains it; ``a.report``: train nothing, report finished runs (and the validation curve so far
    of unfinished ones)."""
    fresh, threads, seeds = a.fresh, a.threads, a.seeds
    b = BUDGETS[budget][part]
    data = work / "data" / part
    make_data(data, b)
    rows = []
    t_part = time.perf_counter()
    runs = [(seed, *v) for seed in seeds for v in VARIANTS[part]]
    for seed, label, model, options, gt_mask in runs:
        if a.only and a.only not in label:
            continue
        slug = "".join(c for c in label.replace(" ", "_") if c.isalnum() or c in "_-")
        run_dir = work / "runs" / part / (slug if seed == 0 else f"{slug}_seed{seed}")
        done = run_dir / "result.json"
        t0 = time.perf_counter()
        cached = json.loads(done.read_text()) if done.exists() and not fresh else {}
        if cached.get("settings") == b:  # finished earlier with the same settings
            res = cached
        elif a.report:
            res = {"unfinished": True}
        else:
            if fresh or not (run_dir / "run" / "checkpoint" / "last.pt").exists():
                shutil.rmtree(run_dir, ignore_errors=True)  # nothing to resume: start over
            run_dir.mkdir(parents=True, exist_ok=True)
            try:
                res = train_variant(model, options, gt_mask, data, run_dir, b, threads, seed)
                done.write_text(json.dumps({**res, "settings": b}))
            except Exception as exc:  # noqa: BLE001 - one failing variant must not end the ablation
                res = {"error": f"{type(exc).__name__}: {str(exc)[:300]}"}
        if model == "geometry-prior-full" and "psnr" in res and "p_nucleus_in_nucleus" not in res:
            res.update(parsing_scores(run_dir / "run", data))
            done.write_text(json.dumps({**res, "settings": b}))
        res.pop("settings", None)
        res["val_psnr"] = val_curve(run_dir / "run" / "log.csv")
        row = {"variant": label, "model": model, "options": options, **res}
        rows.append(row if len(seeds) == 1 else {**row, "seed": seed})
        print(
            f"  {part} {label}: {time.perf_counter() - t0:.0f} s {json.dumps(rows[-1])}",
            file=sys.stderr,
            flush=True,
        )
    bic = next((r for r in rows if "bicubic_psnr" in r), None)
    if bic:
        rows.append(
            {
                "variant": "bicubic",
                "model": "bicubic",
                "params": 0,
                "psnr": bic["bicubic_psnr"],
                "ssim": bic["bicubic_ssim"],
            }
        )
    for r in rows:
        if "psnr" in r and bic:
            r["gain_vs_bicubic_db"] = r["psnr"] - bic["bicubic_psnr"]
    train_sum = sum(r.get("train_s", 0) for r in rows)
    return {
        "settings": b,
        "seconds_this_invocation": time.perf_counter() - t_part,
        "train_seconds_sum": train_sum,
        "rows": rows,
        "over_seeds": seed_summary(rows),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--budget", choices=list(BUDGETS), default="smoke")
    p.add_argument("--part", choices=["mhtcun", "prior", "both"], default="both")
    p.add_argument("--work", default="/tmp/microsr-ablations", help="data, runs and predictions go here")
    p.add_argument("--fresh", action="store_true", help="retrain even where result.json exists")
    p.add_argument("--seeds", type=int, nargs="+", default=[0], help="training seeds (data fixed)")
    p.add_argument("--only", help="run only the variants whose name contains this (e.g. 'stages=2')")
    p.add_argument("--report", action="store_true", help="train nothing: tables of the finished runs")
    p.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads for training (1: on a loaded 2-core machine, 2 threads ran the "
        "tiny MHTCUN 10x slower than 1)",
    )
    a = p.parse_args()
    parts = [q for q in ("mhtcun", "prior") if a.part in (q, "both") and q in BUDGETS[a.budget]]
    work = Path(a.work) / a.budget
    out_path = results_dir(smoke=a.budget == "smoke") / "ablations.json"
    for part in parts:
        block = run_part(part, a.budget, work, a)
        b = block["settings"]
        print(
            f"\n{part} ablation, budget {a.budget}: {b['steps']} steps, LR patch {b['patch']}, batch "
            f"{b['batch']}, lr {b['lr']}, {'tiny presets' if b['tiny'] else 'full-size models'}, "
            f"{b['structure']} x{b['scale']}, {b['n_train']} train / {b['n_test']} test images of "
            f"{b['size']} HR px; affine fit; {block['seconds_this_invocation']:.0f} s now, "
            f"{block['train_seconds_sum']:.0f} s of training in all"
        )
        print_table(
            block["rows"],
            [
                "variant",
                "seed",
                "unfinished",
                "params",
                "train_s",
                "psnr",
                "ssim",
                "gain_vs_bicubic_db",
                "parsing_accuracy",
                "cell_iou",
                "nucleus_iou",
                "p_nucleus_in_nucleus",
                "p_nucleus_in_cytoplasm",
                "error",
            ],
        )
        if block["over_seeds"]:
            print_table(block["over_seeds"], list(block["over_seeds"][0]))
        block["machine"] = machine()
        seeds = "" if a.seeds == [0] else " --seeds " + " ".join(map(str, a.seeds))
        block["command"] = f"python benchmarks/ablations.py --budget {a.budget} --part {part}{seeds}"
        payload = json.loads(out_path.read_text()) if out_path.exists() else {}  # merge, re-read now
        payload.setdefault("budgets", {}).setdefault(a.budget, {})[part] = block
        out_path.parent.mkdir(parents=True, exist_ok=True)
        out_path.write_text(json.dumps(payload, indent=1) + "\n")
        print(f"wrote {out_path}")


if __name__ == "__main__":
    main()
