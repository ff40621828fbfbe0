"""Loss registry.

A *loss* is a callable ``loss(output, batch) -> (total, parts)`` where ``output`` is what the model
returned (a tensor or an :class:`~microsr.models.outputs.SROutput`), ``batch`` is the training batch
(a dict with at least ``"lr"`` and ``"hr"`` tensors, optionally ``"mask"``), ``total`` is a scalar
tensor to back-propagate and ``parts`` maps names to detached scalar tensors for logging.

Losses are registered by name with a factory ``factory(**options) -> loss``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from torch import Tensor

from microsr.models.outputs import SROutput
from microsr.registry import Registry


class LossFn(Protocol):
    def __call__(
        self, output: Tensor | SROutput, batch: dict[str, Tensor]
    ) -> tuple[Tensor, dict[str, Tensor]]: ...


LossFactory = Callable[..., LossFn]
LOSSES: Registry[LossFactory] = Registry("loss", "losses")


def register_loss(name: str) -> Callable[[LossFactory], LossFactory]:
    """Decorator registering a loss factory under ``name``."""
    return LOSSES.register(name)


def list_losses(pattern: str = "*") -> list[str]:
    """Names of the registered losses matching ``pattern``, sorted."""
    return LOSSES.names(pattern)


def get_loss_factory(name: str) -> LossFactory:
    """The factory of ``name``; unknown names raise ``KeyError`` listing the known ones."""
    return LOSSES.get(name)


def build_registered_loss(name: str, **options: Any) -> LossFn:
    """Instantiate the registered loss ``name`` with ``options``."""
    return get_loss_factory(name)(**options)
