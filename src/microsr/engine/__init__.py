"""Training engine: :class:`TrainConfig` and :func:`train` (Lightning Fabric loop, exact resume).

Public API::

    from microsr.engine import TrainConfig, load_config, train
    cfg = load_config("train.yaml", {"steps": 2000, "data.batch_size": 8})
    run_folder = train(cfg)              # RUN/ with model.json, weights/best|last.safetensors, ...
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from microsr.engine.config import TrainConfig, dump_config, load_config, make_config
from microsr.engine.progress import TrainCallback, TrainEvent
from microsr.io._atomic import remove_stale_temporaries
from microsr.io.guard import check_writable
from microsr.io.lock import LOCK_NAME, folder_lock


def train(config: TrainConfig, *, progress: bool = True, callback: TrainCallback | None = None) -> Path:
    """Train (or resume, with ``config.resume``) a model; returns the run folder.

    Parameters
    ----------
    config : TrainConfig
        The validated configuration (see ``docs/training.md``).
    progress : bool
        Show a progress bar and one line per validation (rank 0 only).
    callback : callable or None
        ``callback(TrainEvent)`` after every step (e.g. a live plot); returning True stops the
        run after saving its resume state, as Ctrl-C does (``KeyboardInterrupt`` is raised).

    Returns
    -------
    Path
        ``config.out``: ``config.yaml``, ``model.json``, ``weights/best.safetensors``,
        ``weights/last.safetensors``, ``checkpoint/last.pt``, ``log.csv``, ``loss_curves.png``,
        ``loss_curves_log.png``.

    Raises
    ------
    InputError
        Bad folders or images, a non-empty run folder without resume, resume without checkpoint,
        a folder that cannot be written, or one another run is writing into (the run folder is
        locked for the whole training, :mod:`microsr.io.lock`).
    ConfigError
        Settings that cannot work together (e.g. half precision on the CPU).
    """
    from microsr.engine.loop import run_training
    from microsr.engine.session import check_run_folder

    out = Path(config.out)
    check_run_folder(config)
    check_writable(out)  # before the data are read: a read-only place fails now, in one line
    run = lambda: run_training(config, _prepared(config), progress=progress, callback=callback)  # noqa: E731
    if int(os.environ.get("RANK", os.environ.get("SLURM_PROCID", "0"))) != 0:
        return run()  # data-parallel ranks > 0: rank 0 holds the lock
    created = not out.exists()
    try:
        with folder_lock(out, "train"):
            for folder in (out, out / "weights", out / "checkpoint"):
                remove_stale_temporaries(folder)  # of a killed run (e.g. .loss_curves.png.*.tmp)
            check_run_folder(config)  # again, now that no other run can change the folder
            return run()
    finally:
        if created:
            _remove_if_only_lock(out)


def _prepared(config: TrainConfig):
    """The training data of ``config``; where validation comes from is said in one line on stderr."""
    from microsr.engine.data import prepare_data

    data = prepare_data(config)
    message = data.summary.get("val_message")
    if message and int(os.environ.get("RANK", os.environ.get("SLURM_PROCID", "0"))) == 0:
        print(message, file=sys.stderr, flush=True)  # said even without a progress bar
    return data


def _remove_if_only_lock(folder: Path) -> None:
    """Delete a run folder this call created if a failure left nothing in it but the lock file."""
    if folder.is_dir() and {p.name for p in folder.iterdir()} <= {LOCK_NAME}:
        (folder / LOCK_NAME).unlink(missing_ok=True)
        folder.rmdir()


__all__ = ["TrainCallback", "TrainConfig", "TrainEvent", "dump_config", "load_config", "make_config", "train"]
