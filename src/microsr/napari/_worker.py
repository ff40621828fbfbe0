"""Long work off the UI thread: a napari thread worker with progress, cancel and a one-line outcome.

``Job(func, on_progress, on_finish)`` runs ``func(report, cancel)`` in a napari
:func:`~napari.qt.threading.create_worker` thread. ``report(value)`` is safe to call from that
thread (a queued Qt signal delivers ``value`` to ``on_progress`` on the UI thread); ``cancel`` is a
:class:`threading.Event` the work checks between tiles or steps (raise :class:`Cancelled`). Every
exception is caught in the worker and comes back as :class:`Outcome` ``error`` (one line), so a
failure never reaches napari's exception hook or takes the viewer down.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from qtpy.QtCore import QObject, Signal

from microsr.napari._layers import one_line


class Cancelled(Exception):
    """Raised inside the work when the user pressed Cancel."""


@dataclass
class Outcome:
    """How a job ended: ``value`` on success, else ``cancelled`` or a one-line ``error``."""

    value: Any = None
    error: str | None = None
    cancelled: bool = False


class _Relay(QObject):
    progress = Signal(object)


class Job:
    """One background run (see the module docstring); keep a reference while it runs."""

    def __init__(
        self,
        func: Callable[[Callable[[Any], None], threading.Event], Any],
        on_progress: Callable[[Any], None],
        on_finish: Callable[[Outcome], None],
    ):
        from napari.qt.threading import create_worker

        self.cancel_event = threading.Event()
        self._relay = _Relay()
        self._relay.progress.connect(on_progress)

        def body() -> Outcome:
            try:
                return Outcome(func(self._relay.progress.emit, self.cancel_event))
            except (Cancelled, KeyboardInterrupt):  # KeyboardInterrupt: training stopped and saved
                return Outcome(cancelled=True)
            except Exception as exc:  # shown as a notification, never raised into the viewer
                return Outcome(error=one_line(exc))

        self.worker = create_worker(body, _start_thread=False)
        self.worker.returned.connect(on_finish)
        self.worker.start()

    def cancel(self) -> None:
        """Ask the work to stop at its next check."""
        self.cancel_event.set()
