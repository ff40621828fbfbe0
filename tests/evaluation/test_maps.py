"""SSIM / error maps and NanoJ-SQUIRREL against nanopyx 2.1.x (reference) and known answers."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter
from skimage.metrics import structural_similarity

from microsr.evaluation.maps import abs_error_map, fourier_upsample, squirrel, ssim_map


def test_ssim_map_matches_skimage_gaussian_convention(celegans):
    gt = celegans[:96, :96].astype(np.float64)
    pred = gaussian_filter(gt, 1.0)
    dr = float(gt.max() - gt.min())
    mean, smap = ssim_map(gt, pred, data_range=dr)
    ref_mean, ref_map = structural_similarity(
        gt, pred, data_range=dr, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, full=True
    )
    assert mean == pytest.approx(ref_mean, abs=1e-12)
    np.testing.assert_allclose(smap, ref_map, atol=1e-12)
    assert smap.shape == gt.shape and smap.max() <= 1 + 1e-12


def test_abs_error_map_ignores_gain_and_offset():
    rng = np.random.default_rng(0)
    gt = rng.random((32, 32))
    assert abs_error_map(gt, 3 * gt + 7).max() < 1e-9
    assert abs_error_map(gt, 3 * gt + 7, fit=False).min() > 6


@pytest.mark.parametrize("sigma", [1.2, 1.6])
def test_squirrel_matches_nanopyx_same_grid(celegans, nanopyx_squirrel, sigma):
    rng = np.random.default_rng(0)
    ref = (gaussian_filter(celegans, sigma) * 0.5 + 100 + rng.normal(0, 20, celegans.shape)).astype(
        np.float32
    )
    mine = squirrel(ref, celegans)
    emap, rse, rsp = nanopyx_squirrel.calculate_error_map(ref, celegans)
    assert mine.sigma == pytest.approx(sigma, rel=0.02)
    assert mine.rse == pytest.approx(rse, rel=0.01)
    assert mine.rsp == pytest.approx(rsp, rel=0.001)
    np.testing.assert_allclose(mine.error_map, emap, atol=0.01 * float(emap.max()))


def test_squirrel_fit_is_never_worse_than_nanopyx(celegans, nanopyx_squirrel):
    # at sigma 0.7 nanopyx's unbounded Brent search stops at a worse sigma; ours finds the true one
    rng = np.random.default_rng(0)
    ref = (gaussian_filter(celegans, 0.7) * 0.5 + 100 + rng.normal(0, 20, celegans.shape)).astype(np.float32)
    mine = squirrel(ref, celegans)
    _, rse, _ = nanopyx_squirrel.calculate_error_map(ref, celegans)
    assert mine.sigma == pytest.approx(0.7, rel=0.02)
    assert mine.rse <= rse * 1.0001
    assert mine.rse == pytest.approx(20.0, rel=0.05)  # = the added noise


def test_squirrel_against_lr_reference_recovers_blur_gain_and_noise(celegans, nanopyx_squirrel):
    rng = np.random.default_rng(0)
    lr = (gaussian_filter(celegans, 2.0)[::2, ::2] * 0.3 + 50 + rng.normal(0, 5, (128, 128))).astype(
        np.float32
    )
    mine = squirrel(lr, celegans)
    assert mine.sigma == pytest.approx(2.0, rel=0.02)
    assert mine.alpha == pytest.approx(0.3, rel=0.02)
    assert mine.rse == pytest.approx(5.0, rel=0.05)  # analytic: the added noise's std
    assert mine.error_map.shape == celegans.shape
    # the fit itself equals nanopyx's when given nanopyx's interpolated reference
    from nanopyx.core.transform._interpolation import fht_space_interpolation

    ref_up = np.asarray(fht_space_interpolation(np.asarray([lr]), 2))[0]
    _, rse, rsp = nanopyx_squirrel.calculate_error_map(lr, celegans)
    same = squirrel(ref_up, celegans)
    assert same.rse == pytest.approx(rse, rel=0.01)
    assert same.rsp == pytest.approx(rsp, rel=0.001)
    assert mine.rsp >= rsp  # mirror-padded interpolation has no wrap-around ringing


def test_fourier_upsample_keeps_samples_and_bandlimit():
    rng = np.random.default_rng(1)
    img = gaussian_filter(rng.random((40, 48)), 2.0)
    up = fourier_upsample(img, 3)
    assert up.shape == (120, 144)
    np.testing.assert_allclose(up[::3, ::3], img, atol=1e-10)
    x = np.arange(64)
    wave = np.cos(2 * np.pi * 0.1 * x)[None, :].repeat(64, 0)
    fine = np.cos(2 * np.pi * 0.05 * np.arange(128))[None, :].repeat(128, 0)
    np.testing.assert_allclose(fourier_upsample(wave, 2)[32:96, 32:96], fine[32:96, 32:96], atol=0.02)


def test_squirrel_rejects_non_integer_shapes():
    with pytest.raises(ValueError, match="integer multiple"):
        squirrel(np.ones((30, 30)), np.ones((64, 64)))
