"""Write simulated LR/HR data set folders, and the staging folder both folder writers use
(the degrade writer is :mod:`microsr.data.degrade_folder`).

The writers build the whole data set in a hidden staging folder next to ``out`` and rename it to
``out`` only when every file is written, so a failure (bad file, Ctrl-C) leaves nothing half
written. ``out`` must not exist yet or be empty, and must not be (or contain) the input folder.
Staging folders left beside ``out`` by a killed run are removed by the next run there. Options
are checked to be finite and in range, and the memory a simulation or degradation needs is
estimated before it starts (:mod:`microsr.io.guard`). Layout::

    OUT/lr/NAME.tif   OUT/hr/NAME.tif   OUT/simulation.json | OUT/degradation.json
"""

from __future__ import annotations

import json
import multiprocessing
import shutil
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from os import PathLike
from pathlib import Path

from rich.progress import track

from microsr.data.cells import HR_PIXEL_UM as CELL_PIXEL_UM
from microsr.data.cells import cells_record, simulate_cell_pair
from microsr.data.simulate import WHOLE_UP_TO, SimConfig, simulate_pair, simulation_record
from microsr.errors import InputError
from microsr.io import write_image
from microsr.io._atomic import partial_name, remove_stale_temporaries
from microsr.io.guard import check_memory, check_number, check_writable

SIM_BYTES_PER_PX = 512  # peak memory of one simulated pair per HR pixel (measured: <= 460 B, ER)
SIM_BLOCK_BYTES_PER_PX = 24  # the same above WHOLE_UP_TO px, made block by block ...
SIM_BLOCK_WORKING = 450 * 2**20  # ... plus this working set (measured: 475 MiB peak in all at 4096 px)
CELLS_MAX_SIZE = 2048  # HR px: leukocytes are not made block by block (measured peak 1.15 GB at 2048 px)
MAX_SEED = 2**63 - 1
MAX_PHOTONS = 1e9  # numpy's Poisson sampler fails near 1e19; cameras saturate far below 1e9 e-


@contextmanager
def staged_folder(out: str | PathLike[str], *, inputs: tuple[Path, ...] = ()) -> Iterator[Path]:
    """Yield a hidden staging folder; rename it to ``out`` on success, delete it on failure.

    Raises
    ------
    InputError
        ``out`` is a file, a non-empty folder, or is/contains/lies inside an input folder.
    """
    out = check_writable(out)  # first: also refuses symbolic-link loops, which resolve() cannot follow
    target = out.resolve()
    for inp in inputs:
        src = inp.resolve()
        if target == src or src in target.parents or target in src.parents:
            raise InputError(out, f"output folder overlaps the input folder {inp}; choose another")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InputError(out, "output already exists and is not an empty folder; choose a new one")
    remove_stale_temporaries(out.parent)
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = out.parent / partial_name(out.name)
    stage.mkdir()
    try:
        yield stage
        if out.exists():
            out.rmdir()
        stage.rename(out)
    finally:
        if stage.exists():
            shutil.rmtree(stage, ignore_errors=True)


def _json(path: Path, record: dict) -> None:
    path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")


def _simulate_one(args: tuple) -> str:
    """Simulate and write pair ``i`` (module level so worker processes can run it).

    ``structure="leukocytes"`` (:mod:`microsr.data.cells`) also writes ``mask/NAME.tif`` (uint8).
    """
    stage, structure, i, size, scale, seed, cfg, dtype = args
    name = f"{structure}_{i:04d}.tif"
    meta = {"simulation": {"structure": structure, "seed": seed + i}}
    if structure == "leukocytes":
        lr, hr, mask = simulate_cell_pair(size=size, scale=scale, photons=cfg.photons, seed=seed + i)
        hr_um = CELL_PIXEL_UM
        write_image(stage / "mask" / name, mask, "YX", hr_um, dtype="uint8", metadata=meta)
    else:
        lr, hr = simulate_pair(structure, size=size, scale=scale, seed=seed + i, config=cfg)
        hr_um = cfg.hr_pixel_nm / 1000.0
    write_image(stage / "lr" / name, lr, "YX", hr_um * scale, dtype=dtype, metadata=meta)
    write_image(stage / "hr" / name, hr, "YX", hr_um, dtype=dtype, metadata=meta)
    return name


def write_simulated(
    out: str | PathLike[str],
    *,
    structure: str,
    count: int,
    size: int,
    scale: int,
    seed: int = 0,
    photons: float | None = None,
    dtype: str = "uint16",
    progress: bool = False,
    workers: int = 1,
) -> Path:
    """Simulate ``count`` pairs into ``out/lr`` and ``out/hr`` (see :mod:`microsr.data.simulate`);
    ``structure="leukocytes"`` adds parsing maps in ``out/mask`` (see :mod:`microsr.data.cells`).

    Image ``i`` is ``simulate_pair(structure, size=size, scale=scale, seed=seed + i)``, named
    ``{structure}_{i:04d}.tif``; ``size`` is the HR size. uint16 values are rounded and clipped to
    0..65535; float32 keeps them exactly. Pixel sizes (um) are stored in the TIFFs. With
    ``workers > 1`` images are made in that many processes (spawned, so no state is shared); the
    files are identical to a single-process run because each image has its own seed.
    """
    if count < 1:
        raise InputError(None, f"--count must be at least 1, got {count}")
    if scale < 1 or size < 8 or size % scale:
        raise InputError(None, f"--size {size} (HR px) must be >= 8 and divisible by --scale {scale}")
    check_number("--photons", photons, low=0, low_open=True, high=MAX_PHOTONS)
    check_number("--seed", seed, low=0, high=MAX_SEED - count)
    if structure == "leukocytes" and size < 16:
        raise InputError(None, f"--size {size}: leukocyte images need at least 16 HR px")
    if structure == "leukocytes" and size > CELLS_MAX_SIZE:
        raise InputError(
            None,
            f"--size {size}: leukocyte images are rendered whole on a fine grid (about 270 bytes per HR "
            f"px, 1.1 GB at 2048 px), so at most {CELLS_MAX_SIZE} HR px; make more images with --count",
        )
    if workers < 1:
        raise InputError(None, f"--workers must be at least 1, got {workers}")
    busy = 1 if count == 1 else min(workers, count)
    per_image = SIM_BYTES_PER_PX * size * size
    if size > WHOLE_UP_TO and structure != "leukocytes":
        per_image = SIM_BLOCK_BYTES_PER_PX * size * size + SIM_BLOCK_WORKING
    check_memory(
        per_image * busy,
        f"simulating {busy} {size}x{size} image(s) at a time",
    )
    cfg = SimConfig() if photons is None else SimConfig(photons=photons)
    desc = f"simulating {structure}"
    with staged_folder(out) as stage:
        jobs = [(stage, structure, i, size, scale, seed, cfg, dtype) for i in range(count)]
        if workers == 1 or count == 1:
            for job in track(jobs, description=desc, disable=not progress):
                _simulate_one(job)
        else:
            ctx = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(min(workers, count), mp_context=ctx) as pool:
                done = pool.map(_simulate_one, jobs, chunksize=max(1, count // (8 * workers)))
                for _ in track(done, total=count, description=desc, disable=not progress):
                    pass
        if structure == "leukocytes":
            rec = cells_record(size=size, scale=scale, seed=seed, count=count, photons=cfg.photons)
        else:
            rec = simulation_record(structure, size=size, scale=scale, seed=seed, count=count, config=cfg)
        _json(stage / "simulation.json", rec | {"dtype": dtype})
    return Path(out)
