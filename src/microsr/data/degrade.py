"""Make a low-resolution image from a high-resolution one (for users with only HR images).

``degrade`` = PSF blur on the HR grid -> exact block-mean (area) downsampling by ``scale`` ->
optional Poisson-Gaussian camera noise. Everything random comes from the ``rng`` passed in, so a
seeded generator gives identical results.

PSFs
----
``GaussianPSF(sigma_px)``: ``scipy.ndimage.gaussian_filter`` (reflect borders).
``AiryPSF(na, wavelength_nm, pixel_nm)``: the in-focus widefield intensity PSF
``I(r) = (2 J1(v) / v)^2`` with ``v = 2 pi NA r / lambda`` (scipy.special.j1), integrated over
each pixel by 5x5 supersampling, truncated at ~3.5 Airy radii and normalised to sum 1. Its FWHM
is ``0.5145 lambda / NA`` (often quoted as 0.51 lambda/NA); the first zero is at
``0.61 lambda / NA``. Convolution is done by FFT on a reflect-padded image.

Noise
-----
The blurred, downsampled image is scaled so that its maximum becomes ``photons`` expected
photo-electrons, Poisson-sampled, Gaussian read noise of ``read_noise`` e- (std) added, and scaled
back to the input's units (so the LR stays comparable to the HR; values may dip below 0 from
read noise and are clipped when written to an integer type). No camera offset is added.

Why hand-written: ``skimage.transform.downscale_local_mean`` pads ragged edges with zeros (we crop
instead, so no dark border appears) and ``skimage.util.random_noise`` has no photon-count scale or
read noise; neither scipy nor skimage provides a pixel-integrated Airy kernel. The FFT
convolution is the few lines of ``scipy.signal.fftconvolve`` we need, because importing
``scipy.signal`` (it pulls in ``scipy.stats``) costs 1-2 s per process.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import fft, ndimage, special

AIRY_FWHM_FACTOR = 0.5145  # FWHM = 0.5145 * lambda / NA  (v_half = 1.6163)


@dataclass(frozen=True)
class GaussianPSF:
    """Gaussian blur of standard deviation ``sigma_px`` (HR pixels, > 0)."""

    sigma_px: float

    @classmethod
    def from_fwhm(cls, fwhm_nm: float, pixel_nm: float) -> GaussianPSF:
        """Gaussian with the given FWHM (nm) at ``pixel_nm`` nm per pixel."""
        return cls(fwhm_nm / (2.0 * np.sqrt(2.0 * np.log(2.0))) / pixel_nm)

    def apply(self, image: np.ndarray) -> np.ndarray:
        """Blur a (H, W) float image; same shape, float64."""
        return ndimage.gaussian_filter(np.asarray(image, np.float64), self.sigma_px, mode="reflect")


@dataclass(frozen=True)
class AiryPSF:
    """Widefield Airy PSF from numerical aperture, emission wavelength and pixel size.

    Attributes
    ----------
    na : float
        Numerical aperture (e.g. 1.4).
    wavelength_nm : float
        Emission wavelength in nm (e.g. 520).
    pixel_nm : float
        Pixel size of the grid the PSF is applied on (the HR grid), nm.
    """

    na: float
    wavelength_nm: float
    pixel_nm: float

    @property
    def fwhm_nm(self) -> float:
        """Full width at half maximum, ``0.5145 * wavelength / NA`` (nm)."""
        return AIRY_FWHM_FACTOR * self.wavelength_nm / self.na

    def kernel(self, *, supersample: int = 5, radius_px: int | None = None) -> np.ndarray:
        """Pixel-integrated Airy intensity kernel.

        Returns
        -------
        np.ndarray
            (2R+1, 2R+1) float64, sums to 1, centred.
        """
        if self.na <= 0 or self.wavelength_nm <= 0 or self.pixel_nm <= 0:
            raise ValueError("NA, wavelength and pixel size must be positive")
        airy_r = 0.61 * self.wavelength_nm / self.na / self.pixel_nm  # first zero, px
        r_px = radius_px if radius_px is not None else max(3, int(np.ceil(3.5 * airy_r)))
        n = 2 * r_px + 1
        sub = (np.arange(n * supersample) + 0.5) / supersample - (n / 2.0)
        yy, xx = np.meshgrid(sub, sub, indexing="ij")
        v = 2.0 * np.pi * self.na * np.hypot(yy, xx) * self.pixel_nm / self.wavelength_nm
        with np.errstate(invalid="ignore", divide="ignore"):
            amp = np.where(v > 1e-9, 2.0 * special.j1(v) / v, 1.0)
        k = (amp**2).reshape(n, supersample, n, supersample).sum(axis=(1, 3))
        return k / k.sum()

    def apply(self, image: np.ndarray) -> np.ndarray:
        """Blur a (H, W) float image by FFT convolution with reflect padding; float64."""
        k = self.kernel()
        r = k.shape[0] // 2
        padded = np.pad(np.asarray(image, np.float64), r, mode="reflect")
        return fft_convolve_valid(padded, k)


def fft_convolve_valid(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """``scipy.signal.fftconvolve(image, kernel, mode="valid")`` for 2-D float arrays.

    Parameters
    ----------
    image : np.ndarray
        (H, W) float.
    kernel : np.ndarray
        (kh, kw) float, kh <= H and kw <= W.

    Returns
    -------
    np.ndarray
        (H - kh + 1, W - kw + 1) float64.
    """
    (h, w), (kh, kw) = image.shape, kernel.shape
    shape = (fft.next_fast_len(h + kh - 1, real=True), fft.next_fast_len(w + kw - 1, real=True))
    full = fft.irfft2(fft.rfft2(image, shape) * fft.rfft2(kernel, shape), shape)
    return full[kh - 1 : h, kw - 1 : w]


def crop_to_multiple(image: np.ndarray, scale: int) -> np.ndarray:
    """Crop the last two axes (bottom/right) to multiples of ``scale`` (a view)."""
    h, w = image.shape[-2:]
    return image[..., : h - h % scale, : w - w % scale]


def area_downsample(image: np.ndarray, scale: int) -> np.ndarray:
    """Exact block mean over ``scale x scale`` pixels.

    Parameters
    ----------
    image : np.ndarray
        (..., H, W) with H and W divisible by ``scale`` (crop first with
        :func:`crop_to_multiple`; a ValueError says so otherwise).

    Returns
    -------
    np.ndarray
        (..., H/scale, W/scale) float64.
    """
    h, w = image.shape[-2:]
    if h % scale or w % scale:
        raise ValueError(f"image {h}x{w} is not divisible by scale {scale}; crop it first")
    x = np.asarray(image, np.float64).reshape(*image.shape[:-2], h // scale, scale, w // scale, scale)
    return x.mean(axis=(-3, -1))


def add_poisson_gaussian(
    image: np.ndarray,
    *,
    photons: float,
    read_noise: float,
    rng: np.random.Generator,
    peak: float | None = None,
) -> np.ndarray:
    """Camera noise at a peak of ``photons`` expected photo-electrons.

    Parameters
    ----------
    image : np.ndarray
        (H, W) non-negative intensities (any units); negatives are treated as 0 for Poisson.
    photons : float
        Expected photo-electrons at the image maximum (> 0). 10-100 is very noisy, 1000 mild.
    read_noise : float
        Gaussian read noise std in e- (>= 0).
    rng : np.random.Generator
    peak : float, optional
        The intensity that gets ``photons`` (default: the image's maximum; give the whole image's
        maximum when ``image`` is one block of it).

    Returns
    -------
    np.ndarray
        float64, same shape and units as ``image``.
    """
    if photons <= 0:
        raise ValueError(f"photons must be positive, got {photons}")
    peak = float(np.max(image)) if peak is None else float(peak)
    if not peak > 0:
        return np.asarray(image, np.float64).copy()
    gain = photons / peak
    counts = rng.poisson(np.clip(image, 0, None) * gain).astype(np.float64)
    if read_noise > 0:
        counts += rng.normal(0.0, read_noise, size=counts.shape)
    return counts / gain


def degrade(
    hr: np.ndarray,
    *,
    scale: int,
    psf: GaussianPSF | AiryPSF | None = None,
    photons: float | None = None,
    read_noise: float = 0.0,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Simulate the LR acquisition of an HR image.

    Parameters
    ----------
    hr : np.ndarray
        (H, W) image, any real dtype, H and W divisible by ``scale`` (see :func:`crop_to_multiple`).
    scale : int
        Downsampling factor (>= 1).
    psf : GaussianPSF or AiryPSF, optional
        Blur applied on the HR grid before downsampling; ``None`` for no blur.
    photons : float, optional
        Peak expected photo-electrons; ``None`` for no noise.
    read_noise : float
        Read noise std in e- (used only with ``photons``).
    rng : np.random.Generator, optional
        Needed when ``photons`` is given.

    Returns
    -------
    np.ndarray
        (H/scale, W/scale) float32 in the HR's intensity units.
    """
    if scale < 1:
        raise ValueError(f"scale must be >= 1, got {scale}")
    x = np.asarray(hr, np.float64)
    if psf is not None:
        x = psf.apply(x)
    x = area_downsample(x, scale)
    if photons is not None:
        if rng is None:
            raise ValueError("noise needs a random generator (rng)")
        x = add_poisson_gaussian(x, photons=photons, read_noise=read_noise, rng=rng)
    return x.astype(np.float32)
