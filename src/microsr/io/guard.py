"""Resource limits and output checks for untrusted input, applied before any work starts.

* **Declared size.** Every reader checks the size a file *declares* (TIFF series shape, PNG/JPEG
  header, MRC header) with :func:`check_pixels` before decoding it, so a small compressed file that
  declares 100000 x 100000 pixels is refused in one line instead of filling the memory. The limit
  is, in this order: :func:`set_max_pixels` (the command line's ``--max-pixels``), the
  ``MICROSR_MAX_PIXELS`` environment variable, or the available memory divided by
  :data:`BYTES_PER_PIXEL` (room for the file's values plus the float32 copies processing makes).
* **Memory estimates.** :func:`check_memory` refuses work (a model, a simulation, a degradation)
  whose estimated memory exceeds what is available, saying how much it would need.
* **Available memory** is the smallest of psutil's available memory, the process's address-space
  limit (``ulimit -v``) and the cgroup v2 ``memory.max`` of a container.
* **Writability.** :func:`check_writable` finds the nearest existing folder of an output path and
  checks that it can be written (permissions, read-only file system, broken or looping symbolic
  links) before a command reads or computes anything.
* **Numbers.** :func:`check_number` refuses NaN, infinities and values outside a range, for options
  that Python's ``float()`` parses from ``nan``, ``inf`` or ``1e300``.

psutil does the memory query (portable, maintained); the rest is a few comparisons.
"""

from __future__ import annotations

import math
import os
import resource
from collections.abc import Sequence
from os import PathLike
from pathlib import Path

import numpy as np
import psutil
from numpy.typing import DTypeLike

from microsr.errors import ConfigError, InputError

ENV_MAX_PIXELS = "MICROSR_MAX_PIXELS"
BYTES_PER_PIXEL = 16  # a value in its own dtype + float32 input, normalised and output copies
_override: int | None = None


def set_max_pixels(limit: int | None) -> None:
    """Set the pixel limit for this process (``None``: back to the environment / memory default)."""
    global _override
    if limit is not None and limit < 1:
        raise InputError(None, f"--max-pixels must be at least 1, got {limit}")
    _override = limit


def _cgroup_limit() -> int | None:
    try:
        text = Path("/sys/fs/cgroup/memory.max").read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def available_memory() -> int:
    """Bytes this process can still allocate (see module docstring)."""
    limits = [int(psutil.virtual_memory().available)]
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft != resource.RLIM_INFINITY:
        limits.append(max(0, soft - psutil.Process().memory_info().vms))
    cgroup = _cgroup_limit()
    if cgroup is not None:
        limits.append(cgroup)
    return min(limits)


def max_pixels() -> int:
    """The current limit on the number of values (pixels x channels x planes) of one input."""
    if _override is not None:
        return _override
    env = os.environ.get(ENV_MAX_PIXELS)
    if env:
        try:
            value = int(float(env))
        except (ValueError, OverflowError):
            raise ConfigError(f"{ENV_MAX_PIXELS}={env!r} is not a number of pixels") from None
        if value < 1:
            raise ConfigError(f"{ENV_MAX_PIXELS}={env!r} must be at least 1")
        return value
    return max(1, available_memory() // BYTES_PER_PIXEL)


def format_bytes(n: float) -> str:
    """``1536`` -> ``"1.5 KiB"``."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} PiB"


def check_pixels(path: str | PathLike[str] | None, shape: Sequence[int], dtype: DTypeLike) -> None:
    """Refuse an input that declares more values than :func:`max_pixels` (before decoding it).

    Raises
    ------
    InputError
        Naming the declared shape, the memory it would take and how to raise the limit.
    """
    dims = [int(d) for d in shape]
    if any(d < 0 for d in dims):
        raise InputError(path, f"declares an impossible shape {tuple(dims)}")
    n = math.prod(dims)  # Python int: no overflow for hostile headers
    limit = max_pixels()
    if n > limit:
        itemsize = np.dtype(dtype).itemsize if dtype is not None else 1
        size = "x".join(str(d) for d in dims)
        raise InputError(
            path,
            f"declares {size} {np.dtype(dtype) if dtype is not None else ''} ({n:,} values, "
            f"{format_bytes(n * itemsize)} decoded), over the limit of {limit:,} values "
            f"{_limit_source()}; raise it with --max-pixels N or {ENV_MAX_PIXELS}=N",
        )


def _limit_source() -> str:
    if _override is not None:
        return "set by --max-pixels"
    return f"set by {ENV_MAX_PIXELS}" if os.environ.get(ENV_MAX_PIXELS) else "set from the available memory"


def check_memory(need: float, what: str) -> None:
    """Refuse work estimated to need ``need`` bytes when less memory is available."""
    avail = available_memory()
    if need > avail:
        raise InputError(
            None,
            f"{what} would need about {format_bytes(need)} of memory, "
            f"but only {format_bytes(avail)} is available",
        )


def check_number(
    name: str,
    value: float | int | None,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
) -> None:
    """Refuse a non-finite option value or one outside ``[low, high]`` (``(low, high]`` if ``low_open``).

    ``None`` (an option that was not given) passes.
    """
    if value is None:
        return
    if isinstance(value, float) and not math.isfinite(value):
        raise InputError(None, f"{name} must be a finite number, got {value}")
    if low is not None and (value <= low if low_open else value < low):
        raise InputError(None, f"{name} must be {'>' if low_open else '>='} {low:g}, got {value:g}")
    if high is not None and value > high:
        raise InputError(None, f"{name} must be <= {high:g}, got {value:g}")


def check_writable(path: str | PathLike[str]) -> Path:
    """Check that ``path`` (a file or folder to create or fill) can be written; returns it.

    Raises
    ------
    InputError
        A broken or looping symbolic link on the way, an existing file where a folder is needed,
        or a folder without write permission / on a read-only file system.
    """
    p = Path(path)
    probe = Path(os.path.abspath(p))
    while True:
        if os.path.lexists(probe) and not os.path.exists(probe):
            raise InputError(p, f"{probe} is a broken symbolic link or a symbolic-link loop")
        if os.path.exists(probe) or probe.parent == probe:
            break
        probe = probe.parent
    target = Path(os.path.abspath(p))
    if probe == target and not probe.is_dir():
        folder = probe.parent  # an existing file: its folder is written (temporary name, rename)
    elif not probe.is_dir():
        raise InputError(p, f"{probe} is a file, not a folder")
    else:
        folder = probe
    if not os.access(folder, os.W_OK | os.X_OK):
        why = "read-only file system" if _read_only(folder) else "no permission to write"
        raise InputError(p, f"cannot write here: {why} in {folder}")
    return p


def _read_only(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        return False
