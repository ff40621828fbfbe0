"""Simulated LR/HR training pairs of the four BioSR structure classes (the embedded default data).

Pipeline for one pair (``size`` is the **HR** size in px; the LR is ``size / scale``):

1. ground truth rendered on a fine grid of ``hr_pixel_nm / 2`` (anti-aliasing), with a margin of
   ``MARGIN`` HR px so blurs see structure beyond the border, then area-averaged to the HR grid;
2. HR = ground truth through a SIM-like Gaussian PSF (FWHM ``sim_fwhm_nm``, default 110 nm);
3. LR = ground truth through a widefield Airy PSF (``wf_na``, ``wf_wavelength_nm``; defaults give
   FWHM 0.5145 * 540 / 1.1 = 253 nm), area-downsampled by ``scale``, then Poisson noise at
   ``photons`` expected photo-electrons at the brightest LR pixel, Gaussian read noise
   (``read_noise`` e-) and a camera offset of ``baseline`` counts.

Pixel sizes: the HR pixel is fixed (``hr_pixel_nm``, default 31.3 nm as BioSR's SIM images) and
the LR pixel is ``scale * hr_pixel_nm`` (62.6 nm at x2, like BioSR's widefield camera).
Units: LR values are camera counts (photo-electrons + offset); HR values are scaled so that the
99.9th percentile of the HR is ``HR_LEVEL`` (20000), unless that would put the brightest pixel
above 60000 (sparse images), in which case the brightest pixel is 60000: 16-bit files never clip. Everything random
comes from ``np.random.default_rng([seed, STRUCTURE_ID])``, so a seed gives identical pairs.

Pairs larger than ``WHOLE_UP_TO`` (1024) HR px are made block by block in bounded memory
(:mod:`microsr.data.simulate_blocks`): the same scene and HR as the whole-image pipeline, the
camera noise drawn per block. Smaller pairs are bit for bit what they have always been.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from microsr.data.degrade import AiryPSF, GaussianPSF, add_poisson_gaussian, area_downsample
from microsr.data.structures import STRUCTURES, render_ground_truth

HR_LEVEL = 20000.0
HR_HEADROOM = 3.0  # the brightest HR pixel is at most HR_HEADROOM * HR_LEVEL (60000 < 65535)
MARGIN = 16  # HR px rendered beyond each border (blurs see real structure, not padding)
FINE = 2  # fine grid = HR grid x FINE
WHOLE_UP_TO = 1024  # HR px: larger pairs are made block by block (bounded memory)


@dataclass(frozen=True)
class SimConfig:
    """Optics and camera of the simulator (all defaults follow BioSR's set-up, see module doc).

    Attributes
    ----------
    hr_pixel_nm : float
        HR pixel size in nm (LR pixel is ``scale`` times larger).
    sim_fwhm_nm : float
        FWHM of the Gaussian SIM PSF applied to make the HR.
    wf_na, wf_wavelength_nm : float
        Widefield Airy PSF of the LR.
    photons : float
        Expected photo-electrons at the brightest LR pixel (lower = noisier; 50-1000 typical).
    read_noise : float
        Camera read noise, e- std.
    baseline : float
        Camera offset added to the LR counts.
    """

    hr_pixel_nm: float = 31.3
    sim_fwhm_nm: float = 110.0
    wf_na: float = 1.1
    wf_wavelength_nm: float = 540.0
    photons: float = 200.0
    read_noise: float = 2.0
    baseline: float = 100.0


def _check(structure: str, size: int, scale: int) -> None:
    if structure not in STRUCTURES:
        raise ValueError(f"unknown structure {structure!r}; choose from {', '.join(STRUCTURES)}")
    if scale < 1 or size < 8 or size % scale:
        raise ValueError(f"HR size {size} must be >= 8 and divisible by the scale {scale}")


def simulate_ground_truth(structure: str, *, size: int, seed: int, hr_pixel_nm: float = 31.3) -> np.ndarray:
    """Ground truth on the HR grid including the margin: (size + 2*MARGIN,)*2 float64 >= 0."""
    rng = np.random.default_rng([seed, STRUCTURES.index(structure)])
    n_fine = FINE * (size + 2 * MARGIN)
    fine = render_ground_truth(structure, (n_fine, n_fine), hr_pixel_nm / FINE, rng)
    return area_downsample(fine, FINE)


def simulate_pair(
    structure: str,
    *,
    size: int = 256,
    scale: int = 2,
    photons: float | None = None,
    seed: int = 0,
    config: SimConfig | None = None,
    return_gt: bool = False,
    block: int | None = None,
):
    """Simulate one LR/HR pair.

    Parameters
    ----------
    structure : {"ccps", "microtubules", "er", "f-actin"}
    size : int
        HR image size in px (square); must be divisible by ``scale``.
    scale : int
        LR pixel / HR pixel.
    photons : float, optional
        Overrides ``config.photons``.
    seed : int
        Same seed, same pair (bit for bit).
    config : SimConfig, optional
    return_gt : bool
        Also return the ground truth on the HR grid.
    block : int, optional
        Make the pair block by block with blocks of this many HR px (bounded memory; same scene and
        HR, another draw of the LR's camera noise: :mod:`microsr.data.simulate_blocks`). Default:
        whole images up to ``WHOLE_UP_TO`` HR px, blocks of 512 px above.

    Returns
    -------
    lr : np.ndarray
        (size/scale, size/scale) float32 camera counts (>= 0 after clipping read noise).
    hr : np.ndarray
        (size, size) float32, 99.9th percentile = 20000 (or maximum = 60000 if that is lower).
    gt : np.ndarray, only with ``return_gt``
        (size, size) float32 ground truth in the HR's units (before the SIM PSF).
    """
    _check(structure, size, scale)
    cfg = config or SimConfig()
    photons = cfg.photons if photons is None else photons
    if block is not None or size > WHOLE_UP_TO:
        from microsr.data.simulate_blocks import BLOCK, simulate_blocks

        return simulate_blocks(
            structure,
            size=size,
            scale=scale,
            photons=photons,
            seed=seed,
            cfg=cfg,
            block=block or BLOCK,
            return_gt=return_gt,
        )
    gt = simulate_ground_truth(structure, size=size, seed=seed, hr_pixel_nm=cfg.hr_pixel_nm)
    crop = (slice(MARGIN, MARGIN + size),) * 2
    hr = GaussianPSF.from_fwhm(cfg.sim_fwhm_nm, cfg.hr_pixel_nm).apply(gt)[crop]
    wf = AiryPSF(cfg.wf_na, cfg.wf_wavelength_nm, cfg.hr_pixel_nm).apply(gt)[crop]
    k = HR_LEVEL / max(float(np.percentile(hr, 99.9)), float(hr.max()) / HR_HEADROOM, 1e-12)
    lr_clean = area_downsample(wf * k, scale)
    noise_rng = np.random.default_rng([seed, STRUCTURES.index(structure), 1])
    gain = photons / float(lr_clean.max())
    lr = add_poisson_gaussian(lr_clean, photons=photons, read_noise=cfg.read_noise, rng=noise_rng)
    lr = np.clip(lr * gain + cfg.baseline, 0, None).astype(np.float32)
    out = (lr, (hr * k).astype(np.float32))
    return out + ((gt[crop] * k).astype(np.float32),) if return_gt else out


def record_header(
    structure: str, *, size: int, scale: int, seed: int, count: int, hr_pixel_nm: float
) -> dict:
    """The fields every simulation.json starts with (format, sizes, seeds, pixel sizes)."""
    return {
        "format": "microsr-simulation/1",
        "structure": structure,
        "count": count,
        "hr_size_px": size,
        "lr_size_px": size // scale,
        "scale": scale,
        "seed": seed,
        "seeds": f"image i uses seed {seed} + i",
        "hr_pixel_nm": hr_pixel_nm,
        "lr_pixel_nm": hr_pixel_nm * scale,
    }


def simulation_record(
    structure: str, *, size: int, scale: int, seed: int, count: int, config: SimConfig
) -> dict:
    """JSON-ready description of a simulation run (written as simulation.json)."""
    return {
        **record_header(
            structure, size=size, scale=scale, seed=seed, count=count, hr_pixel_nm=config.hr_pixel_nm
        ),
        "optics": asdict(config),
        "units": {"lr": "camera counts (photo-electrons + baseline)", "hr": f"99.9th pct = {HR_LEVEL:g}"},
    }
