"""``microsr export``: a training run -> a bioimage.io model package."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from microsr.cli.flags import Weights, WeightsFlag
from microsr.cli.predict_options import Normalization, NormalizationFlag

ALL_FORMATS = "pytorch_state_dict,torchscript,onnx"


def export(
    model: Annotated[Path, typer.Option("--model", help="Training run folder (with model.json).")],
    out: Annotated[Path, typer.Option("--out", help="Package to write, NAME.zip (its folder must exist).")],
    weights: WeightsFlag = Weights.best,
    formats: Annotated[
        str, typer.Option("--formats", help="Comma-separated weight formats to include.")
    ] = ALL_FORMATS,
    name: Annotated[Optional[str], typer.Option("--name", help="Model name (default: from the run).")] = None,
    description: Annotated[
        Optional[str], typer.Option("--description", help="One-paragraph description.")
    ] = None,
    authors: Annotated[str, typer.Option("--authors", help="Comma-separated author names.")] = "microsr user",
    license: Annotated[str, typer.Option("--license", help="SPDX license of the weights.")] = "BSD-3-Clause",
    test_image: Annotated[
        Optional[Path],
        typer.Option("--test-image", help="Image for the test tensors (default: a training image)."),
    ] = None,
    normalization: NormalizationFlag = Normalization.image,
) -> None:
    """Write a bioimage.io model package (state dict, TorchScript, ONNX) from a training run."""
    try:
        from microsr.export.package import ExportOptions, export_package
    except ImportError as exc:
        from microsr.errors import InputError

        raise InputError(None, f"export needs pip install 'microsr[export]' ({exc})") from None
    opts = ExportOptions(
        weights=weights.value,
        formats=tuple(f.strip() for f in formats.split(",") if f.strip()),
        name=name,
        description=description,
        authors=[a.strip() for a in authors.split(",") if a.strip()],
        license=license,
        test_image=test_image,
        normalization=normalization.value,
    )
    result = export_package(model, out, opts)
    errors = ", ".join(f"{k} {v:.1e}" for k, v in result.errors.items())
    typer.echo(f"wrote {result.path} in {result.seconds:.1f} s (difference from microsr: {errors})")


def register(app: typer.Typer) -> None:
    app.command("export")(export)
