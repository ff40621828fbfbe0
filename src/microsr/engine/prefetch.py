"""Training batches prepared ahead of the step, in ``torch.utils.data.DataLoader`` worker processes.

Step ``s`` of the loop trains on ``batcher.batch(i)`` with ``i = s * world_size + rank``, a pure
function of the seed and ``i``. :func:`batch_feed` hands the loop exactly that sequence: with
``workers = 0`` it calls the batcher in the training process, step by step; with ``workers > 0``
a DataLoader (``batch_size=None``, the indices of the remaining steps as its sampler, in order)
computes the next ``prefetch * workers`` batches in worker processes while the current step
trains. Either way the batches and their order are the same, so a resumed run (which starts the
sequence at its first missing step) trains on exactly the batches of an uninterrupted one, and a
batch drawn ahead but never trained on (Ctrl-C, a crash, early stopping) is simply dropped.

Only batchers that declare ``pure = True`` (``batch(i)`` depends on nothing but the seed and
``i`` and has no side effects, like :class:`microsr.data.batches.PatchBatcher`) are moved to
worker processes; any other batcher runs in the training process, at the moment its step needs
it, as before. Workers ignore SIGINT: a Ctrl-C in a terminal reaches the whole process group, and
the training process alone decides to finish its step, save and stop
(:mod:`microsr.engine.interrupt`). An error raised while preparing a batch is raised by the loop
at the step that needed that batch, with its own type and message.

Training that runs on a thread other than the main one (the napari Train widget's worker, a
notebook's background run) prepares its batches in its own process: torch's DataLoader answers a
worker's exit with an exception raised from a SIGCHLD handler on the main thread, which there is
the GUI's event loop, and forking a process whose other threads run Qt is unsafe. The batches are
the same either way.

Processes rather than a background thread: a batcher with side effects run on a thread ahead of
its step would act early (a thread cannot be told apart from the training process), while worker
processes only ever run pure batchers, and their Python work does not share the step's interpreter.
"""

from __future__ import annotations

import copy
import pickle
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from torch import Tensor
from torch.utils.data import DataLoader, Dataset

from microsr.engine.data import Batcher

PREFETCH = 2  # batches each worker prepares ahead


class _Raised:
    """An exception raised in a worker, carried to the training process to be raised there."""

    def __init__(self, exc: Exception) -> None:
        try:  # dumps: the class is importable by name; deepcopy: rebuilt from its reduce tuple
            pickle.dumps(exc)
            copy.deepcopy(exc)
            self.exc: Exception = exc
        except Exception:  # an exception that cannot cross processes keeps its type name and text
            self.exc = RuntimeError(f"{type(exc).__name__}: {exc}")


class _Batches(Dataset):
    """Map-style view of a batcher: item ``i`` is ``batcher.batch(i)`` (or the error it raised)."""

    def __init__(self, batcher: Batcher) -> None:
        self.batcher = batcher

    def __getitem__(self, index: int) -> Any:
        try:
            return self.batcher.batch(index)
        except Exception as exc:
            return _Raised(exc)


def _ignore_sigint(_worker_id: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def runs_ahead(batcher: Batcher, workers: int) -> bool:
    """Whether :func:`batch_feed` prepares this batcher's batches in worker processes."""
    on_main_thread = threading.current_thread() is threading.main_thread()
    return workers > 0 and bool(getattr(batcher, "pure", False)) and on_main_thread


@contextmanager
def batch_feed(
    batcher: Batcher, indices: range, *, workers: int = 0
) -> Iterator[Iterator[dict[str, Tensor]]]:
    """Yield an iterator over ``batcher.batch(i)`` for ``i`` in ``indices``, in order.

    Parameters
    ----------
    batcher : Batcher
        Moved to ``workers`` processes when it declares ``pure = True`` (see the module docstring).
    indices : range
        Batch indices of the steps still to train (``range(start * W + rank, total * W, W)``).
    workers : int
        DataLoader worker processes (0: in the training process).
    """
    if not runs_ahead(batcher, workers) or len(indices) == 0:
        yield (batcher.batch(i) for i in indices)
        return
    loader = DataLoader(
        _Batches(batcher),
        batch_size=None,
        sampler=indices,
        num_workers=min(workers, len(indices)),
        prefetch_factor=PREFETCH,
        worker_init_fn=_ignore_sigint,
    )
    it = iter(loader)

    def batches() -> Iterator[dict[str, Tensor]]:
        for item in it:
            if isinstance(item, _Raised):
                raise item.exc
            yield item

    try:
        yield batches()
    finally:
        shutdown = getattr(it, "_shutdown_workers", None)
        if shutdown is not None:
            shutdown()
