"""``microsr demo``: the whole pipeline on simulated data, on a CPU, in a few minutes.

1. simulate LR/HR pairs of microtubules (:func:`microsr.data.simulate.simulate_pair`), training
   images and separate held-out test images (different seeds), written as 16-bit TIFFs;
2. train a small DFCAN with :func:`microsr.engine.train`;
3. predict the held-out LR images (:func:`microsr.inference.predict.predict_path`);
4. score model and bicubic against the HR and write the QC report (``evaluation/report.html``,
   :func:`microsr.evaluation.qc.run_qc`, as ``microsr evaluate`` does) with an affine intensity fit,
   because model output, bicubic and HR are in different units;
5. draw ``demo_figure.png``: LR, bicubic, model, HR with a zoomed inset.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from microsr.errors import InputError

STRUCTURE = "microtubules"
SCALE = 2
TEST_SEED = 100_000  # held-out images use seeds far from the training seeds

#: The tuned CPU recipe (measured in docs/prediction.md: under 5 minutes on 2 cores).
RECIPE = {
    "model": {"name": "dfcan", "options": {"n_feats": 16, "n_groups": 2, "n_blocks": 2}},
    "patch_size": 32,
    "batch_size": 8,
    "lr": 2e-3,
    # One thread: these tiny convolutions gain little from a second thread on an idle machine and
    # lose up to 6x when other processes share the cores (measured: 0.21 vs 1.27 s per step).
    "num_threads": 1,
}


def simulate_split(folder: Path, count: int, size: int, seed: int) -> None:
    """Write ``count`` simulated pairs to ``folder/lr`` and ``folder/hr`` as uint16 TIFFs.

    Parameters
    ----------
    folder : Path
        Destination; ``lr/`` holds (size/2, size/2) camera counts, ``hr/`` (size, size) images
        whose 99.9th percentile is 20000, with pixel sizes 0.0626 / 0.0313 um.
    count, size, seed : int
        Number of pairs, HR edge in px, seed of the first pair (pair i uses ``seed + i``).
    """
    from microsr.data.simulate import SimConfig, simulate_pair
    from microsr.io import write_image

    px_hr = SimConfig().hr_pixel_nm / 1000.0
    for i in range(count):
        lr, hr = simulate_pair(STRUCTURE, size=size, scale=SCALE, seed=seed + i)
        name = f"{STRUCTURE}_{seed + i:06d}.tif"
        write_image(folder / "lr" / name, lr, "YX", px_hr * SCALE, dtype="uint16")
        write_image(folder / "hr" / name, hr, "YX", px_hr, dtype="uint16")


def _figure(
    path: Path, lr: np.ndarray, bic: np.ndarray, pred: np.ndarray, hr: np.ndarray, scores: dict[str, str]
) -> None:
    """Side-by-side LR | bicubic | model | HR with a zoomed inset (4x) of the centre."""
    from matplotlib.patches import Rectangle

    from microsr.evaluation.figures import new_figure

    def pct(a: np.ndarray) -> np.ndarray:
        lo, hi = np.percentile(a, [1, 99.8])
        return np.clip((a - lo) / max(hi - lo, 1e-12), 0, 1)

    panels = [
        ("LR (widefield)", np.kron(pct(lr), np.ones((SCALE, SCALE)))),
        ("bicubic", pct(bic)),
        ("DFCAN (this demo)", pct(pred)),
        ("HR (ground truth)", pct(hr)),
    ]
    h, w = hr.shape
    z = max(h // 6, 8)
    y0, x0 = h // 2 - z // 2, w // 2 - z // 2
    fig, axes = new_figure((16, 4.6), 1, 4)  # Figure API: the caller's matplotlib backend is left alone
    fig.set_layout_engine("constrained")
    for ax, (title, img) in zip(axes[0], panels):
        ax.imshow(img, cmap="magma", vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(f"{title}\n{scores.get(title, '')}", fontsize=10)
        ax.add_patch(Rectangle((x0, y0), z, z, fill=False, edgecolor="cyan", lw=1))
        ins = ax.inset_axes([0.6, 0.6, 0.38, 0.38])
        ins.imshow(img[y0 : y0 + z, x0 : x0 + z], cmap="magma", vmin=0, vmax=1, interpolation="nearest")
        ins.set_xticks([]), ins.set_yticks([])
        for sp in ins.spines.values():
            sp.set_edgecolor("cyan")
        ax.axis("off")
    fig.savefig(path, dpi=110)


def _demo_config(out: Path, steps: int) -> Any:
    """The demo's training configuration (the DFCAN recipe, cosine schedule, 10 % validation)."""
    from microsr.engine import make_config

    return make_config(
        {
            "out": str(out / "run"),
            "model": RECIPE["model"],
            "scale": SCALE,
            "data": {
                "lr_dir": str((out / "data" / "train" / "lr").absolute()),  # resumable from anywhere
                "hr_dir": str((out / "data" / "train" / "hr").absolute()),
                "patch_size": RECIPE["patch_size"],
                "batch_size": RECIPE["batch_size"],
                "val_fraction": 0.1,
                "val_crop": 128,
            },
            "optimizer": {"lr": RECIPE["lr"]},
            "schedule": {"name": "cosine"},
            "steps": steps,
            "val_every": max(steps // 4, 1),
            "log_every": max(steps // 50, 1),
            "monitor": "psnr",
            "seed": 0,
            "num_threads": RECIPE["num_threads"],
        }
    )


def _demo_figure(out: Path, run: Path, summary: dict) -> None:
    """``demo_figure.png`` of the first test image (LR, bicubic, DFCAN, HR) and the loss curves."""
    from microsr.evaluation.pairing import bicubic_baseline
    from microsr.io import read_image

    first = summary["per_image"][0]
    test = out / "data" / "test"
    lr = read_image(test / "lr" / first["lr"]).array.astype(np.float32)
    hr = read_image(test / "hr" / first["gt"]).array.astype(np.float32)
    pred = read_image(out / "predictions" / first["pred"]).array.astype(np.float32)
    row = first
    scores = {
        "bicubic": f"{row['baseline_psnr']:.2f} dB, SSIM {row['baseline_ssim']:.3f}",
        "DFCAN (this demo)": f"{row['psnr']:.2f} dB, SSIM {row['ssim']:.3f}",
    }
    _figure(out / "demo_figure.png", lr, bicubic_baseline(lr, SCALE), pred, hr, scores)
    for name in ("loss_curves.png", "loss_curves_log.png"):
        if (run / name).is_file():
            shutil.copyfile(run / name, out / name)


def run_demo(
    out: Path,
    *,
    steps: int = 800,
    count: int = 32,
    test_count: int = 4,
    size: int = 192,
    progress: bool = True,
) -> dict:
    """Run the demo pipeline into ``out`` and return its summary (also written as demo_summary.json).

    Parameters
    ----------
    out : Path
        Output folder; must be empty or absent.
    steps : int
        Training steps.
    count, test_count : int
        Training pairs (10 % of them validate) and held-out test pairs.
    size : int
        HR image edge in px (LR is half).
    progress : bool
        Show progress bars.
    """
    from microsr.engine import train
    from microsr.evaluation.qc import run_qc
    from microsr.inference.predict import predict_path

    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InputError(out, "demo output folder exists and is not empty; choose a new --out")
    t0 = time.perf_counter()
    times: dict[str, float] = {}
    typer.echo(
        f"1/4 simulating {count} training and {test_count} held-out {STRUCTURE} pairs ({size} px HR, x{SCALE})"
    )
    simulate_split(out / "data" / "train", count, size, seed=0)
    simulate_split(out / "data" / "test", test_count, size, seed=TEST_SEED)
    times["simulate_s"] = time.perf_counter() - t0
    typer.echo(f"2/4 training a small DFCAN for {steps} steps on the CPU")
    t1 = time.perf_counter()
    run = train(_demo_config(out, steps), progress=progress)
    times["train_s"] = time.perf_counter() - t1
    typer.echo("3/4 predicting the held-out images")
    t2 = time.perf_counter()
    predict_path(run, out / "data" / "test" / "lr", out / "predictions", progress=progress)
    times["predict_s"] = time.perf_counter() - t2
    typer.echo("4/4 evaluating against bicubic (QC report)")
    summary = run_qc(
        [out / "predictions"],
        out / "data" / "test" / "hr",
        out / "evaluation",
        lr_dir=out / "data" / "test" / "lr",
        run_dirs=[run],
        fit="affine",
    )
    _demo_figure(out, run, summary)
    times["total_s"] = time.perf_counter() - t0
    result = {
        "model": {"psnr": summary["psnr"], "ssim": summary["ssim"]},
        "bicubic": {"psnr": summary["baseline"]["psnr"], "ssim": summary["baseline"]["ssim"]},
        "gain_db": summary["psnr"] - summary["baseline"]["psnr"],
        "fit": summary["fit"],
        "convention": summary["convention"],
        "n_test_images": summary["n_images"],
        "steps": steps,
        "train_images": count,
        "hr_size": size,
        "seconds": {k: round(v, 1) for k, v in times.items()},
        "paths": {
            "run": str(run),
            "predictions": str(out / "predictions"),
            "report": summary["_report"],
            "evaluation": str(out / "evaluation" / "summary.json"),
            "figure": str(out / "demo_figure.png"),
            "loss_curves": str(out / "loss_curves.png"),
        },
    }
    (out / "demo_summary.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


def demo(
    out: Annotated[Path, typer.Option("--out", help="Output folder (must be new or empty).")] = Path(
        "microsr-demo"
    ),
    steps: Annotated[int, typer.Option("--steps", hidden=True, min=1)] = 800,
    count: Annotated[int, typer.Option("--count", hidden=True, min=2)] = 32,
    test_count: Annotated[int, typer.Option("--test-count", hidden=True, min=1)] = 4,
    size: Annotated[int, typer.Option("--size", hidden=True, min=64)] = 192,
) -> None:
    """Simulate microscopy data, train a small DFCAN, compare it with bicubic (a few CPU minutes)."""
    r = run_demo(out, steps=steps, count=count, test_count=test_count, size=size)
    typer.echo("")
    typer.echo(f"held-out test images: {r['n_test_images']} ({r['convention']})")
    typer.echo(f"  DFCAN    PSNR {r['model']['psnr']:.2f} dB   SSIM {r['model']['ssim']:.4f}")
    typer.echo(f"  bicubic  PSNR {r['bicubic']['psnr']:.2f} dB   SSIM {r['bicubic']['ssim']:.4f}")
    typer.echo(f"  gain     {r['gain_db']:+.2f} dB in {r['seconds']['total_s']:.0f} s")
    for key in ("report", "figure", "loss_curves", "evaluation", "predictions", "run"):
        typer.echo(f"  {key:<12}{r['paths'][key]}")


def register(app: typer.Typer) -> None:
    """Add the ``demo`` command to the ``microsr`` app."""
    app.command("demo")(demo)
