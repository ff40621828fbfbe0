"""Training engine: :class:`TrainConfig` and :func:`train` (Lightning Fabric loop, exact resume).

Public API::

    from microsr.engine import TrainConfig, load_config, train
    cfg = load_config("train.yaml", {"steps": 2000, "data.batch_size": 8})
    run_folder = train(cfg)              # RUN/ with model.json, weights/best|last.safetensors, ...
"""

from __future__ import annotations

from pathlib import Path

from microsr.engine.config import TrainConfig, dump_config, load_config, make_config
from microsr.engine.progress import TrainCallback, TrainEvent


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
        Bad folders or images, a non-empty run folder without resume, resume without checkpoint.
    ConfigError
        Settings that cannot work together (e.g. half precision on the CPU).
    """
    from microsr.engine.data import prepare_data
    from microsr.engine.loop import run_training
    from microsr.engine.session import check_run_folder

    check_run_folder(config)
    return run_training(config, prepare_data(config), progress=progress, callback=callback)


__all__ = ["TrainCallback", "TrainConfig", "TrainEvent", "dump_config", "load_config", "make_config", "train"]
