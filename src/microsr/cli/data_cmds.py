"""``microsr simulate`` and ``microsr degrade``: make LR/HR training pairs."""

from __future__ import annotations

import os
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from microsr.cli.flags import QuietFlag


class Structure(str, Enum):
    """What the simulator draws: the four BioSR structure classes, or leukocyte-like cells."""

    ccps = "ccps"
    microtubules = "microtubules"
    er = "er"
    f_actin = "f-actin"
    leukocytes = "leukocytes"


class OutDtype(str, Enum):
    """Pixel type of simulated images."""

    uint16 = "uint16"
    float32 = "float32"


def simulate(
    structure: Annotated[Structure, typer.Option("--structure", help="Structure class to draw.")],
    out: Annotated[
        Path,
        typer.Option(
            "--out", help="New output folder (gets lr/, hr/, simulation.json; mask/ for leukocytes)."
        ),
    ],
    count: Annotated[int, typer.Option("--count", help="Number of LR/HR pairs.")] = 20,
    size: Annotated[int, typer.Option("--size", help="HR image size in px (LR is size/scale).")] = 256,
    scale: Annotated[int, typer.Option("--scale", help="LR pixel / HR pixel (2, 3, 4...).")] = 2,
    seed: Annotated[int, typer.Option("--seed", help="Image i uses seed+i; same seed, same data.")] = 0,
    photons: Annotated[
        Optional[float],
        typer.Option(
            "--photons",
            help="Expected photo-electrons at the brightest LR pixel (default 200; lower is noisier).",
        ),
    ] = None,
    dtype: Annotated[
        OutDtype, typer.Option("--dtype", help="uint16 (default) or float32 files.")
    ] = OutDtype.uint16,
    workers: Annotated[
        int, typer.Option("--workers", help="Processes to use (0: automatic, up to 4 for 16 or more images).")
    ] = 0,
    quiet: QuietFlag = False,
) -> None:
    """Simulate widefield (LR) / SIM (HR) pairs of CCPs, microtubules, ER or F-actin, or
    leukocyte-like cells with parsing maps (mask/: 0 background, 1 cytoplasm, 2 nucleus)."""
    from microsr.data.datasets import write_simulated

    if workers == 0:
        workers = 1 if count < 16 else max(1, min(4, os.cpu_count() or 1))
    path = write_simulated(
        out,
        structure=structure.value,
        count=count,
        size=size,
        scale=scale,
        seed=seed,
        photons=photons,
        dtype=dtype.value,
        progress=not quiet,
        workers=workers,
    )
    typer.echo(f"wrote {count} pairs ({size // scale} px LR, {size} px HR, {dtype.value}) to {path}")


def degrade(
    hr: Annotated[Path, typer.Option("--hr", help="Folder of high-resolution images.")],
    out: Annotated[Path, typer.Option("--out", help="New output folder (gets lr/, hr/, degradation.json).")],
    scale: Annotated[int, typer.Option("--scale", help="Downsampling factor.")] = 2,
    psf_sigma: Annotated[
        Optional[float],
        typer.Option(
            "--psf-sigma", help="Gaussian PSF sigma in HR px (default 0.85*scale: FWHM of 2 LR px)."
        ),
    ] = None,
    na: Annotated[Optional[float], typer.Option("--na", help="Numerical aperture (Airy PSF).")] = None,
    wavelength: Annotated[
        Optional[float], typer.Option("--wavelength", help="Emission wavelength, nm (Airy PSF).")
    ] = None,
    pixel_size: Annotated[
        Optional[float],
        typer.Option("--pixel-size", help="HR pixel size in nm (Airy PSF; default: from the file)."),
    ] = None,
    photons: Annotated[
        Optional[float],
        typer.Option("--photons", help="Peak photo-electrons for Poisson noise (default: no noise)."),
    ] = None,
    read_noise: Annotated[
        float, typer.Option("--read-noise", help="Read noise, e- std (with --photons).")
    ] = 2.0,
    seed: Annotated[int, typer.Option("--seed", help="Noise seed.")] = 0,
    quiet: QuietFlag = False,
) -> None:
    """Make LR images from HR-only images: PSF blur, area downsampling, camera noise."""
    from microsr.data.degrade_folder import write_degraded

    path = write_degraded(
        hr,
        out,
        scale=scale,
        psf_sigma=psf_sigma,
        na=na,
        wavelength=wavelength,
        pixel_size=pixel_size,
        photons=photons,
        read_noise=read_noise,
        seed=seed,
        progress=not quiet,
    )
    typer.echo(f"wrote LR/HR pairs (x{scale}) to {path}")


def register(app: typer.Typer) -> None:
    """Add ``simulate`` and ``degrade`` to the ``microsr`` app."""
    app.command("simulate")(simulate)
    app.command("degrade")(degrade)
