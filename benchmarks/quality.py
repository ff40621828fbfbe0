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
(``--fresh`` retrains), so an interrupted benchmark can be resumed or extended. Finished runs can
be scored again another way (``_quality_runs.score_variant``): ``--also-last`` (last weights),
``--tta`` (8-fold test-time augmentation, CARE too), ``--test-images N`` (a larger held-out set).

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
import sys
import time
from pathlib import Path

from _common import machine, print_table, write_json
from _quality_data import STRUCTURES, make_dataset
from _quality_runs import run_one, seed_summary

BUDGETS = {  # steps, LR patch, batch, learning rate, tiny presets, train/test images, HR size
    "smoke": dict(steps=10, patch=32, batch=4, lr=1e-3, tiny=True, n_train=4, n_val=1, n_test=1, size=128),
    "small": dict(steps=300, patch=32, batch=8, lr=1e-3, tiny=True, n_train=12, n_val=3, n_test=3, size=192),
    # default-size microsr models next to CARE's default U-Net (0.92 M): same steps, batch, patch,
    # pairs and learning rate (CSBDeep's default Adam 4e-4) for microsr and CARE; sized for ~20 min
    # of 2-core CPU time for two data sets x (srcnn, edsr-baseline, dfcan, CARE)
    "medium": dict(
        steps=150, patch=32, batch=8, lr=4e-4, tiny=False, n_train=12, n_val=3, n_test=3, size=192
    ),
    "full": dict(
        steps=20000, patch=64, batch=16, lr=1e-4, tiny=False, n_train=60, n_val=10, n_test=10, size=512
    ),
}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--budget", choices=list(BUDGETS), default="smoke")
    p.add_argument(
        "--models",
        nargs="+",
        default=None,
        help="default: every trainable model (mask-guided ones on data sets with masks only)",
    )
    p.add_argument(
        "--datasets",
        nargs="+",
        default=None,
        help="default: sim-<structure>-p<photons> for all structures and --photons, and real",
    )
    p.add_argument("--photons", nargs=2, type=float, default=[50.0, 500.0])
    p.add_argument("--care", action="store_true", help="also train CSBDeep's CARE")
    p.add_argument("--work", default="/tmp/microsr-quality", help="data, runs and predictions go here")
    p.add_argument(
        "--steps",
        type=int,
        default=None,
        help="override the budget's step count (for microsr and CARE alike; own --work subfolder)",
    )
    p.add_argument(
        "--schedule",
        default="cosine",
        choices=["cosine", "none"],
        help="microsr learning-rate schedule (none = constant, like CARE's single epoch; own --work subfolder)",
    )
    p.add_argument(
        "--bicubic-residual",
        action="store_true",
        help="microsr models that allow it get the global bicubic skip (create_model(..., "
        "bicubic_residual=True); not VDSR/DnCNN/geometry prior, which have one, nor the "
        "sigmoid-output DFCAN/DFGAN; own --work subfolder)",
    )
    p.add_argument(
        "--whole-val",
        action="store_true",
        help="validate (and pick the best checkpoint) on whole validation images instead of "
        "a 64 px LR centre crop (own --work subfolder)",
    )
    p.add_argument(
        "--val-split",
        action="store_true",
        help="separate validation pairs (3 per medium data set): microsr validates on them and "
        "trains on every training image, CARE trains on the same images and validates on "
        "them (default: microsr holds one training image out, CARE trains on all; own "
        "--work subfolder)",
    )
    p.add_argument(
        "--seeds",
        nargs="+",
        type=int,
        default=[0],
        help="training seeds (microsr: initialisation and patches; CARE: TensorFlow and patch "
        "draw); with several, a table of means and standard deviations over seeds follows",
    )
    p.add_argument(
        "--also-last",
        action="store_true",
        help="also score microsr's last weights (psnr_last, ...; reuses finished runs)",
    )
    p.add_argument(
        "--tta",
        action="store_true",
        help="also score 8-fold test-time augmentation, microsr and CARE alike (psnr_tta, ...)",
    )
    p.add_argument(
        "--ema",
        type=float,
        default=None,
        help="microsr models train with this EMA decay (microsr train --ema); their rows and "
        "run folders are named <model>+ema<decay>, CARE's finished runs are reused",
    )
    p.add_argument(
        "--test-images",
        type=int,
        default=None,
        help="also score every run's best weights on a larger held-out set of N images per "
        "simulated data set (the first ones are the usual test images; not `real`); "
        "keys psnr_test<N>, ...",
    )
    p.add_argument("--out-name", default=None, help="results/<name>.json (default quality_<budget>)")
    p.add_argument("--fresh", action="store_true", help="retrain even where WORK/.../result.json exists")
    p.add_argument(
        "--threads",
        type=int,
        default=2,
        help="torch / TensorFlow threads per training (1 when two benchmarks run at once)",
    )
    p.add_argument("--cached-only", action="store_true", help="only collect finished runs, train nothing")
    a = p.parse_args()

    from microsr.models import get_spec, list_models
    from microsr.models.registry import residual_refusal

    b = {
        **BUDGETS[a.budget],
        "threads": a.threads,
        "schedule": a.schedule,
        "val_crop": None if a.whole_val else 64,
    }
    if a.steps:
        b["steps"] = a.steps
    models = a.models or [m for m in list_models() if get_spec(m).trainable]
    b["model_options"] = {
        m: {"bicubic_residual": True}
        for m in models
        if a.bicubic_residual and residual_refusal(get_spec(m)) is None
    }
    datasets = a.datasets or [f"sim-{s}-p{int(ph)}" for ph in a.photons for s in STRUCTURES] + ["real"]
    work = Path(a.work) / (
        a.budget
        + (f"-{a.steps}steps" if a.steps else "")
        + (f"-{a.schedule}" if a.schedule != "cosine" else "")
        + ("-bicres" if a.bicubic_residual else "")
        + ("-wholeval" if a.whole_val else "")
        + ("-valsplit" if a.val_split else "")
    )
    rows = []
    t_start = time.perf_counter()
    for ds in datasets:
        data = work / "data" / ds
        make_dataset(data, ds, b, val=a.val_split)
        more = {}
        if a.test_images and ds != "real":
            more["test_data"] = work / f"data-test{a.test_images}" / ds
            make_dataset(more["test_data"], ds, {**b, "n_test": a.test_images}, test_only=True)
        has_masks = (data / "train" / "mask").is_dir()  # mask-guided models only where there are maps
        entries = [(m, "microsr") for m in models if has_masks or not get_spec(m).needs_mask]
        entries += [("care", "csbdeep")] if a.care else []
        bic, bic_more = None, {}
        for seed in a.seeds:
            for model, impl in entries:
                label = f"{model}+ema{a.ema:g}" if a.ema and impl == "microsr" else model
                run_dir = work / ("runs" if seed == 0 else f"runs-seed{seed}") / ds / label
                res = run_one(model, impl, data, run_dir, {**b, **more, "seed": seed, "ema": a.ema}, a)
                bic = res.pop("bicubic", bic)
                for k in [k for k in res if k.startswith("bicubic_")]:  # bicubic on a larger test set
                    bic_more.update({f"{m}_{k[len('bicubic_') :]}": v for m, v in res.pop(k).items()})
                rows.append({"dataset": ds, "model": label, "impl": impl, "seed": seed, **res})
                print(f"  {ds} {model} seed {seed}: {json.dumps(rows[-1])}", file=sys.stderr, flush=True)
        if bic:
            rows.append(
                {"dataset": ds, "model": "bicubic", "impl": "microsr", "params": 0, **bic, **bic_more}
            )
    total = time.perf_counter() - t_start
    print(
        f"\nQuality, budget {a.budget} ({b['steps']} steps, LR patch {b['patch']}, batch {b['batch']}, "
        f"{'tiny presets' if b['tiny'] else 'full models'}); affine fit; total {total:.0f} s"
    )
    variants = [
        v for v, on in (("last", a.also_last), ("tta", a.tta), (f"test{a.test_images}", a.test_images)) if on
    ]
    print_table(
        rows,
        ["dataset", "model", "seed", "params", "train_s", "psnr", "ssim", "ms_ssim", "resolution_px"]
        + [f"{m}_{v}" for v in variants for m in ("psnr", "ssim", "ms_ssim")]
        + ["error"],
    )
    titles = {
        "": "",
        "_tta": ", with TTA on both sides",
        f"_test{a.test_images}": f", {a.test_images} test images",
    }
    summaries = (
        {k: seed_summary(rows, k) for k in titles if k == "" or k[1:] in variants}
        if len(a.seeds) > 1
        else {"": []}
    )
    for suffix, table in summaries.items():
        if table:
            print(
                f"\nMean +- standard deviation over seeds {a.seeds}{titles[suffix]}; "
                "'vs CARE' = model mean - CARE mean"
            )
            print_table(
                table,
                [
                    "dataset",
                    "model",
                    "n",
                    "psnr_mean",
                    "psnr_sd",
                    "ssim_mean",
                    "ssim_sd",
                    "psnr_vs_care",
                    "ssim_vs_care",
                ],
            )
    write_json(
        a.out_name or f"quality_{a.budget}",
        {
            "machine": machine(),
            "budget": a.budget,
            "settings": b,
            "args": vars(a),
            "total_seconds": total,
            "rows": rows,
            **{f"seed_summary{suffix}": table for suffix, table in summaries.items()},
        },
        smoke=a.budget == "smoke",
    )


if __name__ == "__main__":
    main()
