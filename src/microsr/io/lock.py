"""An exclusive lock on an output folder, so that two runs never write into the same one.

The lock is the ``filelock`` package's ``FileLock`` on ``FOLDER/.microsr.lock`` (an ``flock`` on
POSIX, which the kernel releases when its process dies, so a killed run never leaves a lock that
blocks the next one). Beside it, ``FOLDER/.microsr.lock.holder`` names the holder (command, process
id, host, start time) so that a refused run can say who holds the folder; it is removed on a clean
exit. A holder file found while the lock is free is therefore the mark of a run that was killed:
it is reported as a warning and replaced.
"""

from __future__ import annotations

import os
import socket
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from os import PathLike
from pathlib import Path

from filelock import FileLock, Timeout

from microsr.errors import InputError
from microsr.io.guard import check_writable

LOCK_NAME = ".microsr.lock"
HOLDER_NAME = ".microsr.lock.holder"


def _holder_text(what: str) -> str:
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime())
    return f"`microsr {what}` (process {os.getpid()} on {socket.gethostname()}, started {started})"


def _read(path: Path) -> str | None:
    try:
        return " ".join(path.read_text(encoding="utf-8").split())[:200] or None
    except (OSError, UnicodeDecodeError):
        return None


@contextmanager
def folder_lock(folder: str | PathLike[str], what: str) -> Iterator[Path]:
    """Hold the lock on ``folder`` (created if needed) for the duration of the block.

    Parameters
    ----------
    folder : path-like
        The output folder.
    what : str
        The command, for the holder note (e.g. ``"train"``).

    Raises
    ------
    InputError
        Another process holds the folder (the message names it), or the folder cannot be written.
    """
    folder = check_writable(folder)
    folder.mkdir(parents=True, exist_ok=True)
    holder = folder / HOLDER_NAME
    lock = FileLock(folder / LOCK_NAME, timeout=0)
    try:
        lock.acquire()
    except Timeout:
        who = _read(holder) or "another process"
        raise InputError(folder, f"in use by {who}; wait for it to finish or choose another folder") from None
    try:
        stale = _read(holder)
        if stale is not None:
            warnings.warn(
                f"{folder}: the previous run {stale} ended without releasing the folder "
                "(killed?); taking it over",
                UserWarning,
                stacklevel=3,
            )
        tmp = folder / f"{HOLDER_NAME}.{os.getpid()}"
        tmp.write_text(_holder_text(what) + "\n", encoding="utf-8")
        os.replace(tmp, holder)
        yield folder
    finally:
        holder.unlink(missing_ok=True)
        lock.release()
