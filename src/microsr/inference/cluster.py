"""Where block-wise prediction runs: in-process, a local dask.distributed cluster, or a scheduler.

* default: Dask's synchronous scheduler in this process; PyTorch uses all cores inside each block
  and one block is in memory at a time;
* ``workers=N``: a :class:`distributed.LocalCluster` of N single-threaded worker processes, each
  running PyTorch with ``cores // N`` threads;
* ``scheduler=ADDRESS``: an existing scheduler (e.g. one started by dask-jobqueue on SLURM, see
  ``docs/large-data.md``); the workers must see the model folder and the input/output paths.

Each worker process loads the model once (:func:`worker_model` caches it per process), not once
per block.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from microsr.errors import InputError
from microsr.io.types import one_line

_MODELS: dict[Any, Any] = {}


@dataclass(frozen=True)
class ModelRef:
    """How a worker finds and runs the model (picklable, small)."""

    folder: str
    weights: str = "best"
    device: str = "cpu"
    threads: int = 0  # torch threads; 0 leaves PyTorch's default


def worker_model(ref: ModelRef) -> tuple[Any, Any]:
    """The model and its ``ModelInfo``, loaded on first use in this process and then reused."""
    if ref not in _MODELS:
        import torch

        from microsr.inference.model_io import load_model_folder

        if ref.threads > 0:
            torch.set_num_threads(ref.threads)
        remember(ref, *load_model_folder(ref.folder, weights=ref.weights, device=ref.device))  # type: ignore[arg-type]
    return _MODELS[ref]


def remember(ref: ModelRef, model: Any, info: Any) -> None:
    """Use an already loaded model for ``ref`` in this process (in-process runs load it once);
    kept with its batch norms folded, once for all blocks (see :mod:`microsr.inference.fusion`)."""
    from microsr.inference.fusion import fold_batch_norm

    _MODELS.clear()  # one model per process at a time
    _MODELS[ref] = (fold_batch_norm(model), info)


def cores() -> int:
    """CPU cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@contextmanager
def dask_client(workers: int | None = None, scheduler: str | None = None) -> Iterator[Any]:
    """Yield a ``distributed.Client`` (local cluster or ``scheduler``), or ``None`` for in-process.

    Raises
    ------
    InputError
        ``workers`` below 1, both options given, or a scheduler that cannot be reached.
    """
    if workers is not None and scheduler is not None:
        raise InputError(None, "give either --workers or --scheduler, not both")
    if workers is not None and workers < 1:
        raise InputError(None, f"--workers must be at least 1, got {workers}")
    if workers is None and scheduler is None:
        yield None
        return
    from distributed import Client, LocalCluster

    if scheduler is not None:
        try:
            client = Client(scheduler, timeout="5s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError(
                None, f"cannot reach the Dask scheduler at {scheduler} ({one_line(exc)})"
            ) from None
        with client:
            yield client
        return
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0")
    with cluster, Client(cluster) as client:
        yield client
