"""The Python API for notebooks and scripts: :func:`train`, :func:`predict`, :func:`evaluate`.

Each call wraps the same machinery as the command line (``microsr train / predict / evaluate``)
and returns an object that shows itself as a table and thumbnails in Jupyter (``_repr_html_``)
and as one line in a terminal. It sits on top of every other layer, beside the CLI.

Example::

    import microsr
    run = microsr.train("data/lr", "data/hr", "run", model="dfcan", steps=500)
    run                                    # table of validation metrics + loss curves
    sr = microsr.predict(run, "new/cell.tif")
    microsr.evaluate(sr, "new/cell_hr.tif", lr="new/cell.tif")
"""

from __future__ import annotations

import csv
import html
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from microsr.engine import TrainCallback, load_config
from microsr.engine import train as _engine_train
from microsr.errors import InputError
from microsr.io import ImageData, read_image, write_image

PathLike = str | os.PathLike[str]


def _table(rows: list[dict[str, Any]], caption: str = "") -> str:
    """An HTML table of ``rows`` (columns of the first row; floats with 4 significant digits)."""
    if not rows:
        return ""
    cols = list(rows[0])

    def cell(v: Any) -> str:
        return f"{v:.4g}" if isinstance(v, float) else html.escape(str(v))

    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = "".join("<tr>" + "".join(f"<td>{cell(r.get(c, ''))}</td>" for c in cols) + "</tr>" for r in rows)
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _thumbs(images: dict[str, np.ndarray]) -> str:
    from microsr.evaluation.figures import display_range, gray_thumbnail

    cells = []
    for name, img in images.items():
        plane = np.asarray(img, dtype=np.float64).reshape(-1, *img.shape[-2:])[0]
        uri = gray_thumbnail(plane, display_range(plane))
        cells.append(
            f'<figure style="display:inline-block;margin:4px"><img src="{uri}" width="256" '
            f'style="image-rendering:pixelated"><figcaption>{html.escape(name)} {img.shape}</figcaption></figure>'
        )
    return "<div>" + "".join(cells) + "</div>"


@dataclass
class TrainingRun:
    """A finished (or stopped) training run; ``folder`` is a model folder for :func:`predict`."""

    folder: Path

    @property
    def model_json(self) -> dict[str, Any]:
        from microsr.modelcard import read_model_json

        return read_model_json(self.folder)

    @property
    def log(self) -> list[dict[str, str]]:
        """Rows of ``log.csv`` (``phase`` ``train`` or ``val``), as strings."""
        path = self.folder / "log.csv"
        if not path.is_file():
            return []
        with path.open(newline="", encoding="utf-8") as fh:
            return list(csv.DictReader(fh))

    @property
    def validation(self) -> dict[str, Any]:
        """The last validation of ``model.json`` (step, val_loss, psnr, ssim, best_step...)."""
        return dict(self.model_json.get("validation") or {})

    def plot_losses(self):
        """Training and validation loss against the step; a matplotlib Figure (shown inline)."""
        from microsr.evaluation.figures import loss_curves_from_log

        return loss_curves_from_log(self.folder / "log.csv")

    def __fspath__(self) -> str:
        return str(self.folder)

    def __repr__(self) -> str:
        v = self.validation
        name = self.model_json["architecture"]["name"]
        return (
            f"TrainingRun({str(self.folder)!r}, model={name!r}, step={v.get('step')}, psnr={v.get('psnr')})"
        )

    def _repr_html_(self) -> str:
        from microsr.evaluation.figures import file_uri

        arch = self.model_json["architecture"]
        info = {
            "folder": str(self.folder),
            "model": arch["name"],
            "scale": arch["scale"],
            "tiny": arch["tiny"],
        }
        curves = self.folder / "loss_curves.png"
        img = f'<img src="{file_uri(curves)}" width="480">' if curves.is_file() else ""
        return _table([info]) + _table([self.validation], "last validation") + img


def train(
    lr: PathLike,
    hr: PathLike,
    out: PathLike,
    *,
    model: str = "dfcan",
    scale: int = 2,
    steps: int | None = 1000,
    tiny: bool = False,
    bicubic_residual: bool = False,
    settings: dict[str, Any] | None = None,
    progress: bool = True,
    callback: TrainCallback | None = None,
) -> TrainingRun:
    """Train ``model`` on LR/HR folders into the new run folder ``out``.

    ``settings`` holds any other field of the training config as dotted keys, e.g.
    ``{"data.patch_size": 32, "data.batch_size": 8, "val_every": 50}`` (``docs/training.md``).
    ``callback(TrainEvent)`` is called after every step (live plots); returning True stops the run
    after saving its resume state (continue with :func:`resume`).
    """
    overrides: dict[str, Any] = {
        "out": str(out),
        "model.name": model,
        "model.tiny": tiny,
        "scale": scale,
        "steps": steps,
        "data.lr_dir": str(lr),
        "data.hr_dir": str(hr),
    }
    if bicubic_residual:
        overrides["model.options.bicubic_residual"] = True
    overrides.update(settings or {})
    return TrainingRun(
        Path(_engine_train(load_config(None, overrides), progress=progress, callback=callback))
    )


def resume(
    run: PathLike, *, steps: int | None = None, progress: bool = True, callback: TrainCallback | None = None
) -> TrainingRun:
    """Continue a stopped run exactly where its resume state left it (optionally to more ``steps``)."""
    folder = Path(run)
    if not (folder / "config.yaml").is_file():
        raise InputError(folder, "not a training run folder (config.yaml is missing)")
    cfg = load_config(folder / "config.yaml", {"resume": True, "steps": steps})
    return TrainingRun(Path(_engine_train(cfg, progress=progress, callback=callback)))


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
        return _thumbs({"input": self.input, f"x{self.scale} prediction": self.image})


def _as_image(image: PathLike | np.ndarray | ImageData, axes: str | None = None) -> ImageData:
    if isinstance(image, ImageData):
        return image
    if isinstance(image, np.ndarray):
        if image.ndim not in (2, 3):
            raise InputError(None, f"an array image must be 2-D (YX) or 3-D (ZYX); got shape {image.shape}")
        return ImageData(image, axes or ("YX" if image.ndim == 2 else "ZYX"))
    return read_image(image)


def predict(
    model: PathLike,
    image: PathLike | np.ndarray | ImageData,
    *,
    tile: int = 256,
    overlap: int = 32,
    tta: bool = False,
    keep_range: bool = False,
    weights: str = "best",
    device: str | None = None,
) -> Prediction:
    """Super-resolve one image (a file, an ``ImageData`` or a 2-D/3-D array) with a model folder."""
    from microsr.inference.predict import predict_image
    from microsr.modelcard import load_model_folder

    net, info = load_model_folder(model, weights=weights, device=device)  # type: ignore[arg-type]
    data = _as_image(image)
    out, meta = predict_image(net, info, data, tile=tile, overlap=overlap, tta=tta, keep_range=keep_range)
    pixel = None if data.pixel_size is None else data.pixel_size / info.scale
    return Prediction(out, data.array, info.scale, pixel, data.axes, meta)


@dataclass
class Evaluation:
    """Scores of a prediction (and of bicubic up-sampling of the LR, when given) against GT."""

    rows: list[dict[str, Any]]
    ssim_map: np.ndarray
    error_map: np.ndarray

    def __getitem__(self, method: str) -> dict[str, Any]:
        return next(r for r in self.rows if r["method"] == method)

    def __repr__(self) -> str:
        return (
            "Evaluation("
            + "; ".join(f"{r['method']}: PSNR {r['psnr']:.2f} dB, SSIM {r['ssim']:.4f}" for r in self.rows)
            + ")"
        )

    def _repr_html_(self) -> str:
        cols = ("method", "psnr", "ssim", "nrmse", "data_range", "fit_a", "fit_b")
        table = _table([{c: r.get(c) for c in cols} for r in self.rows], "PSNR (dB), SSIM, NRMSE against GT")
        return table + _thumbs({"SSIM map": self.ssim_map, "absolute error": self.error_map})


def _plane(x: PathLike | np.ndarray | Prediction | ImageData) -> np.ndarray:
    if isinstance(x, Prediction):
        x = x.image
    arr = _as_image(x).array if not isinstance(x, np.ndarray) else x
    if arr.ndim != 2:
        raise InputError(None, f"evaluate takes 2-D images; got shape {arr.shape}")
    return np.asarray(arr, dtype=np.float64)


def evaluate(
    pred: PathLike | np.ndarray | Prediction,
    gt: PathLike | np.ndarray,
    *,
    lr: PathLike | np.ndarray | None = None,
    fit: str = "affine",
    data_range: float | None = None,
    crop_border: int = 0,
) -> Evaluation:
    """PSNR/SSIM/NRMSE of ``pred`` (and bicubic of ``lr``) against ``gt``, plus SSIM and error maps.

    ``fit="affine"`` (default) rescales each prediction to the GT's intensities by least squares
    first, because a network's output is in normalised units; ``data_range`` ``None`` is the GT's
    ``max - min``. The conventions are those of ``microsr evaluate`` (``docs/qc.md``).
    """
    from microsr.evaluation import maps
    from microsr.evaluation.evaluate import bicubic_baseline, evaluate_pair

    g, p = _plane(gt), _plane(pred)
    try:
        rows = [
            {
                "method": "model",
                **evaluate_pair(g, p, fit=fit, data_range=data_range, crop_border=crop_border),
            }
        ]
        if lr is not None:
            low = _plane(lr)
            up = bicubic_baseline(low, g.shape[-1] // low.shape[-1])
            score = evaluate_pair(g, up, fit=fit, data_range=data_range, crop_border=crop_border)
            rows.append({"method": "bicubic", **score})
        fitted = maps.fit_scale(p, g)[0] if fit == "affine" else p
        smap = maps.ssim_map(g, fitted, data_range=rows[0]["data_range"])[1]
    except ValueError as exc:
        raise InputError(None, str(exc)) from None
    return Evaluation(rows, smap, maps.abs_error_map(g, p, fit=fit == "affine"))
