"""``microsr predict``: super-resolve a file or folder with a training run or a bioimage.io package."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer


class Precision(str, Enum):
    """Arithmetic of the model calls."""

    fp32 = "fp32"
    bf16 = "bf16"


class Weights(str, Enum):
    """Which weights of a training run to use."""

    best = "best"
    last = "last"


def predict(
    model: Annotated[
        Path,
        typer.Option(
            "--model",
            help="Trained model folder: the --out of `microsr train` (with model.json), or a "
            "bioimage.io package (.zip, or a folder with rdf.yaml). "
            "(In `microsr train`, --model is an architecture name instead.)",
        ),
    ],
    input: Annotated[
        Path, typer.Option("--input", help="An image file, a folder of images or an OME-Zarr image.")
    ],
    output: Annotated[
        Path,
        typer.Option(
            "--out",
            "--output",
            help="Folder for the results (<name>.tif), or NAME.ome.zarr for block-wise output.",
        ),
    ],
    tile: Annotated[
        int,
        typer.Option(
            "--tile",
            help="Tile edge in LR pixels (memory grows with it); rounded down to a multiple of 16 "
            "with prime factors 2, 3, 5 only (e.g. 100 -> 96).",
        ),
    ] = 256,
    overlap: Annotated[
        int,
        typer.Option("--overlap", help="Overlap of neighbouring tiles in LR pixels; at most half the tile."),
    ] = 32,
    tta: Annotated[
        bool, typer.Option("--tta/--no-tta", help="Average the 8 rotations/mirrors (8x slower).")
    ] = False,
    keep_range: Annotated[
        bool,
        typer.Option(
            "--keep-range/--no-keep-range",
            help="Write in the input's intensity range and bit depth (uint16 stays uint16) "
            "instead of float32 normalised units.",
        ),
    ] = False,
    weights: Annotated[
        Weights, typer.Option("--weights", help="Weights to use: best or last.")
    ] = Weights.best,
    masks: Annotated[
        Optional[Path],
        typer.Option(
            "--masks",
            "--mask",
            help="Folder of parsing maps (same names, HR size) for models that need them.",
        ),
    ] = None,
    device: Annotated[
        Optional[str],
        typer.Option(
            "--device", help="auto, cpu, cuda (or gpu), cuda:N. \\[default: auto: cuda if available]"
        ),
    ] = None,
    precision: Annotated[
        Precision,
        typer.Option(
            "--precision",
            help="fp32, or bf16: about 2x faster where the CPU/GPU has native bfloat16, "
            "outputs off by about 1% of their range.",
        ),
    ] = Precision.fp32,
    level: Annotated[int, typer.Option("--level", help="OME-Zarr input: multiscale level to read.")] = 0,
    block: Annotated[
        Optional[int],
        typer.Option("--block", help="Block edge in LR pixels for .ome.zarr output (default: input chunks)."),
    ] = None,
    workers: Annotated[
        Optional[int],
        typer.Option("--workers", help="Predict blocks on a local Dask cluster of N processes."),
    ] = None,
    scheduler: Annotated[
        Optional[str], typer.Option("--scheduler", help="Address of a running Dask scheduler to use.")
    ] = None,
    resume: Annotated[
        bool,
        typer.Option("--resume", help="Continue an interrupted .ome.zarr prediction (missing blocks only)."),
    ] = False,
    weight_format: Annotated[
        Optional[str],
        typer.Option(
            "--weight-format",
            help="For a bioimage.io package: pytorch_state_dict, torchscript or onnx "
            "(default: the first of these it holds).",
        ),
    ] = None,
) -> None:
    """Super-resolve images with a trained model; stacks are done plane by plane.

    With an OME-Zarr input or an ``.ome.zarr`` output the image is read lazily and predicted
    block by block on Dask (see docs/large-data.md).
    """
    from microsr.errors import InputError
    from microsr.export.importer import is_package, load_package
    from microsr.inference.precision import resolve_device
    from microsr.inference.predict import predict_path
    from microsr.inference.tile_grid import check_tiling
    from microsr.io.lazy import is_zarr_path

    used = check_tiling(tile, overlap)
    device = None if device is None else str(resolve_device(device))  # one line for cuda without a GPU
    if used != tile:
        typer.echo(f"note: --tile {tile} rounded down to {used} (multiple of 16, factors 2, 3, 5)", err=True)
    package = is_package(model)
    if package and (is_zarr_path(input) or is_zarr_path(output)):
        raise InputError(
            model, "bioimage.io packages predict image files; OME-Zarr needs a training run folder"
        )
    if is_zarr_path(input) or is_zarr_path(output):
        return _predict_large(
            model, input, output, tile, overlap, tta, keep_range, weights, device, precision,
            level, block, workers, scheduler, resume,
        )  # fmt: skip
    if level or block is not None or workers is not None or scheduler is not None or resume:
        raise InputError(
            output, "--level, --block, --workers, --scheduler and --resume need an .ome.zarr --output"
        )

    written = predict_path(
        model,
        input,
        output,
        tile=tile,
        overlap=overlap,
        tta=tta,
        keep_range=keep_range,
        weights=weights.value,
        masks=masks,
        device=device,
        precision=precision.value,
        loaded=load_package(model, device=device, weight_format=weight_format) if package else None,
    )
    typer.echo(f"wrote {len(written)} image(s) to {output}")


def _predict_large(
    model, input, output, tile, overlap, tta, keep_range, weights, device, precision,
    level, block, workers, scheduler, resume,
) -> None:  # fmt: skip
    from microsr.errors import InputError
    from microsr.inference.large import predict_large
    from microsr.io.lazy import is_zarr_path

    if not is_zarr_path(output):
        raise InputError(output, "OME-Zarr input is written as OME-Zarr: give --output NAME.ome.zarr")
    out = predict_large(
        model,
        input,
        output,
        level=level,
        tile=tile,
        overlap=overlap,
        tta=tta,
        keep_range=keep_range,
        weights=weights.value,
        device=device,
        precision=precision.value,
        block=block,
        workers=workers,
        scheduler=scheduler,
        resume=resume,
    )
    typer.echo(f"wrote {out}")


def register(app: typer.Typer) -> None:
    """Add the ``predict`` command to the ``microsr`` app."""
    app.command("predict")(predict)
