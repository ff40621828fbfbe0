"""Atomic file writing: write to a temporary name in the target folder, then ``os.replace``.

A reader (or a crash, or Ctrl-C) never sees a half-written file: either the old file (or nothing) is
there, or the complete new one. The temporary name starts with ``.`` so :func:`list_images` skips it,
and it keeps the target's extension because tifffile and Pillow pick the format from it.

Temporary names carry the writer's process id (``.NAME.<pid>-<hex>.tmp.EXT``, and
``.OUT.partial-<pid>-<hex>/`` for staged folders), so that the next run in the same place can tell
the leftovers of a killed run (their process is gone) from the work of a run still going:
:func:`remove_stale_temporaries` deletes the former. The test is for processes on this machine.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from os import PathLike
from pathlib import Path

import psutil

from microsr.errors import InputError

# .NAME.<pid>-<hex>.tmp[.EXT] and .NAME.partial-<pid>-<hex>; the forms without a process id are
# those written before it was recorded (always stale now).
_TEMPORARY = re.compile(
    r"^\..+\.(?:(?P<pid>\d+)-)?[0-9A-Za-z_]{6,}\.tmp(?:\.[A-Za-z0-9]+)?$"
    r"|^\..+\.partial-(?:(?P<ppid>\d+)-)?[0-9a-f]{6,}$"
)


def temporary_name(name: str, suffix: str = "") -> str:
    """A hidden temporary name for ``name`` in the same folder, tagged with this process's id."""
    return f".{name}.{os.getpid()}-{uuid.uuid4().hex[:12]}.tmp{suffix}"


def partial_name(name: str) -> str:
    """A hidden staging-folder name for the output folder ``name``, tagged with this process's id."""
    return f".{name}.partial-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def remove_stale_temporaries(folder: str | PathLike[str]) -> list[Path]:
    """Delete temporary files/folders in ``folder`` left by processes that no longer run.

    Returns the removed paths (nothing when ``folder`` does not exist).
    """
    d = Path(folder)
    if not d.is_dir():
        return []
    removed = []
    for entry in d.iterdir():
        m = _TEMPORARY.match(entry.name)
        if m is None:
            continue
        pid = m.group("pid") or m.group("ppid")
        if pid is not None and (int(pid) == os.getpid() or psutil.pid_exists(int(pid))):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed.append(entry)
    return removed


def check_not_protected(path: str | PathLike[str], protect: Iterable[str | PathLike[str]] = ()) -> Path:
    """Raise :class:`InputError` if ``path`` resolves to one of the ``protect`` paths.

    Parameters
    ----------
    path : path-like
        File about to be written.
    protect : iterable of path-like
        Input files that must never be overwritten (e.g. the images a prediction was made from).

    Returns
    -------
    Path
        ``path`` as a :class:`~pathlib.Path`.
    """
    target = Path(path)
    resolved = target.resolve()
    for p in protect:
        if Path(p).resolve() == resolved:
            raise InputError(target, "refusing to overwrite an input file; choose another output")
    return target


@contextmanager
def atomic_path(path: str | PathLike[str], protect: Iterable[str | PathLike[str]] = ()) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success move it onto ``path`` atomically.

    On any exception the temporary file is removed and the exception propagates; ``path`` is left
    untouched. The parent folder is created if needed.

    Parameters
    ----------
    path : path-like
        Final file name.
    protect : iterable of path-like
        Paths that must not be overwritten (see :func:`check_not_protected`).
    """
    target = check_not_protected(path, protect)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(temporary_name(target.stem, target.suffix))
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_text_atomic(
    path: str | PathLike[str], text: str, protect: Iterable[str | PathLike[str]] = ()
) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; returns the path."""
    target = Path(path)
    with atomic_path(target, protect) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return target
