"""Real images, one acquisition each: microsr's defaults against bicubic, a plain SRCNN and CARE.

Regenerates the table of ``docs/real-data.md`` (between its ``real-data-table`` markers) and
``benchmarks/results/real_data.json``::

    python benchmarks/real_data.py --seeds 0 1          # all sets, 300 steps, two seeds
    python benchmarks/real_data.py --smoke              # 20 steps, one set, writes only to --work
    python benchmarks/real_data.py --test-side left --sets nuclei celegans stem --methods microsr srcnn care
                                                        # the same on the other end of each image

Data sets and degradations: ``benchmarks/_real_data_sets.py`` (four real images from PyPI wheels,
each degraded two ways, the electron micrograph also paired with its second detector's image;
each split by region into one training image or stack and a held-out test part). Methods, all at the same ``--steps`` steps of ``--batch`` patches, one CPU thread:

* ``microsr``: ``microsr train --lr L --hr H --scale 2 --out R --steps N --batch-size B`` with
  nothing else (the recommended model and the budget recipe; validation on a held-out region),
  then ``microsr predict`` with the best weights;
* ``microsr:MODEL``: the same with ``--recipe budget --model MODEL``: ``microsr:srcnn`` (the
  recommended model before ``care-unet-k3``) and ``microsr:care-unet`` (CARE's own 5x5 U-Net);
* ``srcnn``: the plain reference SRCNN of ``benchmarks/_srcnn_reference.py`` (Adam 1e-3, MSE);
* ``care``: CSBDeep CARE in its own environment (``benchmarks/care_helper.py``), bicubic input;
* ``care:holdout``: the same CARE trained only on the pixels the finished ``microsr`` run (same set
  and seed, listed before it) trained on: its validation strip and margin left out (CARE, one epoch
  of ``--steps`` steps, validates once and keeps its last weights, so the strip would change nothing
  else);
* ``METHOD+trainnorm``: METHOD's finished run (``microsr`` or ``care``, listed before it) predicted
  with the training image's intensity range instead of each test image's own percentiles
  (``microsr predict --normalization training``; ``care_helper.py --train-norm``);
* ``microsr+tta-GROUP``: the finished ``microsr`` run predicted with ``--tta GROUP`` (``none``,
  ``flips``, ``all``) instead of the group its training chose (``auto``); ``care+tta-GROUP``: CARE's
  finished run predicted averaging the same mirrors (``flips``) or rotations and mirrors (``all``);

How the recipe was chosen (variants of it, one setting at a time): ``real_data_ablation.py``.

Every prediction is scored by ``microsr.evaluation.evaluate_folders`` with ``fit="affine"``
(least-squares gain and offset to the ground truth, data range = ground truth max - min), and the
bicubic baseline is scored the same way.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tifffile
import yaml
from _common import RESULTS, run_child
from _quality_runs import CARE_HELPER, CARE_PYTHON, score, train_care
from _real_data_sets import DEGRADATIONS, SOURCES, kinds, make_set
from _srcnn_reference import train_and_predict

DOC = Path(__file__).resolve().parent.parent / "docs" / "real-data.md"
MARKS = {  # where each split's table goes in DOC
    "right": ("<!-- real-data-table:start -->", "<!-- real-data-table:end -->"),
    "left": ("<!-- real-data-left-table:start -->", "<!-- real-data-left-table:end -->"),
}
TARGET_DB = 1.0  # the defaults must gain at least this much PSNR over bicubic on every set


def microsr_cli(*args: str) -> None:
    cmd = [sys.executable, "-m", "microsr.cli.main", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {proc.stderr.strip()[-500:]}")


def run_microsr(data: Path, work: Path, a: argparse.Namespace, seed: int, model: str | None = None) -> dict:
    """Train with the CLI and its defaults (``model``: ``--recipe budget --model MODEL``), predict with
    the best weights, score."""
    args = ["--lr", str(data / "train" / "lr"), "--hr", str(data / "train" / "hr"), "--scale", "2"]
    args += [] if model is None else ["--recipe", "budget", "--model", model]
    args += ["--out", str(work / "run"), "--steps", str(a.steps), "--batch-size", str(a.batch)]
    args += ["--seed", str(seed), "--num-threads", str(a.threads), "--device", "cpu", "--quiet"]
    t0 = time.perf_counter()
    microsr_cli("train", *args)
    train_s = time.perf_counter() - t0
    pred = work / "pred"
    microsr_cli(
        "predict", "--model", str(work / "run"), "--input", str(data / "test" / "lr"), "--output", str(pred)
    )
    config = yaml.safe_load((work / "run" / "config.yaml").read_text())
    return {"train_s": train_s, "model": config["model"], **score(pred, data, work / "eval")}


def plane_files(data: Path, dst: Path) -> Path:
    """A copy of ``data`` with every plane of a stack as its own 2-D file (what care_helper.py reads)."""
    for f in sorted(data.glob("*/*/*.tif")):
        array = tifffile.imread(f)
        out = dst / f.relative_to(data)
        out.parent.mkdir(parents=True, exist_ok=True)
        if array.ndim == 2:
            tifffile.imwrite(out, array)
        for z, plane in enumerate(array if array.ndim == 3 else []):
            tifffile.imwrite(out.with_name(f"{f.stem}_z{z}.tif"), plane)
    return dst


@dataclass
class _Plane:  # what split_regions cuts: a name, an LR plane, its HR plane, no parsing map
    name: str
    lr: np.ndarray
    hr: np.ndarray
    mask: None = None


def microsr_training_part(data: Path, run: Path, dst: Path) -> Path:
    """``data`` with each training plane cut to the part microsr's finished ``run`` trained on: its
    validation strip and the margin before it removed by ``split_regions`` with the run's settings."""
    from microsr.data.split import split_regions
    from microsr.engine.data import MIN_VAL

    cfg = yaml.safe_load((run / "config.yaml").read_text())
    margin = json.loads((run / "model.json").read_text())["data"]["val_margin"]
    planes = plane_files(data, dst / "planes")
    shutil.copytree(planes / "test", dst / "part" / "test", dirs_exist_ok=True)
    items = [
        _Plane(f.name, tifffile.imread(f), tifffile.imread(planes / "train" / "hr" / f.name))
        for f in sorted((planes / "train" / "lr").glob("*.tif"))
    ]
    train, _ = split_regions(
        items, val_fraction=cfg["data"]["val_fraction"], margin=margin,
        min_train=cfg["data"]["patch_size"], min_val=MIN_VAL, scale=cfg["scale"],
    )  # fmt: skip
    for item, f in zip(train, items):
        for name in ("lr", "hr"):
            out = dst / "part" / "train" / name / f.name
            out.parent.mkdir(parents=True, exist_ok=True)
            tifffile.imwrite(out, getattr(item, name))
    return dst / "part"


def finished_run(base: str, work: Path, method: str) -> Path:
    """The folder of ``base``'s finished run of the same set and seed as ``work`` (``method`` needs it)."""
    src = work.parent.parent / base.replace(":", "_") / work.name
    if not (src / "result.json").is_file():
        raise RuntimeError(f"{base} has no finished run in {src}: list it before {method}")
    return src


def run_repredict(base: str, variant: str, data: Path, work: Path, a: argparse.Namespace) -> dict:
    """``base``'s finished run (same set and seed) predicted another way, nothing retrained.

    ``variant`` ``trainnorm``: with the training images' intensity range instead of each test
    image's own percentiles (``microsr predict --normalization training``, or ``care_helper.py
    --predict-only --train-norm``); ``tta-GROUP``: ``microsr predict --tta GROUP`` (``none``,
    ``flips``, ``all``), or ``care_helper.py --predict-only --tta GROUP`` (``flips``, ``all``).
    """
    src = finished_run(base, work, f"{base}+{variant}")
    trained = {"train_s": json.loads((src / "result.json").read_text())["train_s"]}  # the same training
    if variant != "trainnorm" and not variant.startswith("tta-"):
        raise ValueError(f"unknown method {base}+{variant}")
    if base == "care":
        args = ["--data", str(src / "data"), "--out", str(src), "--threads", str(a.threads), "--predict-only"]
        args += ["--train-norm"] if variant == "trainnorm" else ["--tta", variant.removeprefix("tta-")]
        pred = src / f"pred_{variant}"
        res = run_child(
            [str(CARE_HELPER), *args, "--pred-name", pred.name], python=str(CARE_PYTHON), timeout=3600
        )
        if "error" in res:
            raise RuntimeError(res["error"])
        return {**trained, **score(pred, data, work / "eval")}
    how = (
        ["--normalization", "training"] if variant == "trainnorm" else ["--tta", variant.removeprefix("tta-")]
    )
    args = ["--model", str(src / "run"), "--input", str(data / "test" / "lr"), "--output", str(work / "pred")]
    microsr_cli("predict", *args, *how)
    return {**trained, **score(work / "pred", data, work / "eval")}


def run_method(method: str, data: Path, work: Path, a: argparse.Namespace, seed: int) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    if "+" in method:
        base, variant = method.split("+", 1)
        return run_repredict(base, variant, data, work, a)
    if method == "microsr":
        return run_microsr(data, work, a, seed)
    if method.startswith("microsr:"):
        return run_microsr(data, work, a, seed, model=method.split(":", 1)[1])
    if method == "srcnn":
        t0 = time.perf_counter()
        train_and_predict(data, work / "pred", steps=a.steps, batch=a.batch, patch=2 * a.patch, seed=seed)
        return {"train_s": time.perf_counter() - t0, **score(work / "pred", data, work / "eval")}
    if method in ("care", "care:holdout"):
        b = {
            "steps": a.steps,
            "batch": a.batch,
            "patch": a.patch,
            "lr": 4e-4,
            "threads": a.threads,
            "seed": seed,
        }
        if method == "care":
            return train_care(plane_files(data, work / "planes"), work, b)
        run = finished_run("microsr", work, method) / "run"
        return train_care(microsr_training_part(data, run, work / "holdout"), work, b)
    raise ValueError(f"unknown method {method!r}")


def reusable_rows(path: Path | None, methods: list[str]) -> dict[tuple[str, str, int], dict]:
    """Finished rows of ``methods`` in an earlier results JSON, keyed by (set, method, seed), marked
    ``reused``, for when their run folders are gone. Rerun on another machine, the plain SRCNN's
    runs came within 0.05 dB of their earlier PSNR and CARE's within 0.36 dB (docs/real-data.md)."""
    if path is None:
        return {}
    rows = json.loads(path.read_text())["runs"]
    keep = ("set", "method", "seed")
    return {
        tuple(r[k] for k in keep): {**{k: v for k, v in r.items() if k not in keep}, "reused": str(path.name)}
        for r in rows
        if r["method"] in methods and "error" not in r
    }


def summarise(rows: list[dict]) -> dict:
    """Mean (and min/max over seeds) of PSNR/SSIM per set and method; bicubic from the same scoring."""
    out: dict = {}
    for r in rows:
        if "error" in r:
            continue
        s = out.setdefault(r["set"], {}).setdefault(r["method"], {"psnr": [], "ssim": [], "train_s": []})
        for k in ("psnr", "ssim", "train_s"):
            s[k].append(r[k])
        out[r["set"]]["bicubic"] = {
            "psnr": [r["bicubic"]["psnr"]],
            "ssim": [r["bicubic"]["ssim"]],
            "train_s": [0.0],
        }
    return {
        name: {
            m: {
                **{k: [float(np.mean(v)), float(np.min(v)), float(np.max(v))] for k, v in d.items()},
                "n": len(d["psnr"]),
            }
            for m, d in ms.items()
        }
        for name, ms in out.items()
    }


REFERENCES = ("srcnn", "care", "care+tta-flips", "care+trainnorm")  # what the target compares with


def verdict(ms: dict, mine_name: str) -> str:
    """Whether ``mine_name`` meets the target on one set: >= TARGET_DB and a higher SSIM than
    bicubic, and PSNR and SSIM at least those of the plain SRCNN and of CARE; else what failed."""
    mine, bic = ms[mine_name], ms["bicubic"]
    failed = []
    if mine["psnr"][0] - bic["psnr"][0] < TARGET_DB:
        failed.append(f"gain < {TARGET_DB:g} dB")
    if mine["ssim"][0] <= bic["ssim"][0]:
        failed.append("SSIM <= bicubic")
    for m in (r for r in REFERENCES if r in ms):
        behind = [
            f"PSNR +{ms[m]['psnr'][0] - mine['psnr'][0]:.2f} dB" if k == "psnr" else "SSIM"
            for k in ("psnr", "ssim")
            if ms[m][k][0] > mine[k][0]
        ]
        if behind:
            failed.append(f"{m} ahead ({', '.join(behind)})")
    return "yes" if not failed else "no: " + "; ".join(failed)


def table(summary: dict, methods: list[str]) -> str:
    """Markdown table: PSNR / SSIM per method (mean over seeds, their number after a x), and for
    each microsr method (the defaults, ``microsr:MODEL``) its gain over bicubic and verdict."""
    cols = ["bicubic", *methods]
    mine = [m for m in methods if m.split(":")[0].split("+")[0] == "microsr"]
    head = [f"{m} - bicubic | {m}: target met" for m in mine]
    lines = [
        "| data set | " + " | ".join(cols) + " | " + " | ".join(head) + " |",
        "|---|" + "---|" * (len(cols) + 2 * len(mine)),
    ]
    for name, ms in summary.items():
        cells = [
            f"{ms[m]['psnr'][0]:.2f} / {ms[m]['ssim'][0]:.4f}" + (f" x{ms[m]['n']}" if m != "bicubic" else "")
            if m in ms
            else "-"
            for m in cols
        ]
        for m in mine:
            if m in ms:
                d_psnr, d_ssim = (ms[m][k][0] - ms["bicubic"][k][0] for k in ("psnr", "ssim"))
                cells += [f"{d_psnr:+.2f} dB / {d_ssim:+.4f}", verdict(ms, m)]
            else:
                cells += ["-", "-"]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_doc(text: str, side: str) -> None:
    doc, (mark_start, mark_end) = DOC.read_text(), MARKS[side]
    start, end = doc.index(mark_start) + len(mark_start), doc.index(mark_end)
    DOC.write_text(doc[:start] + "\n" + text + "\n" + doc[end:])


def curves(work: Path) -> list[str]:
    """Validation PSNR (dB, on the held-out strip) at every validation step of the ``microsr`` runs
    in ``work`` (and of ``real_data_ablation.py``'s variants), one line per run: to compare
    architectures at equal time rather than equal steps."""
    lines = []
    for log in sorted(work.glob("runs/*/*/seed*/run/log.csv")):
        model = yaml.safe_load((log.parent / "config.yaml").read_text())["model"]["name"]
        rows = [r.split(",") for r in log.read_text().splitlines()[1:]]
        val = " ".join(f"{r[0]}:{float(r[6]):.2f}" for r in rows if r[2] == "val")
        lines.append(f"{log.parts[-5]} {log.parts[-4]} {log.parts[-3]} {model}: {val}")
    return lines


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--work", type=Path, default=Path("/tmp/microsr-real-data"), help="scratch folder")
    p.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "microsr-real-data", help="wheels")
    # the neuron stack measures nothing at 2x (its held-out columns are background): --sets neuron
    p.add_argument(
        "--sets", nargs="*", default=[s for s in SOURCES if not s.endswith("-abf") and s != "neuron"]
    )
    p.add_argument("--degradations", nargs="*", default=list(DEGRADATIONS))
    methods = [
        "microsr",
        "microsr+tta-none",
        "srcnn",
        "care",
        "care+tta-flips",
        "microsr+trainnorm",
        "care+trainnorm",
    ]
    p.add_argument("--methods", nargs="*", default=methods)
    p.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2])
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--patch", type=int, default=32, help="LR patch of SRCNN and CARE (HR: twice)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--results", type=Path, default=None, help="default: results/real_data[_left].json")
    p.add_argument(
        "--test-side", choices=["right", "left"], default="right",
        help="test part at the right end of each image (the split the recipe was chosen on) or the left",
    )  # fmt: skip
    p.add_argument(
        "--reuse-results", type=Path, default=None,
        help="a results JSON of an earlier run: its rows of the --reuse methods stand for runs not in --work",
    )  # fmt: skip
    p.add_argument("--reuse", nargs="*", default=[], help="methods whose rows --reuse-results gives")
    p.add_argument("--fresh", action="store_true", help="rerun runs that have a result.json in --work")
    p.add_argument("--cached-only", action="store_true", help="table from finished runs only; train nothing")
    p.add_argument("--smoke", action="store_true", help="20 steps, one set and seed; results only in --work")
    p.add_argument("--curves", action="store_true", help="print the validation curves of --work's runs")
    a = p.parse_args()
    if a.curves:
        print("\n".join(curves(a.work)))
        return
    if a.smoke:
        a.steps, a.sets, a.degradations, a.seeds = 20, a.sets[:1], a.degradations[:1], a.seeds[:1]
        a.results = a.work / "real_data_smoke.json"
    a.results = a.results or RESULTS / ("real_data.json" if a.test_side == "right" else "real_data_left.json")
    suffix = "" if a.test_side == "right" else f"-{a.test_side}"
    rows, sets = [], {}
    reused = reusable_rows(a.reuse_results, a.reuse)
    for name in a.sets:
        for kind in (k for k in a.degradations if k in kinds(name)):
            key = f"{name}-{kind}{suffix}"
            data = a.work / "data" / key
            # deterministic: rewriting is harmless
            sets[key] = make_set(a.cache, name, kind, data, side=a.test_side)
            for method in a.methods:
                for seed in a.seeds:
                    work = a.work / "runs" / key / method.replace(":", "_") / f"seed{seed}"
                    done = work / "result.json"  # finished runs are kept: a stopped benchmark resumes
                    if done.is_file() and not a.fresh:
                        res = json.loads(done.read_text())
                    elif (key, method, seed) in reused:
                        res = reused[(key, method, seed)]
                    elif a.cached_only:
                        res = {"error": "not run (--cached-only)"}
                    else:
                        if work.exists():  # --fresh, or a run stopped half-way: start it again
                            shutil.rmtree(work)
                        try:
                            res = run_method(method, data, work, a, seed)
                            done.write_text(json.dumps(res))
                        except Exception as exc:  # one failing run must not end the benchmark
                            res = {"error": f"{type(exc).__name__}: {exc}"}
                    rows.append({"set": key, "method": method, "seed": seed, **res})
                    shown = {k: rows[-1].get(k) for k in ("psnr", "ssim", "train_s", "error")}
                    print(json.dumps({"set": key, "method": method, "seed": seed, **shown}), flush=True)
                    a.results.parent.mkdir(parents=True, exist_ok=True)
                    summary = summarise(rows)
                    meta = {"steps": a.steps, "batch": a.batch, "seeds": a.seeds, "threads": a.threads,
                            "machine": platform.processor() or platform.machine(), "sets": sets}  # fmt: skip
                    a.results.write_text(
                        json.dumps({"meta": meta, "summary": summary, "runs": rows}, indent=1)
                    )
    text = table(summarise(rows), a.methods)
    print(text)
    if not a.smoke and set(a.methods) >= {"microsr", "srcnn", "care"}:
        write_doc(text, a.test_side)


if __name__ == "__main__":
    main()
