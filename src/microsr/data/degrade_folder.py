"""``microsr degrade``: LR made from a folder of HR-only images, written as an LR/HR folder pair.

The folder is built in a hidden staging folder and renamed at the end
(:func:`microsr.data.datasets.staged_folder`); options are checked to be finite and in range and
the memory of each image estimated before it is degraded (:mod:`microsr.io.guard`). Layout::

    OUT/lr/NAME.tif   OUT/hr/NAME.tif   OUT/degradation.json
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
from rich.progress import track

from microsr.data.datasets import MAX_PHOTONS, MAX_SEED, _json, staged_folder
from microsr.data.degrade import AiryPSF, GaussianPSF, crop_to_multiple, degrade
from microsr.data.degrade_blocks import BAND, COLUMNS, degrade_file_blocks, is_large, psf_halo
from microsr.errors import InputError
from microsr.io import ImageData, list_images, read_image, storable_dtype, to_output_dtype, write_image
from microsr.io.guard import check_memory, check_number

DEGRADE_BYTES_PER_PX = 48  # float64 copies of a plane while degrading (input, blurred, noisy, ...)
MAX_PSF_PX = 1000  # PSF radius (HR px) beyond which the blur would erase any image
DEFAULT_SIGMA_PER_SCALE = 0.85  # Gaussian FWHM of 2 LR px (a Nyquist-sampled widefield camera)


def choose_psf(
    *,
    scale: int,
    sigma: float | None,
    na: float | None,
    wavelength: float | None,
    pixel_nm: float | None,
    file_pixel_um: float | None,
    path: Path,
) -> GaussianPSF | AiryPSF:
    """PSF on the HR grid from the options; the pixel size may come from the file's metadata."""
    if sigma is not None and (na is not None or wavelength is not None):
        raise InputError(None, "give either --psf-sigma or --na/--wavelength, not both")
    if na is not None or wavelength is not None:
        if na is None or wavelength is None:
            raise InputError(None, "an Airy PSF needs both --na and --wavelength")
        px = pixel_nm if pixel_nm is not None else (file_pixel_um * 1000 if file_pixel_um else None)
        if px is None:
            raise InputError(path, "no pixel size in the file; give --pixel-size NM (HR pixel)")
        check_number("--na", na, low=0, low_open=True, high=2.0)
        check_number("--wavelength", wavelength, low=0, low_open=True)
        check_number("--pixel-size" if pixel_nm is not None else "pixel size", px, low=0, low_open=True)
        psf = AiryPSF(na, wavelength, px)
        radius = 0.61 * wavelength / na / px
        if radius > MAX_PSF_PX:
            raise InputError(
                path if pixel_nm is None else None,
                f"an Airy PSF of {wavelength:g} nm / NA {na:g} on {px:g} nm pixels is {radius:.3g} "
                f"px wide (at most {MAX_PSF_PX}); check --pixel-size (nm), --wavelength (nm), --na",
            )
        return psf
    s = DEFAULT_SIGMA_PER_SCALE * scale if sigma is None else sigma
    check_number("--psf-sigma", s, low=0, low_open=True, high=MAX_PSF_PX)
    return GaussianPSF(s)


def _degrade_image(image, *, scale, psf, photons, read_noise, rng):
    arr, axes = image.array, image.axes
    if axes.endswith("YXC"):
        raise InputError(image.path, "colour (RGB) images cannot be degraded; save them as grayscale")
    if arr.shape[-2] < scale or arr.shape[-1] < scale:
        raise InputError(image.path, f"image is {arr.shape[-2]}x{arr.shape[-1]} px, smaller than the scale")
    hr = crop_to_multiple(arr, scale)
    h, w = hr.shape[-2:]
    pad = 2 * int(3.5 * psf.wavelength_nm / psf.na / psf.pixel_nm) if isinstance(psf, AiryPSF) else 0
    check_memory(2 * hr.nbytes + DEGRADE_BYTES_PER_PX * (h + pad) * (w + pad), f"degrading {image.path}")
    planes = hr.reshape(-1, *hr.shape[-2:])
    lr = np.stack(
        [degrade(p, scale=scale, psf=psf, photons=photons, read_noise=read_noise, rng=rng) for p in planes]
    )
    return hr, lr.reshape(*hr.shape[:-2], *lr.shape[-2:])


def _check_options(scale: int, photons, read_noise, seed, psf_sigma, pixel_size, na, wavelength) -> None:
    if scale < 1:
        raise InputError(None, f"--scale must be a positive integer, got {scale}")
    check_number("--photons", photons, low=0, low_open=True, high=MAX_PHOTONS)
    check_number("--read-noise", read_noise, low=0, high=MAX_PHOTONS)
    check_number("--seed", seed, low=0, high=MAX_SEED)
    check_number("--psf-sigma", psf_sigma, low=0, low_open=True, high=MAX_PSF_PX)
    check_number("--pixel-size", pixel_size, low=0, low_open=True)
    check_number("--na", na, low=0, low_open=True, high=2.0)
    check_number("--wavelength", wavelength, low=0, low_open=True)


def _write_pair(
    stage: Path, f: Path, img: ImageData, hr: np.ndarray, lr: np.ndarray, scale: int
) -> dict[str, Any]:
    """Write one HR image (its own bit depth) and its LR (same dtype) into ``stage``; the record."""
    px = img.pixel_size
    name = f.with_suffix(".tif").name if f.suffix.lower() not in (".tif", ".tiff") else f.name
    if (stage / "hr" / name).exists():
        raise InputError(f, f"two inputs would both be written as {name}; rename one")
    try:
        hr = storable_dtype(hr)
    except ValueError:
        lo, hi = hr.min(), hr.max()
        raise InputError(
            f,
            f"{hr.dtype} values {lo}..{hi} fit neither uint16 nor float32 exactly; "
            "rescale the image to 0..65535 (uint16) or convert it to 32-bit float first",
        ) from None
    write_image(stage / "hr" / name, hr, img.axes, px)
    lr_out = to_output_dtype(lr, hr.dtype)
    write_image(stage / "lr" / name, lr_out, img.axes, None if px is None else px * scale)
    return {
        "file": f.name,
        "output": name,
        "hr_shape": list(hr.shape),
        "lr_shape": list(lr.shape),
        "dtype": str(lr_out.dtype),
    }


def _inputs(hr_dir: Path) -> list[Path]:
    """Image files and OME-Zarr stores in ``hr_dir``, sorted by name."""
    from microsr.data.pairs import _zarr_stores

    stores = _zarr_stores(hr_dir)
    try:
        files = list_images(hr_dir)
    except InputError:
        if not stores:
            raise
        files = []
    return sorted(files + stores)


def _degrade_large(
    f, stage, i, scale, sigma, na, wavelength, pixel_nm, photons, read_noise, seed, progress
) -> dict[str, Any]:
    """One image degraded block by block (:mod:`microsr.data.degrade_blocks`)."""
    from microsr.data.lazy_planes import open_source

    source, array = open_source(f)
    psf = choose_psf(scale=scale, sigma=sigma, na=na, wavelength=wavelength, pixel_nm=pixel_nm,
                     file_pixel_um=source.pixel_size, path=f)  # fmt: skip
    name = f.with_suffix(".tif").name if f.suffix.lower() not in (".tif", ".tiff") else f.name
    if (stage / "hr" / name).exists():
        raise InputError(f, f"two inputs would both be written as {name}; rename one")
    check_memory(DEGRADE_BYTES_PER_PX * BAND * scale * (COLUMNS * scale + 2 * psf_halo(psf) + 2) * 3,
                 f"degrading {f} block by block")  # fmt: skip
    return degrade_file_blocks(source, array, stage, name, scale=scale, psf=psf, photons=photons,
                               read_noise=read_noise, seeds=[seed, i], progress=progress) | {"psf": repr(psf)}  # fmt: skip


def _degrade_whole(
    f, stage, i, scale, sigma, na, wavelength, pixel_nm, photons, read_noise, seed
) -> dict[str, Any]:
    """One image read, degraded and written whole (``np.random.default_rng([seed, i])``)."""
    img = read_image(f)
    psf = choose_psf(scale=scale, sigma=sigma, na=na, wavelength=wavelength, pixel_nm=pixel_nm,
                     file_pixel_um=img.pixel_size, path=f)  # fmt: skip
    rng = np.random.default_rng([seed, i])
    hr, lr = _degrade_image(img, scale=scale, psf=psf, photons=photons, read_noise=read_noise, rng=rng)
    return _write_pair(stage, f, img, hr, lr, scale) | {"psf": repr(psf)}


def write_degraded(
    hr_dir: str | PathLike[str],
    out: str | PathLike[str],
    *,
    scale: int,
    psf_sigma: float | None = None,
    na: float | None = None,
    wavelength: float | None = None,
    pixel_size: float | None = None,
    photons: float | None = None,
    read_noise: float = 2.0,
    seed: int = 0,
    progress: bool = False,
) -> Path:
    """Make ``out/lr`` (degraded) and ``out/hr`` (cropped copies) from a folder of HR images.

    HR images are cropped at the bottom/right to a multiple of ``scale`` and written in their own
    bit depth (uint8/uint16/float32; other types as float32). The LR gets the same dtype,
    rounded and clipped. Image ``i`` uses ``np.random.default_rng([seed, i])``. Stacks are
    degraded plane by plane. ``pixel_size`` is the HR pixel in nm (Airy PSF only). OME-Zarr
    stores and TIFFs with planes over :data:`~microsr.data.degrade_blocks.WHOLE_UP_TO` px are
    read, degraded and written block by block (:mod:`microsr.data.degrade_blocks`) as tiled
    OME-TIFFs.
    """
    _check_options(scale, photons, read_noise, seed, psf_sigma, pixel_size, na, wavelength)
    hr_dir = Path(hr_dir)
    files = _inputs(hr_dir)
    records = []
    with staged_folder(out, inputs=(hr_dir,)) as stage:
        for i, f in enumerate(track(files, description="degrading", disable=not progress)):
            args = (f, stage, i, scale, psf_sigma, na, wavelength, pixel_size, photons, read_noise, seed)
            records.append(_degrade_large(*args, progress) if is_large(f) else _degrade_whole(*args))
        _json(
            stage / "degradation.json",
            {
                "format": "microsr-degradation/1",
                "source": str(hr_dir.resolve()),
                "scale": scale,
                "psf_sigma_px": psf_sigma,
                "na": na,
                "wavelength_nm": wavelength,
                "pixel_size_nm": pixel_size,
                "photons": photons,
                "read_noise": read_noise,
                "seed": seed,
                "seeds": "image i uses numpy default_rng([seed, i])",
                "images": records,
            },
        )
    return Path(out)
