"""Pixel losses (MSE, L1, Charbonnier, 1-SSIM, 1-MS-SSIM) and weighted sums of registered losses.

Every pixel loss compares the model's super-resolved image (``final_output(output)``, shape
(B, C, sH, sW)) with ``batch["hr"]``; multi-output models therefore get their ``final`` supervised.
``"ssim"`` and ``"ms-ssim"`` as *losses* mean ``1 - SSIM`` and ``1 - MS-SSIM`` (data range 1, the
range of normalised images).

Weighted sums are written as text, e.g. ``"mse+0.1*ssim"`` (DFCAN: MSE + 0.1 (1-SSIM)) or
``"0.8*l1+0.2*ms-ssim"``; :func:`build_loss` parses them. Terms may be any registered loss.

SSIM follows Wang et al. 2004 with the conventions of ``pytorch_msssim`` and scikit-image
(``gaussian_weights=True, use_sample_covariance=False``): Gaussian window of 11 px, sigma 1.5,
K1 = 0.01, K2 = 0.03, statistics over the *valid* region (no padding), mean over pixels, channels
and images.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from microsr.errors import ConfigError
from microsr.losses.registry import (
    LossFn,
    build_registered_loss,
    get_loss_factory,
    list_losses,
    register_loss,
)
from microsr.models.outputs import SROutput, final_output
from microsr.options import check_options, options_schema

MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


def gaussian_window(size: int = 11, sigma: float = 1.5, *, dtype=torch.float32, device=None) -> Tensor:
    """Normalised 1-D Gaussian window, shape (size,), centred on ``size // 2``."""
    coords = torch.arange(size, dtype=dtype, device=device) - size // 2
    g = torch.exp(-(coords**2) / (2 * sigma**2))
    return g / g.sum()


def _blur(x: Tensor, win: Tensor) -> Tensor:
    """Separable 'valid' Gaussian filtering of (B, C, H, W), each channel independently."""
    c = x.shape[1]
    k = win.numel()
    x = F.conv2d(x, win.view(1, 1, 1, k).expand(c, 1, 1, k), groups=c)
    return F.conv2d(x, win.view(1, 1, k, 1).expand(c, 1, k, 1), groups=c)


def _ssim_maps(x: Tensor, y: Tensor, data_range: float, win: Tensor) -> tuple[Tensor, Tensor]:
    """SSIM map and contrast-structure map, both (B, C, H - k + 1, W - k + 1)."""
    c1 = (0.01 * data_range) ** 2
    c2 = (0.03 * data_range) ** 2
    mu_x, mu_y = _blur(x, win), _blur(y, win)
    mu_xx, mu_yy, mu_xy = mu_x * mu_x, mu_y * mu_y, mu_x * mu_y
    sxx = _blur(x * x, win) - mu_xx
    syy = _blur(y * y, win) - mu_yy
    sxy = _blur(x * y, win) - mu_xy
    cs = (2 * sxy + c2) / (sxx + syy + c2)
    return ((2 * mu_xy + c1) / (mu_xx + mu_yy + c1)) * cs, cs


def _check_pair(x: Tensor, y: Tensor, min_side: int, what: str) -> None:
    if x.shape != y.shape or x.ndim != 4:
        raise ValueError(
            f"{what} needs two (B, C, H, W) tensors of one shape, got {tuple(x.shape)} and {tuple(y.shape)}"
        )
    if min(x.shape[-2:]) < min_side:
        raise ConfigError(
            f"{what} needs images of at least {min_side} px per side, got {x.shape[-2]}x{x.shape[-1]}; "
            "use bigger patches or another loss"
        )


def ssim_torch(x: Tensor, y: Tensor, data_range: float = 1.0, full: bool = False):
    """Differentiable SSIM of two image batches.

    Parameters
    ----------
    x, y : Tensor
        (B, C, H, W) images, H and W at least 11.
    data_range : float
        Dynamic range of the images (1.0 for normalised images).
    full : bool
        Also return the SSIM map.

    Returns
    -------
    Tensor or (Tensor, Tensor)
        Mean SSIM (scalar, averaged over pixels, channels and images); with ``full`` also the map of
        shape (B, C, H - 10, W - 10).
    """
    _check_pair(x, y, 11, "SSIM")
    win = gaussian_window(11, 1.5, dtype=x.dtype, device=x.device)
    ssim_map, _ = _ssim_maps(x, y, data_range, win)
    mean = ssim_map.mean()
    return (mean, ssim_map) if full else mean


def ms_ssim_torch(
    x: Tensor, y: Tensor, data_range: float = 1.0, weights: Sequence[float] = MS_SSIM_WEIGHTS
) -> Tensor:
    """Differentiable multi-scale SSIM (Wang et al. 2003), as in ``pytorch_msssim.ms_ssim``.

    Parameters
    ----------
    x, y : Tensor
        (B, C, H, W) images; the smaller side must exceed ``10 * 2 ** (levels - 1)`` (161 px for the
        default five levels).
    data_range : float
        Dynamic range of the images.
    weights : sequence of float
        Exponents of the scales (default: the five weights of the paper).

    Returns
    -------
    Tensor
        Scalar MS-SSIM averaged over channels and images.
    """
    levels = len(weights)
    _check_pair(x, y, 10 * 2 ** (levels - 1) + 1, f"MS-SSIM with {levels} scales")
    win = gaussian_window(11, 1.5, dtype=x.dtype, device=x.device)
    w = x.new_tensor(list(weights)).view(-1, 1, 1)
    mcs = []
    for i in range(levels):
        ssim_map, cs = _ssim_maps(x, y, data_range, win)
        if i < levels - 1:
            mcs.append(torch.relu(cs.flatten(2).mean(-1)))
            pad = [s % 2 for s in x.shape[2:]]
            x = F.avg_pool2d(x, kernel_size=2, padding=pad)
            y = F.avg_pool2d(y, kernel_size=2, padding=pad)
    ssim_pc = torch.relu(ssim_map.flatten(2).mean(-1))
    stack = torch.stack(mcs + [ssim_pc], dim=0)
    return torch.prod(stack**w, dim=0).mean()


def charbonnier(x: Tensor, y: Tensor, eps: float = 1e-3) -> Tensor:
    """Mean Charbonnier penalty ``sqrt((x - y)^2 + eps^2)``."""
    return torch.sqrt((x - y) ** 2 + eps * eps).mean()


def _pixel_loss(name: str, fn) -> LossFn:
    def loss(output: Tensor | SROutput, batch: dict[str, Tensor]) -> tuple[Tensor, dict[str, Tensor]]:
        value = fn(final_output(output), batch["hr"])
        return value, {name: value.detach()}

    loss.__name__ = f"{name}_loss"
    return loss


@register_loss("mse")
def mse_loss() -> LossFn:
    """Mean squared error between the output and ``batch["hr"]``."""
    return _pixel_loss("mse", F.mse_loss)


@register_loss("l1")
def l1_loss() -> LossFn:
    """Mean absolute error between the output and ``batch["hr"]``."""
    return _pixel_loss("l1", F.l1_loss)


@register_loss("charbonnier")
def charbonnier_loss(eps: float = 1e-3) -> LossFn:
    """Charbonnier loss ``mean(sqrt(d^2 + eps^2))`` (eps 1e-3, as in the geometry-prior seed)."""
    return _pixel_loss("charbonnier", lambda a, b: charbonnier(a, b, eps))


@register_loss("ssim")
def ssim_loss(data_range: float = 1.0) -> LossFn:
    """``1 - SSIM`` of the output against ``batch["hr"]``."""
    return _pixel_loss("ssim", lambda a, b: 1.0 - ssim_torch(a, b, data_range))


@register_loss("ms-ssim")
def ms_ssim_loss(data_range: float = 1.0) -> LossFn:
    """``1 - MS-SSIM`` of the output against ``batch["hr"]`` (HR patches above 160 px)."""
    return _pixel_loss("ms-ssim", lambda a, b: 1.0 - ms_ssim_torch(a, b, data_range))


class WeightedSum:
    """Weighted sum of losses; ``parts`` holds each term's unweighted value under its name.

    Parameters
    ----------
    terms : list of (str, float, loss)
        Name, weight and loss callable of each term.
    """

    def __init__(self, terms: list[tuple[str, float, LossFn]]):
        self.terms = terms

    def __call__(self, output, batch):
        total = None
        parts: dict[str, Tensor] = {}
        for name, weight, fn in self.terms:
            value, sub = fn(output, batch)
            total = weight * value if total is None else total + weight * value
            for key, part in sub.items():
                parts[key if key not in parts else f"{name}.{key}"] = part
        return total, parts

    def __repr__(self) -> str:
        return " + ".join(f"{w:g}*{n}" for n, w, _ in self.terms)


_TERM = re.compile(r"^\s*(?:(?P<w>[0-9]*\.?[0-9]+(?:[eE]-?[0-9]+)?)\s*\*\s*)?(?P<name>[A-Za-z][\w.-]*)\s*$")


def parse_loss_spec(spec: str) -> list[tuple[str, float]]:
    """Split ``"0.8*l1+0.2*ms-ssim"`` into ``[("l1", 0.8), ("ms-ssim", 0.2)]``.

    Raises
    ------
    ConfigError
        When a term is not ``[weight*]name``.
    """
    terms = []
    for raw in spec.split("+"):
        m = _TERM.match(raw)
        if not m:
            raise ConfigError(
                f"cannot read loss {spec!r}: term {raw.strip()!r} is not 'name' or 'weight*name' "
                "(example: 'mse+0.1*ssim')"
            )
        terms.append((m["name"], float(m["w"]) if m["w"] else 1.0))
    return terms


def check_loss(spec: str, options: dict | None = None) -> None:
    """Check a loss expression and the options of a single registered loss without building it.

    Raises
    ------
    ConfigError
        Unknown loss names (``UnknownNameError``), a malformed expression, or options that do not
        fit (options apply only to a single registered loss).
    """
    names = [spec] if spec in list_losses() else [name for name, _ in parse_loss_spec(spec)]
    factories = [get_loss_factory(name) for name in names]
    if options:
        if spec not in list_losses():
            raise ConfigError(f"loss options apply to a single registered loss, not to {spec!r}")
        check_options(f"loss {spec!r}", options_schema(factories[0], 0), options)


def build_loss(spec: str | list[tuple[str, float]], options: dict | None = None) -> LossFn:
    """Build a loss from a registered name, a weighted-sum expression or a list of (name, weight).

    Parameters
    ----------
    spec : str or list of (str, float)
        ``"mhtcun-cascade"`` (any registered name, used as is), ``"mse+0.1*ssim"``,
        ``"0.8*l1+0.2*ms-ssim"`` or ``[("l1", 0.8), ("ms-ssim", 0.2)]``.
    options : dict, optional
        Options of a single registered loss (e.g. ``{"eps": 1e-4}`` for ``"charbonnier"``).

    Returns
    -------
    LossFn
        ``loss(output, batch) -> (total, parts)``.

    Raises
    ------
    KeyError
        For an unknown loss name (the message lists the known ones).
    ConfigError
        For a malformed expression or a negative weight.
    """
    if isinstance(spec, str):
        check_loss(spec, options)
        if spec in list_losses():
            return build_registered_loss(spec, **(options or {}))
        terms = parse_loss_spec(spec)
    else:
        terms = [(str(n), float(w)) for n, w in spec]
    if not terms:
        raise ConfigError("empty loss specification")
    for name, weight in terms:
        if weight < 0:
            raise ConfigError(f"loss weight of {name!r} is negative ({weight})")
    if len(terms) == 1 and terms[0][1] == 1.0:
        return build_registered_loss(terms[0][0])
    return WeightedSum([(n, w, build_registered_loss(n)) for n, w in terms])


@register_loss("mse+0.1*ssim")
def dfcan_loss() -> LossFn:
    """DFCAN's loss: MSE + 0.1 (1 - SSIM) (Qiao et al. 2021)."""
    return WeightedSum([("mse", 1.0, mse_loss()), ("ssim", 0.1, ssim_loss())])
