"""Atomic file writing: write to a temporary name in the target folder, then ``os.replace``.

A reader (or a crash, or Ctrl-C) never sees a half-written file: either the old file (or nothing) is
there, or the complete new one. The temporary name starts with ``.`` so :func:`list_images` skips it,
and it keeps the target's extension because tifffile and Pillow pick the format from it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from os import PathLike
from pathlib import Path

from microsr.errors import InputError


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
    tmp = target.with_name(f".{target.stem}.{uuid.uuid4().hex[:12]}.tmp{target.suffix}")
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
