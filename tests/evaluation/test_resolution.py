"""Decorrelation analysis and FRC against nanopyx 2.1.x (reference) and against known blur."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from microsr.evaluation.frc import frc, frc_single
from microsr.evaluation.resolution import decorrelation
from tests.real_images import CELEGANS_PIXEL_SIZE_UM


def _noisy_pair(img: np.ndarray, blur: float, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    b = gaussian_filter(img, blur) if blur else img
    return [rng.poisson(np.clip(b, 0, None) / 10).astype(np.float32) for _ in range(2)]


def test_decorrelation_matches_nanopyx_on_real_image(celegans, nanopyx_squirrel):
    mine = decorrelation(celegans, pixel_size=CELEGANS_PIXEL_SIZE_UM)
    ref = nanopyx_squirrel.calculate_decorr_analysis(celegans)  # px
    assert mine.resolution_px == pytest.approx(ref, rel=0.05)
    assert mine.resolution_nm == pytest.approx(mine.resolution_px * CELEGANS_PIXEL_SIZE_UM * 1000)
    assert 0 < mine.amplitude < 1


def test_decorrelation_and_frc_match_nanopyx_on_noisy_real_image(celegans, nanopyx_squirrel):
    a, b = _noisy_pair(celegans, 2.0, seed=0)
    ref = nanopyx_squirrel.calculate_decorr_analysis(a)
    assert decorrelation(a).resolution_px == pytest.approx(ref, rel=0.05)
    a, b = a[64:192, 64:192], b[64:192, 64:192]  # nanopyx's FRC takes ~8 s at 256 px
    ref = nanopyx_squirrel.calculate_frc(a, b)
    assert 2 < ref < 20
    # same curve; only the frequency axis differs: nanopyx uses r/(N-4), we use r/N
    assert frc(a, b).resolution_px == pytest.approx(ref * 128 / 124, rel=0.005)


def test_resolution_worsens_monotonically_with_blur(celegans):
    decor, frcs, single = [], [], []
    for blur in [1.0, 2.0, 3.0, 4.0]:
        a, b = _noisy_pair(celegans, blur, seed=2)
        decor.append(decorrelation(a).resolution_px)
        frcs.append(frc(a, b).resolution_px)
        single.append(frc_single(a).resolution_px)
    for values in (decor, frcs, single):
        assert all(np.isfinite(values)), values
        assert np.all(np.diff(values) > 0), values


def test_gaussian_blur_sets_decorrelation_scale():
    # white-noise-free random texture blurred by sigma: the spectrum ends near 1/(pi*sigma) c/px
    rng = np.random.default_rng(3)
    tex = rng.random((256, 256))
    res = [
        decorrelation(gaussian_filter(tex, s) + rng.normal(0, 1e-3, tex.shape)).resolution_px
        for s in (1.5, 3.0)
    ]
    assert res[1] / res[0] == pytest.approx(2.0, rel=0.25)


def test_frc_of_identical_noise_free_images_never_crosses():
    img = gaussian_filter(np.random.default_rng(4).random((64, 64)), 1.0)
    assert frc(img, img).resolution_px == np.inf
    assert frc(img, img).describe() == "not found"


def test_bad_shapes_raise():
    with pytest.raises(ValueError, match="same shape"):
        frc(np.ones((64, 64)), np.ones((64, 32)))
    with pytest.raises(ValueError, match="2-D"):
        decorrelation(np.ones((4, 64, 64)))
