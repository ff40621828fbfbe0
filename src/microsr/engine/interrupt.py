"""Ctrl-C during training: finish the current step, save the resume state, then stop.

A ``KeyboardInterrupt`` raised in the middle of ``optimizer.step()`` could leave the weights half
updated, and a checkpoint written then would not resume exactly. :class:`StopRequest` therefore
replaces the SIGINT handler while the loop runs: the first Ctrl-C only sets :attr:`requested`,
which the loop checks between steps (it then saves and raises ``KeyboardInterrupt``); a second
Ctrl-C interrupts at once, as usual. Outside the main thread (where Python allows no signal
handlers) it does nothing and Ctrl-C behaves as always.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any


class StopRequest:
    """Context manager; ``requested`` becomes True at the first SIGINT inside the ``with`` block."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: Any = None

    def _handler(self, signum: int, frame: FrameType | None) -> None:
        self.requested = True
        signal.signal(signal.SIGINT, signal.default_int_handler)  # a second Ctrl-C stops at once

    def __enter__(self) -> StopRequest:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handler)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
