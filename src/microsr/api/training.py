"""Training from notebooks and scripts: :func:`train`, :func:`resume` and the :class:`TrainingRun`."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from microsr.api._display import PathLike, table
from microsr.engine import TrainCallback, load_config
from microsr.engine import train as _engine_train
from microsr.errors import InputError


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
        return table([info]) + table([self.validation], "last validation") + img


def train(
    lr: PathLike,
    hr: PathLike,
    out: PathLike,
    *,
    model: str | None = None,
    recipe: str | None = None,
    scale: int = 2,
    steps: int | None = 1000,
    tiny: bool = False,
    bicubic_residual: bool = False,
    settings: dict[str, Any] | None = None,
    progress: bool = True,
    callback: TrainCallback | None = None,
) -> TrainingRun:
    """Train on LR/HR folders into the new run folder ``out``, as ``microsr train`` does.

    With no ``model`` the recommended model trains with the ``budget`` recipe
    (:mod:`microsr.engine.budget`); a ``model`` alone trains at that architecture's own settings;
    ``recipe`` (``"budget"`` or ``"paper"``) applies a recipe to the ``model`` given.
    ``settings`` holds any other field of the training config as dotted keys, e.g.
    ``{"data.patch_size": 32, "data.batch_size": 8, "val_every": 50}`` (``docs/training.md``); they
    win over the recipe. ``callback(TrainEvent)`` is called after every step (live plots); returning
    True stops the run after saving its resume state (continue with :func:`resume`).
    """
    from microsr.engine.budget import chosen_recipe, recipe_overrides

    name = chosen_recipe(recipe, model)
    overrides: dict[str, Any] = {} if name is None else recipe_overrides(name, model, steps)
    overrides.update(
        {
            "out": str(out),
            "model.tiny": tiny,
            "scale": scale,
            "steps": steps,
            "data.lr_dir": str(lr),
            "data.hr_dir": str(hr),
        }
    )
    if model is not None:
        overrides["model.name"] = model
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
