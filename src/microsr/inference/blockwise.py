"""Block-wise prediction of a lazy (Dask) image with :func:`dask.array.map_overlap`.

Every block of the input (the input's own chunks, or ``block`` x ``block`` pixels when asked) is
read together with a halo of ``halo`` LR pixels on each side that touches another block
(``boundary="none"``: at the image border nothing is added, exactly as the whole image ends there),
normalised with its *plane's* statistics (:mod:`microsr.inference.norm_stats`), super-resolved
with :func:`~microsr.inference.tiling.predict_tiled` (the same code, tile size and overlap as
in-process prediction) and cropped to its own ``s``-times larger footprint. Output chunks are
therefore ``s`` times the input chunks. When the halo is at least the model's receptive-field
radius, every output pixel sees exactly the input it would see in a whole-image run, so the result
equals in-process prediction up to float rounding.

The receptive-field radius is measured, not assumed: the gradient of one central output pixel
with respect to a random input shows which input pixels it depends on
(:func:`receptive_radius`). Models whose dependence reaches the probe's border (Fourier attention,
global pooling) are non-local; they get the tile overlap as halo and the blocks blend as tiles do.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from microsr.data.normalize import NormConfig, NormParams, apply_params
from microsr.inference.cluster import ModelRef, worker_model
from microsr.io import to_output_dtype

log = logging.getLogger("microsr.inference")

PROBE = 96


def _probe_input(model: Any, in_channels: int, probe: int) -> Any:
    """The seeded random ``probe`` px input both measurements below feed the model."""
    import torch

    from microsr.inference.tiling import model_device

    gen = torch.Generator().manual_seed(0)
    return torch.rand(1, in_channels, probe, probe, generator=gen).to(model_device(model))


def receptive_radius(
    model: Any, in_channels: int, scale: int, probe: int = PROBE, rel_threshold: float = 0.0
) -> int | None:
    """Receptive-field radius in LR pixels, or ``None`` when it reaches ``probe // 2`` (non-local).

    Measured as the support of the input's gradient of the centre output pixel on a random
    ``probe`` px input; with ``rel_threshold`` > 0 only where the gradient is at least that
    fraction of its maximum (the effective field: global operations reach everywhere with small
    weight, block-wise export keeps what matters).
    """
    import torch

    from microsr.models.outputs import final_output

    x = _probe_input(model, in_channels, probe).requires_grad_(True)
    c = probe // 2
    with torch.enable_grad():
        y = final_output(model(x))
        y[..., scale * c, scale * c].sum().backward()
    model.zero_grad(set_to_none=True)  # the probe leaves no gradients behind
    assert x.grad is not None
    g = x.grad.abs().sum(dim=(0, 1))
    rows, cols = torch.nonzero(g >= g.max() * rel_threshold if rel_threshold > 0 else g > 0, as_tuple=True)
    if rows.numel() == 0:
        return 0
    r = int(max((rows - c).abs().max(), (cols - c).abs().max()))
    return None if r >= c - 1 else r


def shift_period(model: Any, in_channels: int, scale: int, radius: int | None, probe: int = PROBE) -> int:
    """The smallest input shift (1, 2, 4 or 8 LR px) that shifts the output alike (1 if none does).

    Models that pool internally (U-Nets, encoder-decoders) are shift-equivariant only for shifts
    that are multiples of their pooling factor: a block read from an odd offset is predicted on
    another pooling grid than the whole image, and its output differs (up to 6 % of the range for
    ``care-unet-k3``). Measured on a random ``probe`` px input, away from the borders. Models
    whose output depends on the whole input (Fourier attention) match for no shift: 1, nothing to
    align to. ``radius``: the model's :func:`receptive_radius` (outputs that close to the probe's
    border are not compared).
    """
    import torch

    from microsr.models.outputs import final_output

    margin = scale * (probe // 4 if radius is None else radius)
    x = _probe_input(model, in_channels, probe)
    with torch.inference_mode():
        y0 = final_output(model(x))
        tol = 1e-5 * float(y0.abs().max())
        for a in (1, 2, 4, 8):
            y1 = final_output(model(x[..., a:, a:]))
            lo, hi, sa = margin + scale * a, scale * probe - margin, scale * a
            if (
                hi <= lo
                or float((y0[..., lo:hi, lo:hi] - y1[..., lo - sa : hi - sa, lo - sa : hi - sa]).abs().max())
                <= tol
            ):
                return a
    return 1


def align_up(n: int, period: int) -> int:
    """``n`` rounded up to a multiple of ``period``."""
    return -(-n // period) * period


def choose_halo(radius: int | None, overlap: int) -> int:
    """The halo: the receptive-field radius (at least 8 px), or the tile overlap for non-local models."""
    if radius is None:
        log.warning(
            "the model is non-local (its output depends on the whole input); blocks overlap by "
            "%d px and differ slightly from a whole-image prediction near block edges",
            overlap,
        )
        return max(overlap, 8)
    return max(radius, 8)


def axis_chunks(length: int, chunk: int, halo: int) -> tuple[int, ...]:
    """Chunks of ``chunk`` along an axis; a last chunk smaller than ``halo`` joins the one before."""
    sizes = [chunk] * (length // chunk) + ([length % chunk] if length % chunk else [])
    if len(sizes) > 1 and sizes[-1] < halo:
        last = sizes.pop()
        sizes[-1] += last
    return tuple(sizes)


def normalise_block(block: np.ndarray, params: dict[str, float], cfg: NormConfig) -> np.ndarray:
    """What :func:`microsr.data.normalize.normalize` does, with the plane's numbers."""
    clip = cfg.clip and cfg.kind in ("minmax", "percentile", "fixed")
    return apply_params(block, NormParams(**params), clip=clip)


def predict_block(
    block: np.ndarray,
    *,
    ref: ModelRef,
    params: dict[tuple[int, ...], dict[str, float]],
    nlead: int,
    halo: int,
    opts: dict[str, Any],
    keep_range: bool,
    block_info: dict | None = None,
) -> np.ndarray:
    """The ``map_overlap`` function: one haloed input block -> its output block (see module doc)."""
    from microsr.inference.stacks import norm_config
    from microsr.inference.tiling import predict_tiled

    if block_info is None:
        raise ValueError("run through dask map_overlap, which passes block_info")
    where = block_info[0]
    loc, nchunks = where["chunk-location"], where["num-chunks"]
    p = params[tuple(loc[:nlead])]
    model, info = worker_model(ref)
    s = info.scale
    x = normalise_block(block, p, norm_config(info))
    lead = block.shape[:nlead]
    plane = x.reshape((-1,) + x.shape[-2:]) if info.in_channels > 1 else x.reshape(x.shape[-2:])
    y = predict_tiled(model, plane, s, **opts)
    cut = []
    for ax in (-2, -1):
        lo = 0 if loc[ax] == 0 else halo
        hi = 0 if loc[ax] == nchunks[ax] - 1 else halo
        cut.append(slice(s * lo, s * (block.shape[ax] - hi)))
    y = y[..., cut[0], cut[1]]
    if keep_range:
        y = to_output_dtype(y, block.dtype, p)
    return y.reshape(lead + y.shape[-2:])


def prediction_array(
    array: Any,
    *,
    ref: ModelRef,
    scale: int,
    params: dict[tuple[int, ...], dict[str, float]],
    halo: int,
    block: tuple[int, int],
    whole_c: int | None,
    opts: dict[str, Any],
    keep_range: bool,
    out_dtype: np.dtype,
) -> Any:
    """The lazy output (Dask array) of a lazy input whose last two axes are Y, X.

    ``block`` is the (Y, X) block size in LR pixels (each at least ``halo``); leading axes are
    taken one plane at a time, except ``whole_c`` (the channel axis of a multi-channel model).
    """
    import dask.array as da

    nlead = array.ndim - 2
    chunks = tuple((n,) if i == whole_c else (1,) * n for i, n in enumerate(array.shape[:nlead]))
    chunks += tuple(axis_chunks(n, b, halo) for n, b in zip(array.shape[-2:], block))
    x = array.rechunk(chunks)
    out_chunks = chunks[:nlead] + tuple(tuple(scale * c for c in cs) for cs in chunks[nlead:])
    depth = {i: 0 for i in range(nlead)} | {nlead: halo, nlead + 1: halo}
    return da.map_overlap(
        predict_block,
        x,
        depth=depth,
        boundary="none",
        trim=False,
        chunks=out_chunks,
        dtype=out_dtype,
        meta=np.empty((0,) * array.ndim, dtype=out_dtype),
        ref=ref,
        params=params,
        nlead=nlead,
        halo=halo,
        opts=opts,
        keep_range=keep_range,
    )
