"""``microsr predict`` for large images: OME-Zarr or TIFF in, an OME-Zarr pyramid out, block-wise.

Order of work, so that a bad command writes nothing and an interrupted one can be resumed:

1. check everything (model, input metadata, level, block/halo sizes, output name, scheduler);
2. normalisation statistics of every plane, once for the whole image
   (:mod:`microsr.inference.norm_stats`);
3. the output is built in a hidden sibling store ``.NAME.partial``: every finished level-0 block
   is stored (it fills whole output chunks, so parallel writers never share a chunk) and then
   marked done by an empty file in ``.NAME.partial/.microsr-done/``;
4. the smaller pyramid levels and the NGFF metadata are written and the store is renamed to
   ``NAME``; it appears only when complete.

``resume=True`` continues a ``.NAME.partial`` left by an interrupted run with the same model,
input and settings (checked against the job description stored in it), computing only the blocks
not marked done; the result equals an uninterrupted run because every block is a pure function of
the input, the model and the plane statistics (which are stored, not recomputed).
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from microsr.errors import InputError
from microsr.inference.blockwise import (
    align_up,
    choose_halo,
    prediction_array,
    receptive_radius,
    shift_period,
)
from microsr.inference.cluster import ModelRef, cores, dask_client, remember
from microsr.inference.norm_stats import plane_stats
from microsr.inference.stacks import norm_config, output_dtype
from microsr.inference.tile_grid import OVERLAP, TILE
from microsr.inference.tiling import check_tiling, model_device
from microsr.inference.tta import resolve_tta
from microsr.io import zarr_out
from microsr.io.guard import check_writable
from microsr.io.lazy import LazyImage, open_lazy

DONE = ".microsr-done"


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of a file, read in 1 MiB pieces."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for piece in iter(lambda: f.read(1 << 20), b""):
            h.update(piece)
    return h.hexdigest()


def _block_size(image: LazyImage, block: int | None, halo: int) -> tuple[int, int]:
    """The (Y, X) block edge: ``block`` or the input's chunks, refused when below the halo."""
    if block is not None:
        if block < halo:
            raise InputError(None, f"--block {block} is smaller than the model's halo ({halo} px)")
        return block, block
    cy, cx = (image.array.chunks[i][0] for i in (-2, -1))
    h, w = image.array.shape[-2:]
    if min(cy, h) < halo or min(cx, w) < halo:
        raise InputError(
            image.path,
            f"chunks of {cy}x{cx} pixels are smaller than the model's halo ({halo} px); "
            f"give --block N with N >= {halo} to predict in larger blocks",
        )
    return cy, cx


def _block_geometry(
    model: Any, info: Any, image: LazyImage, block: int | None, overlap: int
) -> tuple[int, tuple[int, int]]:
    """The halo and the (Y, X) block edge, both multiples of the model's shift period, so that every
    block starts on the model's pooling grid and matches the whole image (:func:`shift_period`)."""
    radius = receptive_radius(model, info.in_channels, info.scale)
    period = shift_period(model, info.in_channels, info.scale, radius)
    halo = align_up(choose_halo(radius, overlap), period)
    by, bx = (align_up(b, period) for b in _block_size(image, block, halo))
    return halo, (by, bx)


def _store_block(values: np.ndarray, path: str, region: tuple[slice, ...], marker: str) -> int:
    """Write one finished block into level 0, then mark it done (runs on a worker)."""
    zarr_out.open_level(path, 0)[region] = values
    Path(marker).touch()
    return 1


def _regions(chunks: tuple[tuple[int, ...], ...]) -> list[tuple[tuple[int, ...], tuple[slice, ...]]]:
    """(block index, region) for every block of an array with these chunks."""
    starts = [np.concatenate([[0], np.cumsum(c)]) for c in chunks]
    out = []
    for idx in np.ndindex(*[len(c) for c in chunks]):
        out.append((idx, tuple(slice(int(s[i]), int(s[i + 1])) for s, i in zip(starts, idx))))
    return out


def _prepare_output(out: Path, src: Path, resume: bool, job: dict[str, Any]) -> tuple[Path, bool]:
    """The working store and whether it is resumed; refuses existing outputs and mismatched jobs."""
    if out.resolve() == src.resolve():
        raise InputError(out, "refusing to overwrite the input; choose another --output")
    if out.exists():
        raise InputError(out, "output exists; choose another --output or delete it")
    part = out.with_name(f".{out.name}.partial")  # hidden sibling: see the module docstring
    if part.exists() and not resume:
        raise InputError(
            part, "an interrupted prediction left this; add --resume to continue it, or delete it"
        )
    if part.exists():
        import zarr

        try:
            attrs: dict[str, Any] = dict(zarr.open_group(str(part), mode="r").attrs)
            old = attrs.get("microsr", {}).get("job")
        except Exception:
            old = None
        if old != job:
            raise InputError(part, "cannot resume: it was started with another model, input or settings")
        return part, True
    return part, False


def _whole_channel_axis(info: Any, image: LazyImage) -> int | None:
    """The ``C`` axis a multi-channel model takes whole (``None`` for single-channel models)."""
    if info.in_channels == 1:
        return None
    if "C" not in image.axes or image.array.shape[image.axes.index("C")] != info.in_channels:
        raise InputError(
            image.path, f"model {info.name!r} takes {info.in_channels} channels; image has axes {image.axes}"
        )
    return image.axes.index("C")


def _provenance(info: Any, cfg: Any, params: dict, job: dict[str, Any], keep_range: bool) -> dict[str, Any]:
    """The ``microsr`` attributes of the output: version, model, weights hash, normalisation."""
    from microsr import __version__

    return {
        "version": __version__,
        "model": info.name,
        "model_folder": str(info.folder),
        "weights": info.weights.name,
        "weights_sha256": job["weights_sha256"],
        "scale": info.scale,
        "units": "input" if keep_range else "normalised",
        "normalization": cfg.model_dump(),
        "norm_params": [[list(k), v] for k, v in params.items()],
        "job": job,
    }


def _create_store(part: Path, y: Any, axes: str, ngff: str, meta: dict[str, Any]) -> None:
    """The empty working store with its level arrays, provenance and the done-marker folder."""
    chunks = tuple(c[0] for c in y.chunks)
    zarr_out.create_pyramid(
        part,
        shape=y.shape,
        chunks=chunks,
        dtype=y.dtype,
        axes=axes,
        ngff_version=ngff,
        attrs={"microsr": meta},
    )
    (part / DONE).mkdir()


def _block_model(model_dir, weights: str, device: str | None, normalization: str):
    """The model folder's network and info, refused unless block-wise prediction can run it."""
    from microsr.inference.model_io import load_model_folder

    model, info = load_model_folder(model_dir, weights=weights, device=device, normalization=normalization)  # type: ignore[arg-type]
    if info.needs_mask or info.out_channels != info.in_channels:
        raise InputError(
            info.folder, "block-wise prediction needs a model without parsing maps, channels in = out"
        )
    return model, info


def predict_large(
    model_dir: str | os.PathLike[str],
    input_path: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    level: int = 0,
    tile: int = TILE,
    overlap: int = OVERLAP,
    tta: bool | str = "auto",
    keep_range: bool = False,
    weights: str = "best",
    device: str | None = None,
    precision: str = "fp32",
    block: int | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    resume: bool = False,
    progress: bool = True,
    normalization: str = "image",
) -> Path:
    """Predict a large image block-wise into an OME-Zarr pyramid; returns the output path.

    Parameters mirror :func:`microsr.inference.predict.predict_path`; in addition ``level`` (the
    input's multiscale level), ``block`` (block edge in LR pixels; default: the input's chunks),
    ``workers`` / ``scheduler`` (see :mod:`microsr.inference.cluster`) and ``resume`` (see the
    module docstring); ``normalization`` as in ``predict_path``. The output has the input's axes
    and NGFF version (0.5 for TIFF input).
    """
    check_tiling(tile, overlap)  # the same check and message as in-memory prediction
    check_writable(output)  # before the model is loaded and the input is opened
    model, info = _block_model(model_dir, weights, device, normalization)
    tta = resolve_tta(tta, info)
    image = open_lazy(input_path, level)
    src, out = Path(input_path), Path(output)
    whole_c = _whole_channel_axis(info, image)
    halo, (by, bx) = _block_geometry(model, info, image, block, overlap)
    dev = str(model_device(model))
    cfg = norm_config(info)
    # --normalization is recorded only when not the default and no test-time augmentation as False
    # (as before groups had names), so that older interrupted outputs resume
    job = dict(
        source=str(src.resolve()), level=level, model=info.name, weights_sha256=file_sha256(info.weights),
        tile=tile, overlap=overlap, tta=False if tta == "none" else tta, precision=precision, keep_range=keep_range, halo=halo,
        block=[by, bx], **({} if normalization == "image" else {"normalization": normalization}),
    )  # fmt: skip
    part, resumed = _prepare_output(out, src, resume, job)
    ngff = image.ngff_version or "0.5"
    nlead = image.array.ndim - 2
    with dask_client(workers, scheduler) as client:
        threads = max(1, cores() // workers) if workers else 0
        ref = ModelRef(str(info.folder), weights, dev, threads)
        sched = client if client is not None else "sync"
        if client is None:
            remember(ref, model, info)
        if resumed:
            params = _stored_norm_params(part)
        else:
            params = plane_stats(image.array, cfg, nlead, whole_c, scheduler=sched)
        opts = dict(tile=tile, overlap=overlap, tta=tta, precision=precision)
        dtype = output_dtype(image.array.dtype, keep_range)
        y = prediction_array(
            image.array, ref=ref, scale=info.scale, params=params, halo=halo, block=(by, bx),
            whole_c=whole_c, opts=opts, keep_range=keep_range, out_dtype=dtype,
        )  # fmt: skip
        if not resumed:
            _create_store(part, y, image.axes, ngff, _provenance(info, cfg, params, job, keep_range))
        _run_blocks(y, part, sched, progress)
        zarr_out.build_levels(part, scheduler=sched)
    n_levels = len(zarr_out.level_shapes(y.shape, tuple(c[0] for c in y.chunks)))
    transforms = zarr_out.level_transforms(image.scale, image.translation, info.scale, n_levels)
    zarr_out.finish_metadata(
        part, axes=image.axes, units=image.units, transforms=transforms, ngff_version=ngff, name=src.name
    )
    shutil.rmtree(part / DONE)
    os.replace(part, out)
    return out


def _stored_norm_params(part: Path) -> dict[tuple[int, ...], dict[str, float]]:
    """The per-plane normalisation a resumed run recorded in its unfinished store."""
    import zarr

    attrs: dict[str, Any] = dict(zarr.open_group(str(part), mode="r").attrs)
    return {tuple(k): v for k, v in attrs["microsr"]["norm_params"]}


def _run_blocks(y: Any, part: Path, sched: Any, progress: bool) -> None:
    """Compute and store every level-0 block not yet marked done, showing progress."""
    import dask
    from rich.progress import Progress

    todo = [
        (idx, reg) for idx, reg in _regions(y.chunks) if not (part / DONE / ".".join(map(str, idx))).exists()
    ]
    tasks = [
        dask.delayed(_store_block)(y.blocks[idx], str(part), reg, str(part / DONE / ".".join(map(str, idx))))
        for idx, reg in todo
    ]
    with Progress(disable=not progress, transient=True) as bar:
        task = bar.add_task(
            "blocks", total=len(_regions(y.chunks)), completed=len(_regions(y.chunks)) - len(todo)
        )
        if sched == "sync":
            for t in tasks:
                t.compute(scheduler="sync")
                bar.advance(task)
            return
        from distributed import as_completed

        for future in as_completed(sched.compute(tasks)):
            future.result()  # raises a worker's error here
            bar.advance(task)
