"""``microsr predict``: super-resolve a file or folder with a training run or a bioimage.io package."""

from __future__ import annotations

from typing import Any

import typer

from microsr.cli.flags import MasksFlag, Weights, WeightsFlag
from microsr.cli.predict_options import (
    Backend,
    BackendFlag,
    BlockFlag,
    DeviceFlag,
    InputFlag,
    KeepRangeFlag,
    LevelFlag,
    ModelFlag,
    Normalization,
    NormalizationFlag,
    OutputFlag,
    OverlapFlag,
    Precision,
    PrecisionFlag,
    ResumeFlag,
    SchedulerFlag,
    TileFlag,
    Tta,
    TtaFlag,
    WeightFormatFlag,
    WorkersFlag,
)
from microsr.inference.tile_grid import OVERLAP, TILE


def predict(
    model: ModelFlag,
    input: InputFlag,
    output: OutputFlag,
    tile: TileFlag = TILE,
    overlap: OverlapFlag = OVERLAP,
    tta: TtaFlag = Tta.auto,
    keep_range: KeepRangeFlag = False,
    weights: WeightsFlag = Weights.best,
    masks: MasksFlag = None,
    device: DeviceFlag = None,
    precision: PrecisionFlag = Precision.fp32,
    level: LevelFlag = 0,
    block: BlockFlag = None,
    workers: WorkersFlag = None,
    scheduler: SchedulerFlag = None,
    resume: ResumeFlag = False,
    weight_format: WeightFormatFlag = None,
    backend: BackendFlag = Backend.torch,
    normalization: NormalizationFlag = Normalization.image,
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
    _check_combination(model, package, is_zarr_path(input) or is_zarr_path(output), backend, normalization)
    # what both ways of predicting (image files, OME-Zarr blocks) take alike
    settings: dict[str, Any] = dict(
        tile=tile,
        overlap=overlap,
        tta=tta.value,
        keep_range=keep_range,
        weights=weights.value,
        device=device,
        precision=precision.value,
        normalization=normalization.value,
    )
    if is_zarr_path(input) or is_zarr_path(output):
        return _predict_large(
            model,
            input,
            output,
            settings,
            level=level,
            block=block,
            workers=workers,
            scheduler=scheduler,
            resume=resume,
        )
    if level or block is not None or workers is not None or scheduler is not None or resume:
        raise InputError(
            output, "--level, --block, --workers, --scheduler and --resume need an .ome.zarr --output"
        )

    loaded = load_package(model, device=device, weight_format=weight_format) if package else None
    if backend is not Backend.torch:
        loaded = _with_backend(model, settings, backend.value)
    written = predict_path(model, input, output, masks=masks, loaded=loaded, **settings)
    typer.echo(f"wrote {len(written)} image(s) to {output}")


def _check_combination(
    model, package: bool, zarr: bool, backend: Backend, normalization: Normalization
) -> None:
    """Refuse, in one line, options that do not go together."""
    from microsr.errors import InputError

    if package and zarr:
        raise InputError(
            model, "bioimage.io packages predict image files; OME-Zarr needs a training run folder"
        )
    if package and normalization is not Normalization.image:
        raise InputError(model, "a bioimage.io package normalises as its rdf.yaml says: drop --normalization")
    if backend is not Backend.torch and (package or zarr):
        raise InputError(
            model,
            "--backend onnx is for a training run folder and image files (a bioimage.io package "
            "chooses ONNX weights with --weight-format onnx)",
        )


def _with_backend(model, settings: dict[str, Any], backend: str):
    """Load a run folder (on the CPU unless ``--device`` says otherwise) for ``backend``."""
    from microsr.export.backends import with_backend
    from microsr.modelcard import load_model_folder

    net, info = load_model_folder(
        model, weights=settings["weights"], device=settings["device"] or "cpu",
        normalization=settings["normalization"],
    )  # fmt: skip
    note = lambda msg: typer.echo(f"note: {msg}", err=True)  # noqa: E731
    return with_backend(net, info, backend, precision=settings["precision"], announce=note), info


def _predict_large(model, input, output, settings: dict[str, Any], **zarr_options: Any) -> None:
    """Predict an OME-Zarr image block by block (``zarr_options``: level, block, workers, scheduler,
    resume)."""
    from microsr.errors import InputError
    from microsr.inference.large import predict_large
    from microsr.io.lazy import is_zarr_path

    if not is_zarr_path(output):
        raise InputError(output, "OME-Zarr input is written as OME-Zarr: give --output NAME.ome.zarr")
    out = predict_large(model, input, output, **settings, **zarr_options)
    typer.echo(f"wrote {out}")


def register(app: typer.Typer) -> None:
    """Add the ``predict`` command to the ``microsr`` app."""
    app.command("predict")(predict)
