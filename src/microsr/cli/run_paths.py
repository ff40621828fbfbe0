"""Data folders of a training run as absolute paths, so that a run folder resumes from anywhere.

``config.yaml`` stores the data folders absolute. A run written before that stored them as given,
relative to the directory training started in, which ``--resume`` cannot know; such a path is looked
up against the current directory, then against the run folder and each of its parents (a run folder
usually sits inside or beside the project that holds its data), and a path found nowhere is reported
as coming from ``config.yaml``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from microsr.errors import InputError

#: Folder fields of :class:`~microsr.engine.config.DataSection`.
DATA_DIRS = ("lr_dir", "hr_dir", "mask_dir", "val_lr_dir", "val_hr_dir", "val_mask_dir")


def _find_stored(path: Path, run: Path, config_file: Path) -> Path:
    """An absolute folder for a relative ``path`` read from a run's ``config.yaml``."""
    bases = [Path.cwd(), *[run.resolve(), *run.resolve().parents]]
    for base in bases:
        if (base / path).is_dir():
            return (base / path).resolve()
    raise InputError(
        path,
        f"folder not found (path from {config_file}, relative to the directory the run was started "
        "in); run the command from there or give the folder again (--lr, --hr, ...)",
    )


def absolute_data_dirs(cfg: Any, given: dict[str, Any], config_file: Path | None) -> Any:
    """``cfg`` with every data folder (and ``init_from``) absolute.

    Parameters
    ----------
    cfg : TrainConfig
        The validated config.
    given : dict
        The dotted overrides the command line gave (e.g. ``"data.lr_dir"``); those paths are taken
        relative to the current directory.
    config_file : Path or None
        The resumed run's ``config.yaml`` when the other paths came from it (else ``None``: a
        user's ``--config`` file, whose relative paths are relative to the current directory).
    """
    run = Path(cfg.out)
    data: dict[str, Path] = {}
    for key in DATA_DIRS:
        value = getattr(cfg.data, key)
        if value is None or Path(value).is_absolute():
            continue
        if config_file is not None and f"data.{key}" not in given:
            data[key] = _find_stored(Path(value), run, config_file)
        else:
            data[key] = Path(value).absolute()
    update: dict[str, Any] = {"data": cfg.data.model_copy(update=data)}
    if cfg.init_from is not None:
        update["init_from"] = Path(cfg.init_from).absolute()
    return cfg.model_copy(update=update)
