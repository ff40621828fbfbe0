"""The flags of ``microsr predict``, one annotated type each (typer reads the help from them); the
flags it shares with other commands are in :mod:`microsr.cli.flags`."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer


class Precision(str, Enum):
    """Arithmetic of the model calls."""

    fp32 = "fp32"
    bf16 = "bf16"


class Normalization(str, Enum):
    """Whose intensities normalise an input."""

    image = "image"
    training = "training"


class Tta(str, Enum):
    """Test-time augmentation: which rotations and mirrors of each input are averaged."""

    auto = "auto"
    none = "none"
    flips = "flips"
    all = "all"


class Backend(str, Enum):
    """What runs the network."""

    torch = "torch"
    onnx = "onnx"


ModelFlag = Annotated[
    Path,
    typer.Option(
        "--model",
        help="Trained model folder: the --out of `microsr train` (with model.json), or a "
        "bioimage.io package (.zip, or a folder with rdf.yaml). "
        "(In `microsr train`, --model is an architecture name instead.)",
    ),
]
InputFlag = Annotated[
    Path, typer.Option("--input", help="An image file, a folder of images or an OME-Zarr image.")
]
OutputFlag = Annotated[
    Path,
    typer.Option(
        "--out",
        "--output",
        help="Folder for the results (<name>.tif), or NAME.ome.zarr for block-wise output.",
    ),
]
TileFlag = Annotated[
    int,
    typer.Option(
        "--tile",
        help="Tile edge in LR pixels (memory grows with it); rounded down to a multiple of 16 "
        "with prime factors 2, 3, 5 only (e.g. 100 -> 96).",
    ),
]
OverlapFlag = Annotated[
    int,
    typer.Option("--overlap", help="Overlap of neighbouring tiles in LR pixels; at most half the tile."),
]
TtaFlag = Annotated[
    Tta,
    typer.Option(
        "--tta",
        help="Test-time augmentation: average the 4 mirrors (flips, 4x slower) or the 8 rotations and "
        "mirrors (all, 8x slower) of each input; auto: what training chose on its validation images.",
    ),
]
KeepRangeFlag = Annotated[
    bool,
    typer.Option(
        "--keep-range/--no-keep-range",
        help="Write in the input's intensity range and bit depth (uint16 stays uint16) "
        "instead of float32 normalised units.",
    ),
]
DeviceFlag = Annotated[
    Optional[str],
    typer.Option("--device", help="auto, cpu, cuda (or gpu), cuda:N. \\[default: auto: cuda if available]"),
]
PrecisionFlag = Annotated[
    Precision,
    typer.Option(
        "--precision",
        help="fp32, or bf16: about 2x faster where the CPU/GPU has native bfloat16, "
        "outputs off by about 1% of their range.",
    ),
]
BackendFlag = Annotated[
    Backend,
    typer.Option(
        "--backend",
        help="torch (exact float32), or onnx: ONNX Runtime on the CPU, exported once per model and "
        "cached (faster for some models, see docs/benchmarks.md; outputs within ~1e-6).",
    ),
]
LevelFlag = Annotated[int, typer.Option("--level", help="OME-Zarr input: multiscale level to read.")]
BlockFlag = Annotated[
    Optional[int],
    typer.Option("--block", help="Block edge in LR pixels for .ome.zarr output (default: input chunks)."),
]
WorkersFlag = Annotated[
    Optional[int],
    typer.Option("--workers", help="Predict blocks on a local Dask cluster of N processes."),
]
SchedulerFlag = Annotated[
    Optional[str], typer.Option("--scheduler", help="Address of a running Dask scheduler to use.")
]
ResumeFlag = Annotated[
    bool,
    typer.Option("--resume", help="Continue an interrupted .ome.zarr prediction (missing blocks only)."),
]
WeightFormatFlag = Annotated[
    Optional[str],
    typer.Option(
        "--weight-format",
        help="For a bioimage.io package: pytorch_state_dict, torchscript or onnx "
        "(default: the first of these it holds).",
    ),
]
NormalizationFlag = Annotated[
    Normalization,
    typer.Option(
        "--normalization",
        help="image: each input normalised with its own statistics (e.g. percentiles), as in "
        "training; training: with the training images' intensity range, for images of the same "
        "acquisition or microscope settings (see docs/prediction.md).",
    ),
]
