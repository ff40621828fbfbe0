"""``microsr resolution``: decorrelation and FRC resolution estimates of one image (or two)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import numpy as np
import typer

from microsr.errors import InputError


def _load_plane(path: Path) -> tuple[np.ndarray, float | None, str]:
    """2-D float image (middle plane of a stack), pixel size (um) from the file, and a note."""
    from microsr.io import read_image

    image = read_image(path)
    if "C" in image.axes and image.array.shape[image.axes.index("C")] > 1:
        raise InputError(path, f"has colour channels (axes {image.axes}); give one channel as a 2-D image")
    array = np.asarray(image.array, dtype=np.float64)
    note = ""
    if array.ndim > 2:
        idx = tuple(s // 2 for s in array.shape[:-2])
        note = f" (middle plane {idx} of {image.axes} {array.shape})"
        array = array[idx]
    if min(array.shape) < 32:
        raise InputError(
            path, f"is {array.shape[1]}x{array.shape[0]} px; resolution estimates need at least 32x32"
        )
    if not np.all(np.isfinite(array)):
        raise InputError(path, "contains NaN or infinite values")
    if float(array.max() - array.min()) == 0:
        raise InputError(path, "is constant; there is no structure to estimate a resolution from")
    return array, image.pixel_size, note


def resolution(
    input: Annotated[Path, typer.Option("--input", help="Image to analyse (2-D; stacks: middle plane).")],
    pixel_size: Annotated[
        Optional[float],
        typer.Option(
            "--pixel-size", help="Pixel size in nm (default: from the file's metadata; else results in px)."
        ),
    ] = None,
    second: Annotated[
        Optional[Path],
        typer.Option(
            "--second", help="Second acquisition of the same field (independent noise) for a two-image FRC."
        ),
    ] = None,
) -> None:
    """Print decorrelation-analysis and FRC (1/7 threshold) resolution estimates."""
    from microsr.evaluation.frc import frc, frc_single
    from microsr.evaluation.resolution import decorrelation

    if pixel_size is not None and not (np.isfinite(pixel_size) and pixel_size > 0):
        raise InputError(None, f"--pixel-size must be a positive number of nanometres, not {pixel_size}")
    image, file_px, note = _load_plane(input)
    px_um = pixel_size / 1000.0 if pixel_size is not None else file_px
    source = "given" if pixel_size is not None else ("from file" if file_px else "unknown: results in pixels")
    size_text = f"{px_um * 1000:.2f} nm" if px_um else "?"
    typer.echo(f"{input.name}: {image.shape[1]}x{image.shape[0]} px{note}, pixel size {size_text} ({source})")
    dec = decorrelation(image, pixel_size=px_um)
    typer.echo(
        f"decorrelation (Descloux 2019, Nr 50, Ng 10): {dec.describe()}  "
        f"[kc {dec.cutoff:.3f} of Nyquist, A0 {dec.amplitude:.3f}]"
    )
    if second is not None:
        other, _, _ = _load_plane(second)
        if other.shape != image.shape:
            raise InputError(
                second,
                f"is {other.shape[1]}x{other.shape[0]} px but --input is "
                f"{image.shape[1]}x{image.shape[0]}; FRC needs the same field",
            )
        result = frc(image, other, pixel_size=px_um)
        typer.echo(f"FRC (two images, threshold 1/7): {result.describe()}")
        if not np.isfinite(result.resolution_px):
            typer.echo(
                "note: the FRC curve never fell below 1/7: the two images share their noise "
                "(the same acquisition?) or carry signal up to the Nyquist frequency"
            )
    else:
        result = frc_single(image, pixel_size=px_um)
        typer.echo(
            f"FRC (one image, checkerboard split + Koho 2019 correction, threshold 1/7): {result.describe()}"
        )
        typer.echo(
            "note: one-image FRC assumes pixel-independent noise; it is not meaningful for "
            "interpolated, deconvolved or network-output images"
        )
    if dec.amplitude < 0.05:
        typer.echo("warning: decorrelation peak A0 < 0.05: too little signal for a reliable estimate")


def register(app: typer.Typer) -> None:
    """Add the ``resolution`` command to the ``microsr`` app."""
    app.command("resolution")(resolution)
