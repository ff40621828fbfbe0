"""Large simulated pairs made block by block (see :mod:`microsr.data.simulate` for the pipeline).

The whole-image simulator holds the fine grid (twice the HR size, plus margins) several times in
float64: 6.6 GB at 4096 HR px. Here the same scene (the same geometry from the same seed,
:class:`microsr.data.structures.Scene`) is rendered on one block at a time, with halos as wide as
each blur reaches, so that every block sees what the whole image would:

1. pass 1 renders the structure block by block for its 99.9th percentile (the haze level), kept
   exactly from the largest values of each block (:class:`microsr.data.fields.TopValues`);
2. pass 2 renders ground truth on each HR block plus a halo of the widest PSF, applies the SIM
   and widefield PSFs there and keeps the block's HR and area-downsampled widefield image;
3. the HR scaling (its 99.9th percentile) and the noise gain (the brightest LR pixel) come from
   the assembled images, then camera noise is drawn block by block.

What is equal to the whole-image simulator with the same seed: the geometry, the ground truth and
the HR (to float32 rounding) and the noise-free LR. What differs: the camera
noise, which is drawn per LR block from ``default_rng([seed, structure id, 1, block row, block
column])`` (the whole image draws it from ``[seed, structure id, 1]``), so the LR is a different
realisation of the same noise distribution. Memory: 5 bytes per HR pixel for the assembled
images (HR and LR, float32) plus a working set set by ``block`` (a few hundred MB at the
default), instead of ~400 bytes per HR pixel for the whole-image simulator.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from microsr.data.degrade import AiryPSF, GaussianPSF, add_poisson_gaussian, area_downsample
from microsr.data.fields import Region, TopValues, crop, grow
from microsr.data.structures import STRUCTURES, make_scene

BLOCK = 512  # HR px per block side


def tiles(size: int, block: int) -> Iterator[tuple[int, int, Region]]:
    """``(row, column, region)`` of the blocks covering a ``size`` x ``size`` grid."""
    for i, y in enumerate(range(0, size, block)):
        for j, x in enumerate(range(0, size, block)):
            yield i, j, (y, min(size, y + block), x, min(size, x + block))


def _structure_level(scene, n_fine: int, block: int) -> float:
    """``np.percentile(structure, 99.9)`` of the whole fine grid (1.0 for an empty one), by block."""
    top = TopValues(n_fine * n_fine, 99.9)
    for _, _, region in tiles(n_fine, block):
        top.add(scene.structure(region))
    return top.percentile() if top.max > 0 else 1.0


def simulate_blocks(
    structure: str,
    *,
    size: int,
    scale: int,
    photons: float,
    seed: int,
    cfg,
    block: int = BLOCK,
    return_gt: bool = False,
) -> tuple[np.ndarray, ...]:
    """``simulate_pair`` made block by block: ``(lr, hr)`` float32, and ``gt`` with ``return_gt``.

    ``block`` (HR px) is rounded down to a multiple of ``scale``. See the module docstring for what
    equals the whole-image simulation.
    """
    from microsr.data.simulate import FINE, HR_HEADROOM, HR_LEVEL, MARGIN

    sid = STRUCTURES.index(structure)
    block = max(scale, block - block % scale)
    grid = size + 2 * MARGIN
    scene = make_scene(
        structure, (FINE * grid,) * 2, cfg.hr_pixel_nm / FINE, np.random.default_rng([seed, sid]), whole=False
    )
    haze = 0.03 * _structure_level(scene, FINE * grid, FINE * block)
    sim = GaussianPSF.from_fwhm(cfg.sim_fwhm_nm, cfg.hr_pixel_nm)
    wf = AiryPSF(cfg.wf_na, cfg.wf_wavelength_nm, cfg.hr_pixel_nm)
    halo = max(wf.kernel().shape[0] // 2, int(4.0 * sim.sigma_px + 0.5)) + 1
    hr = np.empty((size, size), np.float32)  # float32 while assembling: 5 bytes per HR px in all
    lr = np.empty((size // scale, size // scale), np.float32)
    gt = np.empty((size, size), np.float32) if return_gt else None
    for _, _, (y0, y1, x0, x1) in tiles(size, block):
        inner = (y0 + MARGIN, y1 + MARGIN, x0 + MARGIN, x1 + MARGIN)
        outer = grow(inner, halo, (grid, grid))
        fine: Region = (FINE * outer[0], FINE * outer[1], FINE * outer[2], FINE * outer[3])
        truth = area_downsample(scene.structure(fine) + haze * (0.5 + scene.haze_on(fine)), FINE)
        hr[y0:y1, x0:x1] = crop(sim.apply(truth), outer, inner)
        lr[y0 // scale : y1 // scale, x0 // scale : x1 // scale] = area_downsample(
            crop(wf.apply(truth), outer, inner), scale
        )
        if gt is not None:
            gt[y0:y1, x0:x1] = crop(truth, outer, inner)
    k = HR_LEVEL / max(float(np.percentile(hr, 99.9)), float(hr.max()) / HR_HEADROOM, 1e-12)
    lr *= k
    peak = float(lr.max())
    lr_out = np.empty(lr.shape, np.float32)
    for i, j, (y0, y1, x0, x1) in tiles(size // scale, block // scale):
        rng = np.random.default_rng([seed, sid, 1, i, j])
        noisy = add_poisson_gaussian(
            lr[y0:y1, x0:x1], photons=photons, read_noise=cfg.read_noise, rng=rng, peak=peak
        )
        lr_out[y0:y1, x0:x1] = np.clip(noisy * (photons / peak) + cfg.baseline, 0, None)
    del lr
    hr *= k
    if gt is None:
        return lr_out, hr.astype(np.float32)
    gt *= np.float32(k)
    return lr_out, hr.astype(np.float32), gt
