"""Fourier ring correlation (FRC) resolution, from two images or from one split image.

FRC (Nieuwenhuizen et al., Nat. Methods 10:557, 2013) needs two images with independent noise:
both are Tukey-tapered (alpha 0.25), their spectra correlated on rings sampled by bilinear
interpolation (as NanoJ/nanopyx), the curve smoothed (Savitzky-Golay, window 7 % of its length,
order 3) and the resolution is 1 / (first frequency where the curve drops below 1/7). Ring ``r`` of
an ``N``-pixel image is the frequency ``r / N``; nanopyx uses ``r / (N - 4)``, otherwise the curves
are identical, so results differ by exactly ``N / (N - 4)`` (1.6 % at N = 256). With one image, :func:`frc_single` splits it into two diagonal checkerboard sub-images
(odd/odd vs even/even pixels, averaged with the reversed split) and applies the empirical cut-off
correction of Koho et al. (Nat. Commun. 10:3103, 2019, as in miplib); nanopyx has no single-image
FRC.

Why not call nanopyx: it is a compiled package that pulls OpenCV, PyOpenCL, scikit-learn and
ipywidgets; this NumPy version is short, vectorised and tested against it (test-only reference).
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import map_coordinates
from scipy.signal import savgol_filter
from scipy.signal.windows import tukey

from microsr.evaluation.resolution import ResolutionResult, check_image_2d, pad_square


def frc_curve(image1: np.ndarray, image2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unsmoothed FRC curve of two images.

    Parameters
    ----------
    image1, image2 : np.ndarray, shape (H, W)
        Same shape, independent noise.

    Returns
    -------
    freq : np.ndarray, shape (N//2 - 1,)
        Spatial frequency of each ring in cycles/pixel (0 .. ~0.5).
    frc : np.ndarray, shape (N//2 - 1,)
        Correlation per ring, -1..1 (``frc[0] = 1``).
    """
    a, b = check_image_2d(image1, "image1"), check_image_2d(image2, "image2")
    if a.shape != b.shape:
        raise ValueError(f"FRC needs two images of the same shape, got {a.shape} and {b.shape}")
    taper = np.outer(tukey(a.shape[0], 0.25), tukey(a.shape[1], 0.25))
    a, b = pad_square(a * taper, 0.0), pad_square(b * taper, 0.0)
    n = a.shape[0]
    f1, f2 = np.fft.fftshift(np.fft.fft2(a)), np.fft.fftshift(np.fft.fft2(b))
    planes = np.stack([(f1 * np.conj(f2)).real, np.abs(f1) ** 2, np.abs(f2) ** 2])
    c = n // 2
    radii = np.arange(1, c - 1)
    ring, ys, xs = [], [], []
    for r in radii:  # angular step 1/r rad, as NanoJ
        ang = np.arange(0, 2 * np.pi, 1.0 / r)
        ring.append(np.full(ang.size, r))
        xs.append(c + r * np.cos(ang))
        ys.append(c + r * np.sin(ang))
    ring_a = np.concatenate(ring) - 1
    coords = np.stack([np.concatenate(ys), np.concatenate(xs)])
    sums = [np.bincount(ring_a, weights=map_coordinates(p, coords, order=1, mode="nearest")) for p in planes]
    with np.errstate(invalid="ignore", divide="ignore"):
        frc = sums[0] / np.sqrt(sums[1] * sums[2])
    frc = np.concatenate([[1.0], np.nan_to_num(frc, nan=0.0)])
    return np.arange(0, c - 1) / n, frc


def _threshold_crossing(freq: np.ndarray, curve: np.ndarray, threshold: float) -> float:
    below = np.nonzero(curve < threshold)[0]
    below = below[below > 0]
    if below.size == 0:
        return float("nan")
    i = below[0]
    y1, y2 = curve[i - 1], curve[i]
    return float(freq[i - 1] + (threshold - y1) * (freq[i] - freq[i - 1]) / (y2 - y1))


def _smooth(curve: np.ndarray) -> np.ndarray:
    window = max(int(0.0707 * curve.size), 4)
    return savgol_filter(curve, window_length=window, polyorder=3) if curve.size > window else curve


def frc(
    image1: np.ndarray,
    image2: np.ndarray,
    *,
    pixel_size: float | None = None,
    threshold: float = 1 / 7,
) -> ResolutionResult:
    """FRC resolution of two images of the same field with independent noise.

    Parameters
    ----------
    image1, image2 : np.ndarray, shape (H, W)
        Two acquisitions (or two halves of a time series) of the same field.
    pixel_size : float, optional
        Micrometres per pixel; only used to report nanometres.
    threshold : float
        Fixed threshold, 1/7 by default.

    Returns
    -------
    ResolutionResult
        ``resolution_px = 1 / cutoff`` (cycles/pixel); ``inf`` if the curve never drops below.
    """
    freq, curve = frc_curve(image1, image2)
    curve = _smooth(curve)
    fc = _threshold_crossing(freq, curve, threshold)
    res = 1.0 / fc if np.isfinite(fc) and fc > 0 else float("inf")
    return ResolutionResult("frc", res, pixel_size, fc, threshold, freq, curve)


def _koho_correction(point: float) -> float:
    """Koho et al. 2019 empirical cut-off correction (miplib), ``point`` normalised to 0..1."""
    return 0.95988146 * np.exp(13.90441896 * (point - 0.97979108)) + 0.55146136


def frc_single(
    image: np.ndarray, *, pixel_size: float | None = None, threshold: float = 1 / 7
) -> ResolutionResult:
    """One-image FRC by diagonal checkerboard splitting (Koho et al. 2019).

    Parameters
    ----------
    image : np.ndarray, shape (H, W), H, W >= 32
        One image whose noise is independent from pixel to pixel (not for images that were
        interpolated, deconvolved or super-resolved on the same grid, whose pixels are correlated).
    pixel_size, threshold
        As in :func:`frc`.

    Returns
    -------
    ResolutionResult
        Resolution in pixels of the original image, after the empirical correction.
    """
    img = check_image_2d(image)
    h, w = (img.shape[0] // 2) * 2, (img.shape[1] // 2) * 2
    img = img[:h, :w]
    freq, c1 = frc_curve(img[1::2, 1::2], img[0::2, 0::2])
    _, c2 = frc_curve(img[1::2, 0::2], img[0::2, 1::2])
    curve = _smooth(0.5 * (c1 + c2))
    fc = _threshold_crossing(freq, curve, threshold)
    if not (np.isfinite(fc) and fc > 0):
        return ResolutionResult("frc-single", float("inf"), pixel_size, fc, threshold, freq, curve)
    point = fc / 0.5  # normalised to the sub-images' Nyquist frequency
    res = (2.0 / point) / _koho_correction(point)  # sub-image spacing kept at 1 px, as miplib
    return ResolutionResult("frc-single", float(res), pixel_size, fc, threshold, freq, curve)
