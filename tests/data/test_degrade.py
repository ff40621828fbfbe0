import numpy as np
import pytest

from microsr.data.degrade import (
    AiryPSF,
    GaussianPSF,
    add_poisson_gaussian,
    area_downsample,
    crop_to_multiple,
    degrade,
)


def _fwhm_1d(profile, step):
    """FWHM of a centred, peaked 1-D profile by linear interpolation at half maximum."""
    half = profile.max() / 2
    c = int(np.argmax(profile))
    right = c + np.argmax(profile[c:] < half)
    x0, x1 = right - 1, right
    frac = (profile[x0] - half) / (profile[x0] - profile[x1])
    return 2 * ((x0 + frac) - c) * step


def test_airy_fwhm_matches_0p51_lambda_over_na():
    # fine 5 nm grid, point-sampled (supersample 1) so the kernel is the analytic pattern
    psf = AiryPSF(na=1.4, wavelength_nm=520, pixel_nm=5.0)
    k = psf.kernel(supersample=1)
    assert k.sum() == pytest.approx(1.0)
    fwhm = _fwhm_1d(k[k.shape[0] // 2], 5.0)
    assert fwhm == pytest.approx(0.5145 * 520 / 1.4, rel=0.02)  # 191.1 nm
    assert fwhm == pytest.approx(0.51 * 520 / 1.4, rel=0.03)
    assert psf.fwhm_nm == pytest.approx(191.1, abs=0.1)
    # first dark ring at 0.61 lambda/NA = 226.6 nm -> ~45 px
    row = k[k.shape[0] // 2, k.shape[0] // 2 :]
    assert abs(int(np.argmin(row[:60])) * 5.0 - 226.6) <= 5.0


def test_airy_blur_conserves_flux_and_keeps_shape():
    img = np.zeros((61, 61))  # kernel radius is 27 px: fits without touching the border
    img[30, 30] = 100.0
    out = AiryPSF(na=1.2, wavelength_nm=600, pixel_nm=40).apply(img)
    assert out.shape == img.shape and out.sum() == pytest.approx(100.0, rel=1e-3)
    assert np.unravel_index(np.argmax(out), out.shape) == (30, 30)


def test_gaussian_from_fwhm():
    g = GaussianPSF.from_fwhm(235.48, 10.0)
    assert g.sigma_px == pytest.approx(10.0, rel=1e-3)


def test_area_downsample_is_block_mean():
    x = np.arange(36, dtype=float).reshape(6, 6)
    y = area_downsample(x, 3)
    assert y.shape == (2, 2)
    assert y[0, 0] == pytest.approx(x[:3, :3].mean()) and y[1, 1] == pytest.approx(x[3:, 3:].mean())
    with pytest.raises(ValueError, match="crop"):
        area_downsample(np.zeros((7, 6)), 2)
    assert crop_to_multiple(np.zeros((7, 11)), 2).shape == (6, 10)


def test_noise_statistics():
    rng = np.random.default_rng(0)
    img = np.full((200, 200), 5.0)
    out = add_poisson_gaussian(img, photons=100, read_noise=0, rng=rng)
    # Poisson at 100 e-: mean 100, variance 100 -> in image units mean 5, std 0.5
    assert out.mean() == pytest.approx(5.0, rel=0.01) and out.std() == pytest.approx(0.5, rel=0.03)
    out = add_poisson_gaussian(img, photons=100, read_noise=10, rng=rng)
    assert out.std() == pytest.approx(5 * np.sqrt(200) / 100, rel=0.03)


def test_degrade_deterministic_and_shapes():
    hr = np.random.default_rng(1).random((64, 48)).astype(np.float32) * 1000
    kw = dict(scale=4, psf=GaussianPSF(2.0), photons=50, read_noise=2)
    a = degrade(hr, rng=np.random.default_rng(7), **kw)
    b = degrade(hr, rng=np.random.default_rng(7), **kw)
    c = degrade(hr, rng=np.random.default_rng(8), **kw)
    assert a.shape == (16, 12) and a.dtype == np.float32
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    clean = degrade(hr, scale=4)
    assert np.allclose(clean, area_downsample(hr, 4))
    with pytest.raises(ValueError, match="rng"):
        degrade(hr, scale=4, photons=10)


def test_fft_convolution_matches_scipy_signal():
    from scipy import signal

    from microsr.data.degrade import fft_convolve_valid

    rng = np.random.default_rng(3)
    img, k = rng.random((37, 29)), rng.random((9, 7))
    np.testing.assert_allclose(
        fft_convolve_valid(img, k), signal.fftconvolve(img, k, mode="valid"), atol=1e-10
    )
