"""Image quality of every trainable model under one step budget on the same data, vs bicubic and CARE.

Data sets (x2, LR -> HR; training and held-out test images never share a seed or a source crop):

* ``sim-<structure>-p<photons>``: the simulator's four structures (ccps, microtubules, er, f-actin)
  at two signal levels (``--photons``, default 50 and 500 photo-electrons at the brightest LR pixel);
* ``sim-leukocytes-p<photons>``: the leukocyte-like cell simulator with its parsing maps (0
  background, 1 cytoplasm, 2 nucleus; ``microsr.data.cells``), so that the mask-guided models
  (geometry prior, SFTGAN) can be compared; the maps are given to the models that need them in
  training and prediction, the other models (and CARE) never see them;
* ``real``: 128 x 128 crops of the real images in ``tests/data/real`` (stardist nuclei, Airyscan
  C. elegans), degraded with ``microsr degrade --scale 2 --photons 200`` (Gaussian PSF, Poisson +
  read noise); one crop of each image is held out.

Each model trains with :func:`microsr.engine.train` for the same number of steps (patch, batch and
learning rate below; its registry default loss), predicts the held-out LR images with
:func:`microsr.inference.predict.predict_path` and is scored with
:func:`microsr.evaluation.evaluate.evaluate_folders` (affine intensity fit of prediction to HR,
data range = per-image HR max - min), which also scores bicubic. Decorrelation resolution
(:func:`microsr.evaluation.resolution.decorrelation`, in HR pixels, lower = sharper) is added.
CSBDeep's CARE (``benchmarks/care_helper.py`` in ``benchmarks/.venvs/csbdeep``) trains on the same
pairs, bicubic-upsampled, for the same number of steps and batch size. A finished (data set, model)
leaves ``result.json`` in its run folder under ``--work`` and is reused by a later invocation
(``--fresh`` retrains), so an interrupted benchmark can be resumed or extended.

Budgets: ``smoke`` (a few steps, to check the script), ``small`` (tiny presets, 300 steps: about a
minute per model and data set on 2 CPU cores; its microsr models are 25-220x smaller than CARE),
``medium`` (default-size microsr models, comparable to CARE's 0.92 M-parameter U-Net, 150 steps at
CARE's learning rate 4e-4), ``full`` (full-size models, 20000 steps: for a GPU).

Usage::

    python benchmarks/quality.py --budget smoke --datasets sim-microtubules-p50 --models srcnn
    python benchmarks/quality.py --budget small --datasets sim-microtubules-p50 real \\
        --models srcnn edsr-baseline rcan dfcan --care       # -> benchmarks/results/quality_small.json
    # the reference comparison (docs/benchmarks.md): constant learning rate, bicubic residual,
    # all nine data sets, separate validation pairs (same training images for microsr and CARE),
    # three training seeds, then a table of means and standard deviations
    python benchmarks/quality.py --budget medium --schedule none --bicubic-residual --val-split \
        --models edsr-baseline dfcan --care --seeds 0 1 2 --out-name quality_medium_seeds
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import VENVS, machine, print_table, run_child, write_json  # noqa: E402
from _quality_data import STRUCTURES, make_dataset  # noqa: E402

BUDGETS = {  # steps, LR patch, batch, learning rate, tiny presets, train/test images, HR size
    "smoke": dict(steps=10, patch=32, batch=4, lr=1e-3, tiny=True, n_train=4, n_val=1, n_test=1, size=128),
    "small": dict(steps=300, patch=32, batch=8, lr=1e-3, tiny=True, n_train=12, n_val=3, n_test=3, size=192),
    # default-size microsr models next to CARE's default U-Net (0.92 M): same steps, batch, patch,
    # pairs and learning rate (CSBDeep's default Adam 4e-4) for microsr and CARE; sized for ~20 min
    # of 2-core CPU time for two data sets x (srcnn, edsr-baseline, dfcan, CARE)
    "medium": dict(steps=150, patch=32, batch=8, lr=4e-4, tiny=False, n_train=12, n_val=3, n_test=3, size=192),
    "full": dict(steps=20000, patch=64, batch=16, lr=1e-4, tiny=False, n_train=60, n_val=10, n_test=10, size=512),
}
def resolution_px(pred_dir: Path) -> float | None:
    """Mean decorrelation resolution (HR px) of the images in ``pred_dir``."""
    from microsr.evaluation.resolution import decorrelation
    from microsr.io import read_image

    vals = [decorrelation(read_image(f).array.astype(np.float64)).resolution_px for f in sorted(pred_dir.glob("*.tif"))]
    vals = [v for v in vals if np.isfinite(v)]
    return float(np.mean(vals)) if vals else None


def score(pred: Path, data: Path, out: Path) -> dict:
    from microsr.evaluation.evaluate import evaluate_folders

    s = evaluate_folders(pred, data / "test" / "hr", out, lr_dir=data / "test" / "lr", fit="affine")
    return {"psnr": s["psnr"], "ssim": s["ssim"], "ms_ssim": s["ms_ssim"], "resolution_px": resolution_px(pred),
            "bicubic": {k: s["baseline"][k] for k in ("psnr", "ssim", "ms_ssim")}}


def predict_and_score(data: Path, work: Path, weights: str = "best", suffix: str = "", tta: bool = False) -> dict:
    """Predict the held-out LR images with ``work/run``'s ``weights`` (``tta``: 8-fold) and score them.

    Parsing maps of the held-out images are given to models whose prediction takes one.
    """
    from microsr.inference.model_io import load_model_folder
    from microsr.inference.predict import predict_path

    run, pred = work / "run", work / f"pred{suffix}"
    test_masks = data / "test" / "mask" if load_model_folder(run)[1].needs_mask else None
    predict_path(run, data / "test" / "lr", pred, masks=test_masks, weights=weights, tta=tta, progress=False)
    return score(pred, data, work / f"eval{suffix}")


def train_microsr(model: str, data: Path, work: Path, b: dict) -> dict:
    from microsr.engine import make_config, train
    from microsr.models import count_parameters, create_model, get_spec

    def folder(split: str, kind: str) -> str | None:
        return str(data / split / kind) if kind != "mask" or get_spec(model).needs_mask else None

    options = b["model_options"].get(model, {})
    folders = {"lr_dir": folder("train", "lr"), "hr_dir": folder("train", "hr"), "mask_dir": folder("train", "mask")}
    if (data / "val").is_dir():  # separate validation pairs (--val-split): every training image trains
        folders.update(val_lr_dir=folder("val", "lr"), val_hr_dir=folder("val", "hr"), val_mask_dir=folder("val", "mask"))
    else:  # one training image is held out for validation
        folders["val_fraction"] = 0.1
    cfg = make_config({
        "out": str(work / "run"), "scale": 2,
        "model": {"name": model, "tiny": b["tiny"], "options": options},
        "data": {**folders, "patch_size": b["patch"], "batch_size": b["batch"], "val_crop": b["val_crop"]},
        "optimizer": {"lr": b["lr"]}, "schedule": {"name": b["schedule"]}, "steps": b["steps"],
        "val_every": max(b["steps"] // 3, 1), "log_every": max(b["steps"] // 20, 1), "monitor": "psnr",
        "seed": b["seed"], "num_threads": b["threads"], "ema_decay": b.get("ema"),
    })
    t0 = time.perf_counter()
    train(cfg, progress=False)
    train_s = time.perf_counter() - t0
    params = count_parameters(create_model(model, scale=2, tiny=b["tiny"], **options))
    return {"params": params, "train_s": train_s, "options": options, **predict_and_score(data, work)}


def score_variant(variant: str, impl: str, data: Path, work: Path, b: dict) -> dict:
    """Score a finished run predicted another way: ``last`` = microsr's last weights instead of the
    best checkpoint (CARE's single epoch ends with its last weights); ``tta`` = the 8 rotations and
    mirrors averaged (microsr ``predict --tta``; CARE via ``care_helper.py --predict-only --tta``).
    Keys get the suffix ``_<variant>``; cached in ``result_<variant>.json`` beside ``result.json``.
    """
    done = work / f"result_{variant}.json"
    if done.exists():
        return json.loads(done.read_text())
    if impl == "csbdeep":
        res = run_child([str(Path(__file__).parent / "care_helper.py"), "--data", str(work / "data"),
                         "--out", str(work), "--threads", str(b["threads"]), "--predict-only", "--tta"],
                        python=str(VENVS / "csbdeep" / "bin" / "python"), timeout=3600)
        if "error" in res:
            return res
        s = score(work / "pred_tta", data, work / "eval_tta")
    else:
        s = predict_and_score(data, work, weights="last" if variant == "last" else "best",
                              suffix=f"_{variant}", tta=variant == "tta")
    res = {f"{k}_{variant}": s[k] for k in ("psnr", "ssim", "ms_ssim")}
    done.write_text(json.dumps(res))
    return res


def train_care(data: Path, work: Path, b: dict) -> dict:
    """CARE on bicubic-upsampled LR (microsr's bicubic), same steps/batch, HR-grid patch = 2 x LR patch."""
    from microsr.evaluation.evaluate import bicubic_baseline
    from microsr.io import read_image, write_image

    python = VENVS / "csbdeep" / "bin" / "python"
    if not python.exists():
        return {"error": f"{python} missing (see benchmarks/care_helper.py)"}
    for split in ("train", "test", "val"):
        for f in sorted((data / split / "lr").glob("*.tif")):
            up = bicubic_baseline(read_image(f).array.astype(np.float32), 2)
            write_image(work / "data" / split / "up" / f.name, up, "YX", dtype="float32")
        if split != "test" and (data / split).is_dir():
            shutil.copytree(data / split / "hr", work / "data" / split / "hr", dirs_exist_ok=True)
    res = run_child([str(Path(__file__).parent / "care_helper.py"), "--data", str(work / "data"),
                     "--out", str(work), "--steps", str(b["steps"]), "--batch", str(b["batch"]),
                     "--patch", str(2 * b["patch"]),
                     "--lr", str(b["lr"]), "--threads", str(b["threads"]), "--seed", str(b["seed"])],
                    python=str(python), timeout=7200)
    if "error" in res:
        return res
    return {"params": res["params"], "train_s": res["train_s"], **score(work / "pred", data, work / "eval")}


def run_one(model: str, impl: str, data: Path, run_dir: Path, b: dict, a: argparse.Namespace) -> dict:
    """Train and score one (data set, model, seed), or reuse its ``result.json``."""
    done = run_dir / "result.json"
    if done.exists() and not a.fresh:  # finished in an earlier, interrupted invocation
        res = json.loads(done.read_text())
    elif a.cached_only:
        return {"error": "not run (--cached-only)"}
    else:
        shutil.rmtree(run_dir, ignore_errors=True)
        try:
            res = train_care(data, run_dir, b) if impl == "csbdeep" else train_microsr(model, data, run_dir, b)
            done.write_text(json.dumps(res))
        except Exception as exc:  # noqa: BLE001 - one failing model must not end the benchmark
            return {"error": f"{type(exc).__name__}: {str(exc)[:200]}"}
    for variant, wanted in (("last", a.also_last and impl == "microsr"), ("tta", a.tta)):
        if wanted:
            res.update(score_variant(variant, impl, data, run_dir, b))
    return res


def seed_summary(rows: list[dict], suffix: str = "") -> list[dict]:
    """Per (data set, model): mean and sample standard deviation of PSNR and SSIM over seeds, and the
    difference of the means to CARE's on the same data set (``suffix``: of ``psnr_tta`` etc.)."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in rows:
        if "error" not in r and r["model"] != "bicubic" and f"psnr{suffix}" in r:
            groups.setdefault((r["dataset"], r["model"]), []).append(r)
    out = []
    for (ds, model), rs in groups.items():
        row = {"dataset": ds, "model": model, "n": len(rs)}
        for k in ("psnr", "ssim"):
            v = np.array([r[k + suffix] for r in rs])
            row[f"{k}_mean"], row[f"{k}_sd"] = float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else None
        out.append(row)
    care = {r["dataset"]: r for r in out if r["model"] == "care"}
    for r in out:
        if r["dataset"] in care and r["model"] != "care":
            for k in ("psnr", "ssim"):
                r[f"{k}_vs_care"] = r[f"{k}_mean"] - care[r["dataset"]][f"{k}_mean"]
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--budget", choices=list(BUDGETS), default="smoke")
    p.add_argument("--models", nargs="+", default=None,
                   help="default: every trainable model (mask-guided ones on data sets with masks only)")
    p.add_argument("--datasets", nargs="+", default=None,
                   help="default: sim-<structure>-p<photons> for all structures and --photons, and real")
    p.add_argument("--photons", nargs=2, type=float, default=[50.0, 500.0])
    p.add_argument("--care", action="store_true", help="also train CSBDeep's CARE")
    p.add_argument("--work", default="/tmp/microsr-quality", help="data, runs and predictions go here")
    p.add_argument("--steps", type=int, default=None,
                   help="override the budget's step count (for microsr and CARE alike; own --work subfolder)")
    p.add_argument("--schedule", default="cosine", choices=["cosine", "none"],
                   help="microsr learning-rate schedule (none = constant, like CARE's single epoch; own --work subfolder)")
    p.add_argument("--bicubic-residual", action="store_true",
                   help="microsr models that allow it get the global bicubic skip (create_model(..., "
                        "bicubic_residual=True); not VDSR/DnCNN/geometry prior, which have one, nor the "
                        "sigmoid-output DFCAN/DFGAN; own --work subfolder)")
    p.add_argument("--whole-val", action="store_true",
                   help="validate (and pick the best checkpoint) on whole validation images instead of "
                        "a 64 px LR centre crop (own --work subfolder)")
    p.add_argument("--val-split", action="store_true",
                   help="separate validation pairs (3 per medium data set): microsr validates on them and "
                        "trains on every training image, CARE trains on the same images and validates on "
                        "them (default: microsr holds one training image out, CARE trains on all; own "
                        "--work subfolder)")
    p.add_argument("--seeds", nargs="+", type=int, default=[0],
                   help="training seeds (microsr: initialisation and patches; CARE: TensorFlow and patch "
                        "draw); with several, a table of means and standard deviations over seeds follows")
    p.add_argument("--also-last", action="store_true",
                   help="also score microsr's last weights (psnr_last, ...; reuses finished runs)")
    p.add_argument("--tta", action="store_true",
                   help="also score 8-fold test-time augmentation, microsr and CARE alike (psnr_tta, ...)")
    p.add_argument("--ema", type=float, default=None,
                   help="microsr models train with this EMA decay (microsr train --ema); their rows and "
                        "run folders are named <model>+ema<decay>, CARE's finished runs are reused")
    p.add_argument("--out-name", default=None, help="results/<name>.json (default quality_<budget>)")
    p.add_argument("--fresh", action="store_true", help="retrain even where WORK/.../result.json exists")
    p.add_argument("--threads", type=int, default=2,
                   help="torch / TensorFlow threads per training (1 when two benchmarks run at once)")
    p.add_argument("--cached-only", action="store_true", help="only collect finished runs, train nothing")
    a = p.parse_args()

    from microsr.models import get_spec, list_models
    from microsr.models.registry import residual_refusal

    b = {**BUDGETS[a.budget], "threads": a.threads, "schedule": a.schedule,
         "val_crop": None if a.whole_val else 64}
    if a.steps:
        b["steps"] = a.steps
    models = a.models or [m for m in list_models() if get_spec(m).trainable]
    b["model_options"] = {m: {"bicubic_residual": True} for m in models
                          if a.bicubic_residual and residual_refusal(get_spec(m)) is None}
    datasets = a.datasets or [f"sim-{s}-p{int(ph)}" for ph in a.photons for s in STRUCTURES] + ["real"]
    work = Path(a.work) / (a.budget + (f"-{a.steps}steps" if a.steps else "")
                           + (f"-{a.schedule}" if a.schedule != "cosine" else "")
                           + ("-bicres" if a.bicubic_residual else "") + ("-wholeval" if a.whole_val else "")
                           + ("-valsplit" if a.val_split else ""))
    rows = []
    t_start = time.perf_counter()
    for ds in datasets:
        data = work / "data" / ds
        make_dataset(data, ds, b, val=a.val_split)
        has_masks = (data / "train" / "mask").is_dir()  # mask-guided models only where there are maps
        entries = [(m, "microsr") for m in models if has_masks or not get_spec(m).needs_mask]
        entries += [("care", "csbdeep")] if a.care else []
        bic = None
        for seed in a.seeds:
            for model, impl in entries:
                label = f"{model}+ema{a.ema:g}" if a.ema and impl == "microsr" else model
                run_dir = work / ("runs" if seed == 0 else f"runs-seed{seed}") / ds / label
                res = run_one(model, impl, data, run_dir, {**b, "seed": seed, "ema": a.ema}, a)
                bic = res.pop("bicubic", bic)
                rows.append({"dataset": ds, "model": label, "impl": impl, "seed": seed, **res})
                print(f"  {ds} {model} seed {seed}: {json.dumps(rows[-1])}", file=sys.stderr, flush=True)
        if bic:
            rows.append({"dataset": ds, "model": "bicubic", "impl": "microsr", "params": 0, **bic})
    total = time.perf_counter() - t_start
    print(f"\nQuality, budget {a.budget} ({b['steps']} steps, LR patch {b['patch']}, batch {b['batch']}, "
          f"{'tiny presets' if b['tiny'] else 'full models'}); affine fit; total {total:.0f} s")
    print_table(rows, ["dataset", "model", "seed", "params", "train_s", "psnr", "ssim", "ms_ssim", "resolution_px"]
                + (["psnr_last", "ssim_last", "ms_ssim_last"] if a.also_last else [])
                + (["psnr_tta", "ssim_tta", "ms_ssim_tta"] if a.tta else []) + ["error"])
    summary = seed_summary(rows) if len(a.seeds) > 1 else []
    summary_tta = seed_summary(rows, "_tta") if len(a.seeds) > 1 and a.tta else []
    for title, table in (("", summary), (", with TTA on both sides", summary_tta)):
        if table:
            print(f"\nMean +- standard deviation over seeds {a.seeds}{title}; 'vs CARE' = model mean - CARE mean")
            print_table(table, ["dataset", "model", "n", "psnr_mean", "psnr_sd", "ssim_mean", "ssim_sd",
                                "psnr_vs_care", "ssim_vs_care"])
    write_json(a.out_name or f"quality_{a.budget}", {"machine": machine(), "budget": a.budget, "settings": b,
                                       "args": vars(a), "total_seconds": total, "rows": rows,
                                       "seed_summary": summary, "seed_summary_tta": summary_tta})


if __name__ == "__main__":
    main()
