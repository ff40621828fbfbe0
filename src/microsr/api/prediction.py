"""Prediction from notebooks, scripts and the napari plugin: :func:`load_model` and :func:`predict`.

A model is a training run folder (``model.json`` + weights) or a bioimage.io package (a ``.zip``
or a folder with ``rdf.yaml``, read by :mod:`microsr.export.importer`). :func:`load_model` loads
either once, so that many images can be predicted without reloading it; :func:`predict` also takes
the path directly. The tile options are checked with the same function as ``microsr predict``
(:func:`~microsr.inference.tiling.check_tiling`) before any model is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from torch import nn

from microsr.api._display import PathLike, table, thumbnails
from microsr.errors import InputError
from microsr.inference.tile_grid import OVERLAP, TILE
from microsr.io import ImageData, read_image, write_image
from microsr.modelcard import ModelInfo


@dataclass
class Model:
    """A loaded model: the network, what its card or package says (``info``) and where it came from."""

    net: nn.Module
    info: ModelInfo
    source: Path
    kind: str  # "training run" or "bioimage.io package"

    def _summary(self) -> dict[str, Any]:
        return {
            "model": self.info.name,
            "scale": self.info.scale,
            "from": f"{self.kind} {self.source}",
            "weights": self.info.weights.name,
        }

    def __repr__(self) -> str:
        s = self._summary()
        return f"Model({s['model']!r} x{s['scale']}, {s['from']}, weights {s['weights']})"

    def _repr_html_(self) -> str:
        return table([self._summary()])


def model_kind(path: Path) -> str:
    """``"bioimage.io package"`` or ``"training run"`` for a path that is one, else an InputError."""
    from microsr.export.importer import is_package

    if not path.exists():
        raise InputError(path, "model not found: give a training run folder or a bioimage.io package")
    if is_package(path):
        return "bioimage.io package"
    if path.is_dir() and (path / "model.json").is_file():
        return "training run"
    raise InputError(
        path,
        "neither a training run folder (model.json) nor a bioimage.io package (.zip or a folder with rdf.yaml)",
    )


def load_model(
    model: PathLike | Model,
    *,
    weights: str = "best",
    device: str | None = None,
    weight_format: str | None = None,
) -> Model:
    """Load a training run folder (``weights`` "best" or "last") or a bioimage.io package
    (``weight_format`` pytorch_state_dict, torchscript or onnx; default the first it holds)."""
    if isinstance(model, Model):
        return model
    from microsr.inference.precision import resolve_device

    path = Path(model)
    kind = model_kind(path)
    dev = None if device is None else str(resolve_device(device))  # one line for cuda without a GPU
    if kind == "bioimage.io package":
        from microsr.export.importer import load_package

        net, info = load_package(path, device=dev, weight_format=weight_format)
    else:
        from microsr.modelcard import load_model_folder

        if weight_format is not None:
            raise InputError(path, "weight_format is for bioimage.io packages; a training run has one")
        net, info = load_model_folder(path, weights=weights, device=dev)  # type: ignore[arg-type]
    return Model(net, info, path, kind)


def with_normalization(loaded: Model, normalization: str) -> Model:
    """``loaded`` normalising its inputs as ``normalization`` says (``image`` or ``training``)."""
    from dataclasses import replace

    from microsr.modelcard.intensity import prediction_normalization

    if loaded.info.card is None or loaded.kind != "training run":
        if normalization != "image":
            raise InputError(loaded.source, "a bioimage.io package normalises as its rdf.yaml says")
        return loaded
    norm = prediction_normalization(loaded.info.card, normalization, loaded.source / "model.json")
    return replace(loaded, info=replace(loaded.info, normalization=norm))


@dataclass
class Prediction:
    """A super-resolved image with its input; ``save(path)`` writes an ImageJ TIFF."""

    image: np.ndarray
    input: np.ndarray
    scale: int
    pixel_size: float | None = None
    axes: str = "YX"
    metadata: dict[str, Any] = field(default_factory=dict)

    def save(self, path: PathLike) -> Path:
        """Write the prediction (float32, pixel size divided by the scale) atomically."""
        write_image(Path(path), self.image, self.axes, self.pixel_size, metadata={"microsr": self.metadata})
        return Path(path)

    def __repr__(self) -> str:
        return f"Prediction(x{self.scale}: {self.input.shape} -> {self.image.shape}, pixel size {self.pixel_size})"

    def _repr_html_(self) -> str:
        return thumbnails({"input": self.input, f"x{self.scale} prediction": self.image})


def as_image(image: PathLike | np.ndarray | ImageData, axes: str | None = None) -> ImageData:
    """An :class:`ImageData` from a file, an array (2-D YX or 3-D ZYX) or an ImageData."""
    if isinstance(image, ImageData):
        return image
    if isinstance(image, np.ndarray):
        if image.ndim not in (2, 3):
            raise InputError(None, f"an array image must be 2-D (YX) or 3-D (ZYX); got shape {image.shape}")
        return ImageData(image, axes or ("YX" if image.ndim == 2 else "ZYX"))
    return read_image(image)


def predict(
    model: PathLike | Model,
    image: PathLike | np.ndarray | ImageData,
    *,
    tile: int = TILE,
    overlap: int = OVERLAP,
    tta: bool | str = "auto",
    keep_range: bool = False,
    precision: str = "fp32",
    backend: str = "torch",
    normalization: str = "image",
) -> Prediction:
    """Super-resolve one image (a file, an ``ImageData`` or a 2-D/3-D array).

    ``model`` is a :class:`Model` from :func:`load_model` or a path it can load (a training run
    with its best weights, or a bioimage.io package). The options are those of ``microsr predict``
    (``docs/prediction.md``); ``tile`` and ``overlap`` are checked before the model is loaded.
    ``backend="onnx"`` runs a training run's network with ONNX Runtime on the CPU (exported once
    and cached, :mod:`microsr.export.backends`). ``normalization="training"`` normalises with the
    training images' intensity range instead of the image's own percentiles (training runs only,
    :mod:`microsr.modelcard.intensity`).
    """
    from microsr.inference.predict import predict_image
    from microsr.inference.tile_grid import check_tiling

    check_tiling(tile, overlap)
    loaded = load_model(model, device="cpu" if backend != "torch" and not isinstance(model, Model) else None)
    loaded = with_normalization(loaded, normalization)
    net = loaded.net
    if backend != "torch":
        from microsr.export.backends import with_backend

        if loaded.kind != "training run":
            raise InputError(
                loaded.source, "backend='onnx' is for training runs; packages: weight_format='onnx'"
            )
        net = with_backend(loaded.net, loaded.info, backend, precision=precision)
    data = as_image(image)
    out, meta = predict_image(
        net, loaded.info, data, tile=tile, overlap=overlap, tta=tta, keep_range=keep_range,
        precision=precision,
    )  # fmt: skip
    pixel = None if data.pixel_size is None else data.pixel_size / loaded.info.scale
    return Prediction(out, data.array, loaded.info.scale, pixel, data.axes, meta)
