"""Model registry in the manner of timm/torchvision: every architecture is registered by name.

Every generator honours one contract: ``builder(in_channels, out_channels, scale, **options)``
returns an ``nn.Module`` that maps an LR tensor (B, in_channels, H, W) to (B, out_channels, scale*H,
scale*W), or to an :class:`~microsr.models.outputs.SROutput` whose ``final`` has that shape. Models
that work on the bicubic-upsampled grid (SRCNN, VDSR, DenseED, ...) do the bicubic upsampling
themselves, so callers always pass the LR image.

Discriminators (for adversarial training) live in a separate namespace of the same registry and
take ``(in_channels, **options)``.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from torch import nn

from microsr.registry import Registry

Builder = Callable[..., nn.Module]


@dataclass(frozen=True)
class ModelSpec:
    """What the rest of microsr needs to know about a registered architecture.

    Attributes
    ----------
    name : str
        Registry name, e.g. ``"dfcan"``.
    builder : callable
        ``builder(in_channels, out_channels, scale, **options) -> nn.Module``.
    input_grid : {"lr", "hr"}
        ``"hr"`` when the architecture works on the bicubic-upsampled grid (it upsamples inside).
    tiny : dict
        Options that build a small version of the same architecture for tests and CPU demos.
    default_loss : str
        Name of the loss in :mod:`microsr.losses` that the architecture's paper trains with.
    discriminator : str or None
        Registry name of the discriminator for adversarial models (``None`` otherwise).
    needs_mask : bool
        True when training needs a parsing map / mask per image (geometry prior, SFTGAN).
    mask_input : bool
        True when ``forward`` takes the parsing map as a second input, so prediction needs one too
        (``geometry-prior``, ``sftgan``; not ``geometry-prior-full``, which predicts its own map).
    trainable : bool
        False for interpolation baselines with no weights.
    global_skip : bool
        True when the architecture itself adds the bicubic-upsampled input to its output (VDSR,
        DnCNN, the geometry-prior networks), so ``bicubic_residual=True`` would add it twice.
    output_activation : {None, "sigmoid", "tanh"}
        Bounded activation of the output layer, if any (DFCAN/DFGAN: sigmoid, range (0, 1); the
        Noise2Noise U-Net: tanh, (-1, 1)).
    description : str
        One line for ``microsr models``.
    """

    name: str
    builder: Builder
    input_grid: Literal["lr", "hr"] = "lr"
    tiny: dict[str, Any] = field(default_factory=dict)
    default_loss: str = "mse"
    discriminator: str | None = None
    needs_mask: bool = False
    mask_input: bool = False
    trainable: bool = True
    global_skip: bool = False
    output_activation: Literal["sigmoid", "tanh"] | None = None
    description: str = ""


MODELS: Registry[ModelSpec] = Registry("model")
DISCRIMINATORS: Registry[Builder] = Registry("discriminator")


def register_model(name: str, **spec: Any) -> Callable[[Builder], Builder]:
    """Decorator registering ``builder`` under ``name`` with the :class:`ModelSpec` fields given."""

    def deco(builder: Builder) -> Builder:
        MODELS.register(name, ModelSpec(name=name, builder=builder, **spec))
        return builder

    return deco


def variant(
    cls: type[nn.Module], doc: str, *, fixed: dict[str, Any] | None = None, **defaults: Any
) -> Builder:
    """A builder of ``cls`` with other defaults for some options and others ``fixed`` (not options).

    Its signature, the one :mod:`microsr.options` reads the typed options from, is ``cls``'s without
    the ``fixed`` parameters and with ``defaults`` in place of the class's own, so the options are
    written once, on the class (EDSR and EDSR-baseline, DFCAN and DFGAN, DenseED's block counts).
    """
    fixed = dict(fixed or {})
    sig = inspect.signature(cls)
    unknown = sorted((set(defaults) | set(fixed)) - set(sig.parameters))
    if unknown:
        raise TypeError(f"{cls.__qualname__} has no option {unknown[0]!r}")
    params = [
        p.replace(default=defaults.get(p.name, p.default))
        for p in sig.parameters.values()
        if p.name not in fixed
    ]
    sig = sig.replace(parameters=params, return_annotation=nn.Module)

    def build(*args: Any, **options: Any) -> nn.Module:
        bound = sig.bind(*args, **options)
        bound.apply_defaults()
        return cls(*bound.args, **bound.kwargs, **fixed)

    hints = typing.get_type_hints(cls.__init__)
    build.__annotations__ = {k: v for k, v in hints.items() if k not in fixed} | {"return": nn.Module}
    build.__signature__ = sig  # type: ignore[attr-defined]
    build.__doc__ = doc
    build.__name__ = build.__qualname__ = f"{cls.__name__}_variant"
    build.__module__ = cls.__module__  # where an exported package finds the architecture's source
    return build


def register_discriminator(name: str) -> Callable[[Builder], Builder]:
    """Decorator registering a discriminator builder ``(in_channels, **options) -> nn.Module``."""
    return DISCRIMINATORS.register(name)


def list_models(pattern: str = "*") -> list[str]:
    """Names of the registered generators matching ``pattern`` (e.g. ``"edsr*"``), sorted."""
    return MODELS.names(pattern)


def list_discriminators(pattern: str = "*") -> list[str]:
    """Names of the registered discriminators matching ``pattern``, sorted."""
    return DISCRIMINATORS.names(pattern)


def get_spec(name: str) -> ModelSpec:
    """The :class:`ModelSpec` of ``name``; unknown names raise ``KeyError`` listing the known ones."""
    return MODELS.get(name)


def create_model(
    name: str,
    in_channels: int = 1,
    out_channels: int = 1,
    scale: int = 2,
    *,
    tiny: bool = False,
    bicubic_residual: bool = False,
    **options: Any,
) -> nn.Module:
    """Build a registered model.

    Parameters
    ----------
    name : str
        Registry name (see :func:`list_models`).
    in_channels, out_channels : int
        Image channels in and out (1 for grayscale microscopy).
    scale : int
        Up-sampling factor; the output is ``scale`` times the input in Y and X.
    tiny : bool
        Start from the architecture's small preset (``ModelSpec.tiny``); ``options`` override it.
    bicubic_residual : bool
        Add the bicubic-upsampled input to the output (:mod:`microsr.models.residual`): the network
        learns only the correction to bicubic. Needs ``in_channels == out_channels``; refused for
        architectures that already have such a skip (``ModelSpec.global_skip``) and for those with
        a sigmoid output, which cannot be negative and so cannot correct bicubic downwards (tried:
        DFCAN's output then saturated at 0 and stayed exactly bicubic).
    **options
        Architecture options (width, depth, ...), documented by each builder.
    """
    spec = get_spec(name)
    if bicubic_residual:
        why = residual_refusal(spec)
        if why:
            raise ValueError(f"bicubic_residual: model {name!r} {why}")
        if in_channels != out_channels:
            raise ValueError(
                f"bicubic_residual needs in_channels == out_channels, got {in_channels}, {out_channels}"
            )
    kwargs = {**(spec.tiny if tiny else {}), **options}
    model = spec.builder(in_channels, out_channels, scale, **kwargs)
    if bicubic_residual:
        from microsr.models.residual import BicubicResidual

        model = BicubicResidual(model, scale)
    return model


def residual_refusal(spec: ModelSpec) -> str | None:
    """Why ``bicubic_residual=True`` is refused for this architecture, or None if it is allowed."""
    if not spec.trainable:
        return "has no weights"
    if spec.global_skip:
        return "already adds the bicubic image to its output"
    if spec.output_activation == "sigmoid":
        return "ends in a sigmoid, whose output cannot be negative, so it cannot correct bicubic downwards"
    return None


def create_discriminator(name: str, in_channels: int = 1, **options: Any) -> nn.Module:
    """Build a registered discriminator; unknown names raise ``KeyError`` listing the known ones."""
    return DISCRIMINATORS.get(name)(in_channels, **options)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
