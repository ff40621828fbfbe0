"""Errors that reach the user as one clear line.

Every problem with a user's input (a file, a folder, an option) is raised as :class:`InputError`
naming the offending path and the problem. The command line turns it into ``error: <path>: <problem>``
on stderr and exit code 2, with no traceback.
"""

from __future__ import annotations

from os import PathLike


def _one_line(text: str) -> str:
    return text.replace("\r", "\\r").replace("\n", "\\n")


class MicrosrError(Exception):
    """Base class of every error microsr raises on purpose."""


class InputError(MicrosrError):
    """Bad user input: a missing, corrupt or unsuitable file, folder or option.

    Parameters
    ----------
    path : str or PathLike or None
        The file or folder at fault (``None`` when the problem is an option, not a file).
    problem : str
        What is wrong, phrased for a microscopist, e.g. ``"HR is 510x512 but LR x2 needs 512x512"``.
    """

    def __init__(self, path: str | PathLike[str] | None, problem: str):
        # always one line, even when a file name or a value from a hostile file holds line breaks
        self.path = None if path is None else _one_line(str(path))
        self.problem = _one_line(problem)
        super().__init__(f"{self.path}: {self.problem}" if self.path else self.problem)

    def __reduce__(self):  # pickled with both arguments, so it can cross to and from worker processes
        return type(self), (self.path, self.problem)


class ConfigError(MicrosrError):
    """An invalid configuration (bad YAML, unknown key, out-of-range value)."""


class UnknownNameError(ConfigError, KeyError):
    """An unknown registry name (model, loss, discriminator); the message lists the known ones.

    It is a ``KeyError`` for code that looks names up, and a :class:`MicrosrError` so that the
    command line reports it as one line with exit code 2.
    """

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""
