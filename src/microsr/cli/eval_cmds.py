"""``microsr evaluate``: PSNR / SSIM / MS-SSIM / NRMSE of predictions against ground truth."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from microsr.errors import InputError


class Fit(str, Enum):
    """Intensity fit before scoring."""

    none = "none"
    affine = "affine"


def _fmt(value: float | None, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


def _line(label: str, s: dict) -> str:
    return (f"{label:<10} PSNR {_fmt(s['psnr'], '.2f')} dB   SSIM {_fmt(s['ssim'], '.4f')}   "
            f"MS-SSIM {_fmt(s['ms_ssim'], '.4f')}   NRMSE {_fmt(s['nrmse'], '.4f')}")


def evaluate(
    pred: Annotated[list[Path], typer.Option("--pred", help="Folder of predictions (file names as in --gt).")],
    gt: Annotated[Path, typer.Option("--gt", help="Folder of ground-truth images.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder for metrics.csv and summary.json.")],
    lr: Annotated[Optional[Path], typer.Option("--lr", help="Folder of LR inputs: adds a bicubic baseline.")] = None,
    fit: Annotated[Fit, typer.Option("--fit", help="'affine' fits a*pred+b to the ground truth first.")] = Fit.none,
    data_range: Annotated[Optional[float], typer.Option(
        "--data-range", help="Fixed data range for PSNR/SSIM (default: each ground truth's max - min).")] = None,
    crop_border: Annotated[int, typer.Option("--crop-border", help="Pixels ignored on each side.")] = 0,
) -> None:
    """Score predictions against ground truth; writes metrics.csv and summary.json to --out."""
    from microsr.evaluation.evaluate import evaluate_folders

    if len(pred) != 1:
        raise InputError(None, f"give exactly one --pred folder (got {len(pred)})")
    summary = evaluate_folders(pred[0], gt, out, lr_dir=lr, fit=fit.value, data_range=data_range,
                               crop_border=crop_border)
    dr = summary["data_range"]
    typer.echo(f"{summary['n_images']} images, fit {summary['fit']}, data range "
               f"{dr if isinstance(dr, str) else format(dr, 'g')}, crop border {summary['crop_border']}")
    typer.echo(_line("prediction", summary))
    if "baseline" in summary:
        typer.echo(_line(f"bicubic x{summary['baseline']['scale']}", summary["baseline"]))
    for note in summary.get("notes", []):
        typer.echo(f"note: {note}")
    typer.echo(f"wrote {Path(out) / 'metrics.csv'} and {Path(out) / 'summary.json'}")


def register(app: typer.Typer) -> None:
    """Add the ``evaluate`` command to the ``microsr`` app."""
    app.command("evaluate")(evaluate)
