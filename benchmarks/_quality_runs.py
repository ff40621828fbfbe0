"""Train, predict and score one (data set, model, seed) of ``benchmarks/quality.py``; variants; seed means.

A finished run leaves ``result.json`` in its folder; each scoring variant (``last`` weights, ``tta``,
a larger test set ``test<N>``) leaves ``result_<variant>.json`` beside it, so runs are reused.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

import numpy as np
from _common import VENVS, run_child

CARE_HELPER = Path(__file__).resolve().parent / "care_helper.py"
CARE_PYTHON = VENVS / "csbdeep" / "bin" / "python"  # CSBDeep's own environment (see care_helper.py)


def resolution_px(pred_dir: Path) -> float | None:
    """Mean decorrelation resolution (HR px) of the images in ``pred_dir``."""
    from microsr.evaluation.resolution import decorrelation
    from microsr.io import read_image

    vals = [
        decorrelation(read_image(f).array.astype(np.float64)).resolution_px
        for f in sorted(pred_dir.glob("*.tif"))
    ]
    vals = [v for v in vals if np.isfinite(v)]
    return float(np.mean(vals)) if vals else None


def score(pred: Path, data: Path, out: Path) -> dict:
    from microsr.evaluation.evaluate import evaluate_folders

    s = evaluate_folders(pred, data / "test" / "hr", out, lr_dir=data / "test" / "lr", fit="affine")
    return {
        "psnr": s["psnr"],
        "ssim": s["ssim"],
        "ms_ssim": s["ms_ssim"],
        "resolution_px": resolution_px(pred),
        "bicubic": {k: s["baseline"][k] for k in ("psnr", "ssim", "ms_ssim")},
    }


def predict_and_score(
    data: Path, work: Path, weights: str = "best", suffix: str = "", tta: bool = False
) -> dict:
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
    folders = {
        "lr_dir": folder("train", "lr"),
        "hr_dir": folder("train", "hr"),
        "mask_dir": folder("train", "mask"),
    }
    if (data / "val").is_dir():  # separate validation pairs (--val-split): every training image trains
        folders.update(
            val_lr_dir=folder("val", "lr"), val_hr_dir=folder("val", "hr"), val_mask_dir=folder("val", "mask")
        )
    else:  # one training image is held out for validation
        folders["val_fraction"] = 0.1
    cfg = make_config(
        {
            "out": str(work / "run"),
            "scale": 2,
            "model": {"name": model, "tiny": b["tiny"], "options": options},
            "data": {
                **folders,
                "patch_size": b["patch"],
                "batch_size": b["batch"],
                "val_crop": b["val_crop"],
            },
            "optimizer": {"lr": b["lr"]},
            "schedule": {"name": b["schedule"]},
            "steps": b["steps"],
            "val_every": max(b["steps"] // 3, 1),
            "log_every": max(b["steps"] // 20, 1),
            "monitor": "psnr",
            "seed": b["seed"],
            "num_threads": b["threads"],
            "ema_decay": b.get("ema"),
        }
    )
    t0 = time.perf_counter()
    train(cfg, progress=False)
    train_s = time.perf_counter() - t0
    params = count_parameters(create_model(model, scale=2, tiny=b["tiny"], **options))
    return {"params": params, "train_s": train_s, "options": options, **predict_and_score(data, work)}


def upsample_for_care(src: Path, dst: Path) -> None:
    """CARE's input: every LR TIFF of ``src`` bicubic-upsampled x2 by microsr's bicubic, to ``dst``."""
    from microsr.evaluation.evaluate import bicubic_baseline
    from microsr.io import read_image, write_image

    for f in sorted(src.glob("*.tif")):
        up = bicubic_baseline(read_image(f).array.astype(np.float32), 2)
        write_image(dst / f.name, up, "YX", dtype="float32")


def score_variant(variant: str, impl: str, data: Path, work: Path, b: dict) -> dict:
    """Score a finished run predicted another way: ``last`` = microsr's last weights instead of the
    best checkpoint (CARE's single epoch ends with its last weights); ``tta`` = the 8 rotations and
    mirrors averaged (microsr ``predict --tta``; CARE via ``care_helper.py --predict-only --tta``);
    ``test<N>`` = the best weights on the larger held-out set in ``b["test_data"]`` (bicubic's
    scores there under ``bicubic_test<N>``). Keys get the suffix ``_<variant>``; cached in
    ``result_<variant>.json`` beside ``result.json``.
    """
    done = work / f"result_{variant}.json"
    if done.exists():
        return json.loads(done.read_text())
    bigger = variant.startswith("test")
    if bigger:
        data = b["test_data"]
    if impl == "csbdeep":
        care_data = work / (f"data_{variant}" if bigger else "data")
        if bigger:
            upsample_for_care(data / "test" / "lr", care_data / "test" / "up")
        res = run_child(
            [
                str(CARE_HELPER),
                "--data",
                str(care_data),
                "--out",
                str(work),
                "--threads",
                str(b["threads"]),
                "--predict-only",
                "--pred-name",
                f"pred_{variant}",
            ]
            + (["--tta"] if variant == "tta" else []),
            python=str(CARE_PYTHON),
            timeout=3600,
        )
        if "error" in res:
            return res
        s = score(work / f"pred_{variant}", data, work / f"eval_{variant}")
    else:
        s = predict_and_score(
            data,
            work,
            weights="last" if variant == "last" else "best",
            suffix=f"_{variant}",
            tta=variant == "tta",
        )
    res = {f"{k}_{variant}": s[k] for k in ("psnr", "ssim", "ms_ssim")}
    if bigger:
        res[f"bicubic_{variant}"] = s["bicubic"]
    done.write_text(json.dumps(res))
    return res


def train_care(data: Path, work: Path, b: dict) -> dict:
    """CARE on bicubic-upsampled LR (microsr's bicubic), same steps/batch, HR-grid patch = 2 x LR patch."""
    if not CARE_PYTHON.exists():
        return {"error": f"{CARE_PYTHON} missing (see benchmarks/care_helper.py)"}
    for split in ("train", "test", "val"):
        upsample_for_care(data / split / "lr", work / "data" / split / "up")
        if split != "test" and (data / split).is_dir():
            shutil.copytree(data / split / "hr", work / "data" / split / "hr", dirs_exist_ok=True)
    res = run_child(
        [
            str(CARE_HELPER),
            "--data",
            str(work / "data"),
            "--out",
            str(work),
            "--steps",
            str(b["steps"]),
            "--batch",
            str(b["batch"]),
            "--patch",
            str(2 * b["patch"]),
            "--lr",
            str(b["lr"]),
            "--threads",
            str(b["threads"]),
            "--seed",
            str(b["seed"]),
        ],
        python=str(CARE_PYTHON),
        timeout=7200,
    )
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
            res = (
                train_care(data, run_dir, b) if impl == "csbdeep" else train_microsr(model, data, run_dir, b)
            )
            done.write_text(json.dumps(res))
        except Exception as exc:  # noqa: BLE001 - one failing model must not end the benchmark
            return {"error": f"{type(exc).__name__}: {str(exc)[:200]}"}
    for variant, wanted in (
        ("last", a.also_last and impl == "microsr"),
        ("tta", a.tta),
        (f"test{a.test_images}", a.test_images and "test_data" in b),
    ):
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
