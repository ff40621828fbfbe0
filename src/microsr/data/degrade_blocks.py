"""``microsr degrade`` of images too large for memory: read, degraded and written block by block.

The pipeline is :func:`microsr.data.degrade.degrade` (PSF blur on the HR grid, area
downsampling, optional Poisson-Gaussian noise), computed on one block of ``BAND`` LR rows by
``COLUMNS`` LR columns at a time. Each block is read with a halo of the PSF's support (the
Gaussian filter's radius, ``int(4 sigma + 0.5)`` px, or the Airy kernel's half width) on every
side that has image beyond it; at the image border the block is reflected exactly as the whole
image is. So every LR pixel sees the HR pixels it sees in the whole-image computation: with a
Gaussian PSF the noise-free result is bit for bit the whole-image one, with an Airy PSF (an FFT
convolution of a different size) equal up to float rounding (tested on small images).

Noise needs the brightest noise-free LR pixel of the plane (it receives ``photons``), so with
``photons`` the blocks are computed twice: once for that maximum, once for the output. The noise
of block (row ``by``, column ``bx``) of plane ``p`` of image ``i`` is drawn from
``default_rng([seed, i, p, by, bx])``: a different realisation of the same noise than the
whole-image path (which draws a plane at a time from ``default_rng([seed, i])``).

Inputs are opened with :func:`microsr.io.lazy.open_lazy` (TIFF through tifffile's Zarr view,
OME-Zarr stores) and outputs written as tiled OME-TIFF (BigTIFF) by tifffile from a generator
of tiles, in the order tifffile stores them, so neither image is ever whole in memory: the
working set is a few blocks of float64 (tens of MB at the defaults).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from microsr.data.degrade import (
    AiryPSF,
    GaussianPSF,
    add_poisson_gaussian,
    area_downsample,
    fft_convolve_valid,
)
from microsr.data.fields import Region, crop, grow

BAND = 256  # LR rows per band: the output's TIFF tile side
COLUMNS = 2048  # LR columns per block (a multiple of BAND)
WHOLE_UP_TO = 4096 * 4096  # HR px per plane degraded whole in memory; larger planes go block by block


def psf_halo(psf: GaussianPSF | AiryPSF | None) -> int:
    """HR px a blurred pixel depends on, on each side (the PSF's support)."""
    if psf is None:
        return 0
    if isinstance(psf, GaussianPSF):
        return int(4.0 * psf.sigma_px + 0.5)  # scipy.ndimage.gaussian_filter's radius (truncate 4)
    return psf.kernel().shape[0] // 2


def _blur(
    psf: GaussianPSF | AiryPSF | None, x: np.ndarray, outer: Region, shape: tuple[int, int]
) -> np.ndarray:
    """The blurred ``x`` (covering ``outer`` of an image of ``shape``), reflected at the image border only."""
    if psf is None:
        return x
    if isinstance(psf, GaussianPSF):
        return psf.apply(x)
    k = psf.kernel()
    r = k.shape[0] // 2
    pad = ((r if outer[0] == 0 else 0, r if outer[1] == shape[0] else 0),
           (r if outer[2] == 0 else 0, r if outer[3] == shape[1] else 0))  # fmt: skip
    full = fft_convolve_valid(np.pad(x, pad, mode="reflect"), k)
    # without padding on a side, the valid convolution starts r px inside the region there
    return np.pad(full, ((r - pad[0][0], r - pad[0][1]), (r - pad[1][0], r - pad[1][1])))


def degrade_region(
    read: Callable[[Region], np.ndarray],
    shape: tuple[int, int],
    region: Region,
    *,
    scale: int,
    psf: GaussianPSF | AiryPSF | None,
) -> np.ndarray:
    """Noise-free LR (float64) of the HR ``region`` (multiples of ``scale``) of an image of ``shape``.

    ``read(outer)`` returns the HR pixels of any region of the image.
    """
    outer = grow(region, psf_halo(psf) + 1, shape)
    blurred = _blur(psf, np.asarray(read(outer), np.float64), outer, shape)
    return area_downsample(crop(blurred, outer, region), scale)


def blocks(h_lr: int, w_lr: int) -> Iterator[tuple[int, int, Region]]:
    """``(row, column, LR region)`` of the blocks of an LR plane, band by band."""
    for by, y in enumerate(range(0, h_lr, BAND)):
        for bx, x in enumerate(range(0, w_lr, COLUMNS)):
            yield by, bx, (y, min(h_lr, y + BAND), x, min(w_lr, x + COLUMNS))


def _tiles(block: np.ndarray) -> Iterator[np.ndarray]:
    """A band-high block cut into ``BAND`` x ``BAND`` TIFF tiles, left to right."""
    for x in range(0, block.shape[1], BAND):
        yield block[:, x : x + BAND]


class PlaneDegrader:
    """Degrade every plane of one HR image block by block (see the module docstring).

    Parameters
    ----------
    read : callable
        ``read(plane, region)`` -> HR pixels of ``region`` (y0, y1, x0, x1) of ``plane``.
    planes : int
    shape : (H, W)
        HR plane shape, already a multiple of ``scale``.
    scale, psf, photons, read_noise
        As for :func:`microsr.data.degrade.degrade`.
    seeds : list of int
        ``[seed, i]``; block noise uses ``default_rng([*seeds, plane, row, column])``.
    """

    def __init__(
        self, read, planes: int, shape: tuple[int, int], *, scale: int, psf, photons, read_noise, seeds
    ):
        self.read, self.planes, self.shape, self.scale = read, planes, shape, scale
        self.psf, self.photons, self.read_noise, self.seeds = psf, photons, read_noise, list(seeds)
        self.peaks: list[float] = []
        self.on_block: Callable[[], None] | None = None  # called after every block computed (progress)

    def _lr(self, plane: int, region: Region) -> np.ndarray:
        s = self.scale
        hr_region = (s * region[0], s * region[1], s * region[2], s * region[3])
        lr = degrade_region(lambda r: self.read(plane, r), self.shape, hr_region, scale=s, psf=self.psf)
        if self.on_block is not None:
            self.on_block()
        return lr

    def block_count(self) -> int:
        """Blocks computed in all: every block of every plane, twice with noise (see :meth:`lr_tiles`)."""
        return self.planes * sum(1 for _ in blocks(*self.lr_shape())) * (1 if self.photons is None else 2)

    def lr_shape(self) -> tuple[int, int]:
        return self.shape[0] // self.scale, self.shape[1] // self.scale

    def measure_peaks(self) -> None:
        """First pass (noise only): the brightest noise-free LR pixel of every plane."""
        self.peaks = [
            max(float(self._lr(p, region).max()) for _, _, region in blocks(*self.lr_shape()))
            for p in range(self.planes)
        ]

    def lr_tiles(self, convert: Callable[[np.ndarray], np.ndarray]) -> Iterator[np.ndarray]:
        """LR tiles in TIFF order (plane, band, column), each passed through ``convert``."""
        if self.photons is not None and not self.peaks:
            self.measure_peaks()
        for p in range(self.planes):
            for by, bx, region in blocks(*self.lr_shape()):
                lr = self._lr(p, region)
                if self.photons is not None:
                    rng = np.random.default_rng([*self.seeds, p, by, bx])
                    lr = add_poisson_gaussian(
                        lr, photons=self.photons, read_noise=self.read_noise, rng=rng, peak=self.peaks[p]
                    )
                yield from _tiles(convert(lr.astype(np.float32)))

    def hr_tiles(self, convert: Callable[[np.ndarray], np.ndarray]) -> Iterator[np.ndarray]:
        """The HR (cropped to the multiple of ``scale``) in TIFF tiles of ``BAND * scale`` px."""
        t = BAND * self.scale
        h, w = self.shape
        for p in range(self.planes):
            for y in range(0, h, t):
                for x in range(0, w, t):
                    yield convert(np.asarray(self.read(p, (y, min(h, y + t), x, min(w, x + t)))))


def write_tiled(path: Path, tiles: Iterator[np.ndarray], shape: tuple[int, ...], axes: str, dtype: Any,
                tile: int, pixel_size: float | None) -> None:  # fmt: skip
    """A tiled OME-TIFF (BigTIFF) from ``tiles`` in tifffile's order; pixel size in micrometres."""
    import tifffile

    meta: dict[str, Any] = {"axes": axes}
    if pixel_size is not None:
        meta |= {"PhysicalSizeX": pixel_size, "PhysicalSizeY": pixel_size,
                 "PhysicalSizeXUnit": "µm", "PhysicalSizeYUnit": "µm"}  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    tifffile.imwrite(
        path, tiles, shape=shape, dtype=dtype, tile=(tile, tile), bigtiff=True, ome=True, metadata=meta
    )


def is_large(path: Path) -> bool:
    """Whether ``path`` is degraded block by block: an OME-Zarr store, or a TIFF with a plane over
    :data:`WHOLE_UP_TO` HR px (from its header; nothing is decoded)."""
    from microsr.io.lazy import is_zarr_path
    from microsr.io.lazy_tiff import tiff_header

    if is_zarr_path(path):
        return True
    header = tiff_header(path)
    if header is None or header[1].endswith("S"):
        return False  # not a TIFF, unreadable or colour: the in-memory path names the problem
    shape = header[0]
    return int(shape[-1]) * int(shape[-2]) > WHOLE_UP_TO


def degrade_file_blocks(
    source: Any,
    array: Any,
    stage: Path,
    name: str,
    *,
    scale: int,
    psf,
    photons,
    read_noise,
    seeds,
    progress=False,
) -> dict[str, Any]:
    """Degrade one lazily opened image (:func:`microsr.data.lazy_planes.open_source`) into
    ``stage/hr/name`` and ``stage/lr/name``; the record for ``degradation.json``. ``progress``:
    show the blocks done on the terminal."""
    from rich.progress import Progress

    from microsr.errors import InputError
    from microsr.io import storable_dtype

    if source.height < scale or source.width < scale:
        raise InputError(source.path, f"image is {source.height}x{source.width} px, smaller than the scale")
    h, w = source.height - source.height % scale, source.width - source.width % scale

    from microsr.data.lazy_planes import read_pixels

    def read(plane: int, region: Region) -> np.ndarray:
        y0, y1, x0, x1 = region
        return read_pixels(array, (*source.index(plane), slice(y0, y1), slice(x0, x1)))

    dtype = source.dtype
    if dtype.kind in "iu" and dtype not in (np.uint8, np.uint16):  # uint16 or float32, as for whole images
        dtype = storable_dtype(np.array([array.min().compute(), array.max().compute()], dtype)).dtype
    elif dtype.kind in "fb" and dtype not in (np.float32,):
        dtype = np.dtype(np.float32 if dtype.kind == "f" else np.uint8)
    job = PlaneDegrader(read, source.planes, (h, w), scale=scale, psf=psf, photons=photons,
                        read_noise=read_noise, seeds=seeds)  # fmt: skip
    with Progress(transient=True, disable=not progress) as bar:
        task = bar.add_task(f"degrading {source.path.name} by blocks", total=job.block_count())
        job.on_block = lambda: bar.advance(task)
        return _write_pair_tiled(job, source, stage, name, dtype)


def _write_pair_tiled(job: PlaneDegrader, source: Any, stage: Path, name: str, dtype: Any) -> dict[str, Any]:
    """Write the HR copy and the degraded LR of ``job`` as tiled OME-TIFFs; the record."""
    from microsr.errors import InputError
    from microsr.io import to_output_dtype

    (h, w), scale = job.shape, job.scale
    axes, lead, px = source.lead_axes + "YX", source.lead_shape, source.pixel_size

    def hr_tile(a: np.ndarray) -> np.ndarray:
        if a.dtype.kind == "f" and not np.isfinite(a).all():
            raise InputError(source.path, "image contains NaN or infinite values")
        return a.astype(dtype)

    write_tiled(stage / "hr" / name, job.hr_tiles(hr_tile), (*lead, h, w), axes, dtype, BAND * scale, px)
    lr_shape = (*lead, *job.lr_shape())
    lr_tiles = job.lr_tiles(lambda a: to_output_dtype(a, dtype))
    lr_px = None if px is None else px * scale
    write_tiled(stage / "lr" / name, lr_tiles, lr_shape, axes, dtype, BAND, lr_px)
    return {"file": source.path.name, "output": name, "hr_shape": [*lead, h, w], "lr_shape": list(lr_shape),
            "dtype": str(np.dtype(dtype)), "blockwise": True,
            "noise_seeds": f"block by block: default_rng([seed, {job.seeds[1]}, plane, row, column]) for "
                           f"blocks of {BAND} x {COLUMNS} LR px"}  # fmt: skip
