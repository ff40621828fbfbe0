"""One small registry of named things (models, discriminators, losses, metrics, image formats).

A :class:`Registry` maps names to objects. ``register`` is a decorator (or a plain call), ``get``
raises :class:`~microsr.errors.UnknownNameError` naming the known entries, and ``names`` lists them,
optionally filtered by a shell-style pattern (``"edsr*"``), in the manner of timm's
``list_models("resnet*")``. It lives at the bottom of the package (beside :mod:`microsr.errors`)
so that every layer, from ``io`` up, can keep its own registry of the same kind.

Written here rather than taken from a library: the maintained registries (timm's, mmengine's,
catalogue) come with their package's model zoo or config system; this is thirty lines.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from fnmatch import fnmatchcase
from typing import Generic, TypeVar, overload

from microsr.errors import UnknownNameError

T = TypeVar("T")


class Registry(Generic[T]):
    """Named entries of one kind.

    Parameters
    ----------
    kind : str
        What an entry is, in the singular (``"model"``); error messages say ``unknown model 'x';
        known models: a, b``.
    plural : str, optional
        The plural of ``kind`` when it is not ``kind + "s"`` (``"losses"``).
    """

    def __init__(self, kind: str, plural: str | None = None):
        self.kind = kind
        self.plural = plural or f"{kind}s"
        self._entries: dict[str, T] = {}

    @overload
    def register(self, name: str) -> Callable[[T], T]: ...

    @overload
    def register(self, name: str, entry: T) -> T: ...

    def register(self, name: str, entry: T | None = None) -> T | Callable[[T], T]:
        """Register ``entry`` under ``name``; without ``entry``, return a decorator doing so.

        Raises
        ------
        ValueError
            ``name`` is already registered (two entries silently shadowing each other is a bug).
        """

        def add(item: T) -> T:
            if name in self._entries:
                raise ValueError(
                    f"{self.kind} {name!r} is already registered; known {self.plural}: {self.names()}"
                )
            self._entries[name] = item
            return item

        return add if entry is None else add(entry)

    def get(self, name: str) -> T:
        """The entry of ``name``; an unknown name raises ``UnknownNameError`` listing the known ones."""
        try:
            return self._entries[name]
        except KeyError:
            known = ", ".join(self.names())
            raise UnknownNameError(f"unknown {self.kind} {name!r}; known {self.plural}: {known}") from None

    def names(self, pattern: str = "*") -> list[str]:
        """Registered names matching the shell-style ``pattern`` (case-sensitive), sorted."""
        return sorted(n for n in self._entries if fnmatchcase(n, pattern))

    def items(self) -> list[tuple[str, T]]:
        """``(name, entry)`` pairs sorted by name."""
        return sorted(self._entries.items())

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {self.names()})"
