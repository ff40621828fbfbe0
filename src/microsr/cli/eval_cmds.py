"""``microsr evaluate``: PSNR / SSIM / MS-SSIM / NRMSE of predictions against ground truth, QC report."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from microsr.errors import InputError


class Fit(str, Enum):
    """Intensity fit before scoring."""

    auto = "auto"
    none = "none"
    affine = "affine"


def _fmt(value: float | None, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


def _line(label: str, s: dict) -> str:
    return (
        f"{label:<10} PSNR {_fmt(s['psnr'], '.2f')} dB   SSIM {_fmt(s['ssim'], '.4f')}   "
        f"MS-SSIM {_fmt(s['ms_ssim'], '.4f')}   NRMSE {_fmt(s['nrmse'], '.4f')}"
    )


def evaluate(
    pred: Annotated[
        list[Path], typer.Option("--pred", help="Folder of predictions (file names as in --gt).")
    ],
    gt: Annotated[Path, typer.Option("--gt", help="Folder of ground-truth images.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder for metrics.csv and summary.json.")],
    lr: Annotated[
        Optional[Path], typer.Option("--lr", help="Folder of LR inputs: adds a bicubic baseline.")
    ] = None,
    fit: Annotated[
        Fit,
        typer.Option(
            "--fit",
            help="'affine' fits a*pred+b to the ground truth first; 'auto' does so for predictions "
            "in normalised units (microsr predict without --keep-range) only; 'none' refuses those.",
        ),
    ] = Fit.auto,
    data_range: Annotated[
        Optional[float],
        typer.Option(
            "--data-range", help="Fixed data range for PSNR/SSIM (default: each ground truth's max - min)."
        ),
    ] = None,
    crop_border: Annotated[int, typer.Option("--crop-border", help="Pixels ignored on each side.")] = 0,
    run: Annotated[
        Optional[list[Path]],
        typer.Option("--run", help="Training run folder: its loss curves go into report.html (repeatable)."),
    ] = None,
    pixel_size: Annotated[
        Optional[float],
        typer.Option(
            "--pixel-size", help="Ground-truth pixel size in nm (default: from the ground-truth files)."
        ),
    ] = None,
    line: Annotated[
        Optional[str],
        typer.Option(
            "--line", help="x0,y0,x1,y1 in ground-truth pixels: scaled intensity profiles in report.html."
        ),
    ] = None,
    report_images: Annotated[
        int,
        typer.Option(
            "--report-images", min=1, help="Images with a panel and a resolution estimate in report.html."
        ),
    ] = 12,
) -> None:
    """Score predictions against ground truth; writes metrics.csv, summary.json and report.html to --out.

    Several --pred folders are compared (comparison.csv: paired Wilcoxon and t-tests); summary.json
    then keeps the first folder's results at the top level and adds a 'models' mapping.
    """
    from microsr.evaluation.profiles import parse_line
    from microsr.evaluation.qc import run_qc

    try:
        line_xy = parse_line(line) if line is not None else None
    except ValueError as exc:
        raise InputError(None, str(exc)) from None
    summary = run_qc(
        pred,
        gt,
        out,
        lr_dir=lr,
        run_dirs=run or [],
        pixel_size_nm=pixel_size,
        line=line_xy,
        fit=fit.value,
        data_range=data_range,
        crop_border=crop_border,
        max_panels=report_images,
    )
    _print_summary(summary, out)


def _print_summary(summary: dict, out: Path) -> None:
    """The means per model (and bicubic), the notes and the files written."""
    typer.echo(f"{summary['n_images']} images; {summary['convention']}")
    for name, s in summary.get("models", {"prediction": summary}).items():
        typer.echo(_line(name, s))
    if "baseline" in summary:
        typer.echo(_line(f"bicubic x{summary['baseline']['scale']}", summary["baseline"]))
    for note in summary.get("notes", []):
        typer.echo(f"note: {note}")
    extra = " and comparison.csv" if "models" in summary else ""
    typer.echo(
        f"wrote {Path(out) / 'metrics.csv'}, {Path(out) / 'summary.json'}, {summary['_report']}{extra}"
    )


def register(app: typer.Typer) -> None:
    """Add the ``evaluate`` command to the ``microsr`` app."""
    app.command("evaluate")(evaluate)
