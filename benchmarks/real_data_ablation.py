"""How the budget recipe was chosen: variants of it on the real data sets of ``real_data.py``.

Each variant is ``microsr train --recipe budget --config VARIANT.yaml`` (the recipe with the
variant's settings on top, each setting spelt out so that a variant means the same whatever the
recipe's defaults are), scored with both its best and its last weights; ``ref`` is the plain
reference SRCNN of ``_srcnn_reference.py``. One run per (set, variant, seed), cached in ``--work``::

    python benchmarks/real_data_ablation.py --sets celegans-defocus nuclei-defocus --variants ref plain aug
    python benchmarks/real_data_ablation.py --table              # the table of every finished run
    python benchmarks/real_data_ablation.py --variants unet+k3+vloss --shift-low -1 1   # offsets

Prints one JSON line per run and a Markdown table (PSNR / SSIM of the best weights, mean over seeds).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _quality_runs import score  # noqa: E402
from _real_data_sets import make_set  # noqa: E402
from _srcnn_reference import train_and_predict  # noqa: E402
from real_data import microsr_cli  # noqa: E402

_PLAIN = {"augment": False, "val_fraction": 0.0, "normalization": {"low": 1.0, "high": 99.8}}
_NOAUG = {"data": {"augment": False}, "schedule": {"name": "none"}}
_RES = {"model": {"name": "srcnn", "options": {"bicubic_residual": True}}}


def _unet(options: dict | None = None, **data) -> dict:
    """CARE's U-Net (``care-unet`` with ``options``) with CARE's settings, no augmentation, ``data``."""
    model = {"name": "care-unet", "options": options or {}}
    return {"model": model, "loss": "l1", "optimizer": {"lr": 4e-4}, "schedule": {"name": "none"},
            "monitor": "psnr", "data": {"augment": False, **data}}  # fmt: skip


# the SRCNN budget recipe that the variants above "unet" were measured on (the recommended model
# before care-unet-k3): spelt out, so that they keep their meaning whatever the recipe's defaults are
_SRCNN = {"model": {"name": "srcnn"}, "loss": "mse", "optimizer": {"lr": 1e-3}, "monitor": "psnr"}
VARIANTS: dict[str, dict] = {
    # the plain SRCNN's settings inside microsr: no augmentation, no validation hold-out, 1/99.8 %
    "plain": {"data": _PLAIN, "schedule": {"name": "none"}},
    "plain+aug": {"data": {**_PLAIN, "augment": True}, "schedule": {"name": "none"}},
    "plain+p2": {
        "data": {**_PLAIN, "normalization": {"low": 2.0, "high": 99.8}},
        "schedule": {"name": "none"},
    },
    "plain+val": {"data": {**_PLAIN, "val_fraction": 0.1}, "schedule": {"name": "none"}},
    # microsr's defaults before and after: validation strip, 2/99.8 %, best of 3 validations
    "aug": {"data": {"augment": True}, "schedule": {"name": "none"}},
    "noaug": _NOAUG,
    "noaug+res": {**_NOAUG, **_RES},
    "noaug+res+cos": {**_NOAUG, **_RES, "schedule": {"name": "cosine"}},
    "noaug+res+ema": {**_NOAUG, **_RES, "ema_decay": 0.999},
    "noaug+cos": {**_NOAUG, "schedule": {"name": "cosine"}},
    "noaug+ema": {**_NOAUG, "ema_decay": 0.999},
    "noaug+cos+ema": {**_NOAUG, "schedule": {"name": "cosine"}, "ema_decay": 0.999},
    "noaug+p48": {"data": {"augment": False, "patch_size": 48}, "schedule": {"name": "none"}},
    "noaug+cos+p48": {"data": {"augment": False, "patch_size": 48}, "schedule": {"name": "cosine"}},
    "noaug+denseed222": {**_NOAUG, "model": {"name": "denseed-2-2-2"}},
    # CSBDeep's CARE U-Net in microsr: CARE's own recipe (MAE, Adam 4e-4), then one change at a time
    "unet": _unet(),
    "unet+lr1e-3": {**_unet(), "optimizer": {"lr": 1e-3}},
    "unet+mse": {**_unet(), "loss": "mse"},
    "unet+noval": _unet(val_fraction=0.0),
    # kernel 3 instead of CARE's 5 (care-unet-k3): a third of the work per pixel and about half the
    # receptive field, so about half the margin between the training part and the validation strip
    "unet+k3": _unet({"kernel_size": 3}),
    "unet+k3+d3": _unet({"kernel_size": 3, "depth": 3}),
    "unet+k3+p1": _unet({"kernel_size": 3}, normalization={"low": 1.0, "high": 99.8}),
    "unet+k3+noval": _unet({"kernel_size": 3}, val_fraction=0.0),
    "unet+k3+mse": {**_unet({"kernel_size": 3}), "loss": "mse"},
    "unet+k3+lr1e-3": {**_unet({"kernel_size": 3}), "optimizer": {"lr": 1e-3}},
    "unet+k3+lr1e-3+cos": {
        **_unet({"kernel_size": 3}),
        "optimizer": {"lr": 1e-3},
        "schedule": {"name": "cosine"},
    },
    "unet+k3+cos": {**_unet({"kernel_size": 3}), "schedule": {"name": "cosine"}},
    "unet+k3+v5": _unet({"kernel_size": 3}, val_fraction=0.05),
    # at 300 steps the EMA's warm-up (1 + n) / (10 + n) stays below 0.97, whatever the decay's cap
    "unet+k3+ema": {**_unet({"kernel_size": 3}), "ema_decay": 0.999},
    # best weights chosen on the validation loss (MAE, the training loss; CARE keeps its best on it)
    "unet+k3+vloss": {**_unet({"kernel_size": 3}), "monitor": "val_loss"},
    # ... with a third pooling level: a larger receptive field for little more work per pixel
    "unet+k3+d3+vloss": {**_unet({"kernel_size": 3, "depth": 3}), "monitor": "val_loss"},
    # ... chosen among ten validations (every 30 steps) instead of three: more checkpoints of the
    # weights that wander at a constant learning rate
    "unet+k3+vloss+v10": {**_unet({"kernel_size": 3}), "monitor": "val_loss", "val_every": 30},
    # ... validating and keeping an average of the weights (the last weights wander at 4e-4)
    "unet+k3+vloss+ema": {**_unet({"kernel_size": 3}), "monitor": "val_loss", "ema_decay": 0.999},
    # the defaults with the same random offset (uniform in +-0.05) added to each LR/HR patch pair
    "unet+k3+vloss+jit0.05": {**_unet({"kernel_size": 3}, offset_jitter=0.05), "monitor": "val_loss"},
    # the defaults with SSIM in the loss (1 - SSIM, Gaussian 11 px window): a little, and mostly
    # (0.84 / 0.16, Zhao et al. 2017, with SSIM for MS-SSIM, which needs larger patches)
    "unet+k3+vloss+ssim0.1": {**_unet({"kernel_size": 3}), "monitor": "val_loss", "loss": "l1+0.1*ssim"},
    # the defaults with larger patches (48 LR px instead of 32: 2.25 times the pixels per step;
    # 96 x 96 HR px through 3x3 kernels is still less work per step than CARE's 64 x 64 through 5x5)
    "unet+k3+vloss+p48": {**_unet({"kernel_size": 3}, patch_size=48), "monitor": "val_loss"},
    # the defaults with three convolutions per level instead of two: a wider field at full
    # resolution (where a lattice's fine period lives) for 1.5 times the work per pixel
    "unet+k3+c3+vloss": {**_unet({"kernel_size": 3, "conv_per_level": 3}), "monitor": "val_loss"},
    "unet+k3+vloss+ssim0.84": {
        **_unet({"kernel_size": 3}),
        "monitor": "val_loss",
        "loss": "0.16*l1+0.84*ssim",
    },
}
VARIANTS = {k: v if k.startswith("unet") else {**_SRCNN, **v} for k, v in VARIANTS.items()}


def run(data: Path, work: Path, variant: str, seed: int, steps: int) -> dict:
    """Train and score one variant (``ref``: the plain SRCNN) on ``data``; best and last weights."""
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    if variant == "ref":
        train_and_predict(data, work / "pred", steps=steps, batch=8, patch=64, seed=seed)
        last = score(work / "pred", data, work / "eval")
        return {"best": last, "last": last, "train_s": time.perf_counter() - t0}
    (work / "variant.yaml").write_text(yaml.safe_dump(VARIANTS[variant]))
    args = ["--lr", str(data / "train" / "lr"), "--hr", str(data / "train" / "hr"), "--scale", "2"]
    args += ["--out", str(work / "run"), "--steps", str(steps), "--batch-size", "8", "--seed", str(seed)]
    args += ["--num-threads", "1", "--device", "cpu", "--quiet", "--recipe", "budget"]
    microsr_cli("train", *args, "--config", str(work / "variant.yaml"))
    res: dict = {"train_s": time.perf_counter() - t0}
    for weights in ("best", "last"):
        pred = work / f"pred_{weights}"
        microsr_cli(
            "predict", "--model", str(work / "run"), "--input", str(data / "test" / "lr"),
            "--output", str(pred), "--weights", weights,
        )  # fmt: skip
        res[weights] = score(pred, data, work / f"eval_{weights}")
    return res


def table(work: Path) -> str:
    """Markdown table of every finished run in ``work``: best-weights PSNR / SSIM, mean over seeds."""
    found: dict = {}
    for f in sorted(work.glob("runs/*/*/seed*/result.json")):
        key, variant = f.parts[-4], f.parts[-3]
        best = json.loads(f.read_text())["best"]
        found.setdefault(variant, {}).setdefault(key, []).append((best["psnr"], best["ssim"]))
    sets = sorted({k for v in found.values() for k in v})
    lines = ["| variant | " + " | ".join(sets) + " |", "|---|" + "---|" * len(sets)]
    for variant in ["ref", *VARIANTS]:
        if variant in found:
            cells = []
            for k in sets:
                v = np.array(found[variant].get(k, []))
                cells.append(f"{v[:, 0].mean():.2f} / {v[:, 1].mean():.3f} (n={len(v)})" if len(v) else "-")
            lines.append(f"| {variant} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--work", type=Path, default=Path("/tmp/microsr-real-data-ablation"))
    p.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "microsr-real-data", help="wheels")
    p.add_argument("--sets", nargs="*", default=["celegans-defocus", "nuclei-defocus"])
    p.add_argument("--variants", nargs="*", default=["ref", "plain", "plain+aug", "noaug"])
    p.add_argument("--seeds", nargs="*", type=int, default=[0])
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--table", action="store_true", help="print the table of finished runs; train nothing")
    p.add_argument(
        "--shift-low", nargs="*", type=float, default=None, metavar="D",
        help="predict the finished runs of --variants again with the low percentile moved by each D "
        "(see _normalization_shift.py); train nothing",
    )  # fmt: skip
    a = p.parse_args()
    if a.shift_low is not None:
        from _normalization_shift import shift_table

        print(shift_table(a.work, a.variants, a.shift_low))
        return
    if not a.table:
        for key in a.sets:
            name, kind = key.rsplit("-", 1)
            data = a.work / "data" / key
            make_set(a.cache, name, kind, data)
            for variant in a.variants:
                for seed in a.seeds:
                    work = a.work / "runs" / key / variant / f"seed{seed}"
                    done = work / "result.json"
                    if not done.is_file():
                        done.parent.mkdir(parents=True, exist_ok=True)
                        done.write_text(json.dumps(run(data, work, variant, seed, a.steps)))
                    res = json.loads(done.read_text())
                    short = {w: [round(res[w][m], 3) for m in ("psnr", "ssim")] for w in ("best", "last")}
                    print(json.dumps({"set": key, "variant": variant, "seed": seed, **short}), flush=True)
    print(table(a.work))


if __name__ == "__main__":
    main()
