"""Per-pixel quality maps: SSIM map, absolute-error map and the NanoJ-SQUIRREL error map.

* :func:`ssim_map` - local SSIM (Gaussian window sigma 1.5, K1 0.01, K2 0.03, as
  ``microsr.metrics.ssim``); 1 where the prediction matches the ground truth, low or negative where
  structure differs.
* :func:`abs_error_map` - ``|pred - gt|`` after least-squares scaling of the prediction
  (``a * pred + b``) to the ground truth, so a global gain or offset is not reported as error.
* :func:`squirrel` - NanoJ-SQUIRREL (Culley et al., Nat. Methods 15:263, 2018): the super-resolved
  image is scaled (``alpha * sr + beta``) and blurred with a Gaussian of width ``sigma`` (the
  resolution-scaling function) so that it best matches a reference (least squares; ``sigma`` by
  bounded Brent search, ``alpha``/``beta`` in closed form at each ``sigma``). The error map is
  ``|blur(alpha * sr + beta) - reference|``; RSE is its root mean square, RSP the Pearson
  correlation of the two images. With a widefield/LR reference smaller than the SR image by an
  integer factor, the reference is Fourier-interpolated to the SR grid with mirror padding (as
  nanopyx, which in addition stretches the interpolated image to the input's min/max; we keep the
  reference's own units, so RSE differs from nanopyx's by that stretch factor, RSP does not).

Why not nanopyx's ``calculate_error_map``: nanopyx is a heavy compiled dependency (OpenCV,
PyOpenCL, ...); this ~40-line version is tested against it (test-only reference).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter
from scipy.optimize import minimize_scalar

from microsr.metrics import fit_affine, ssim

FWHM_PER_SIGMA = 2.35482


def _pair(gt: np.ndarray, pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    g = np.asarray(gt, dtype=np.float64)
    p = np.asarray(pred, dtype=np.float64)
    if g.ndim != 2 or g.shape != p.shape:
        raise ValueError(f"maps need two 2-D images of the same shape, got {g.shape} and {p.shape}")
    return g, p


def fit_scale(pred: np.ndarray, gt: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Least-squares ``a * pred + b ~ gt`` (:func:`microsr.metrics.fit_affine`).

    Returns
    -------
    scaled : np.ndarray, float64, same shape as ``pred``
    a, b : float
        Gain and offset.
    """
    scaled, (a, b) = fit_affine(pred, gt)
    return scaled, a, b


def ssim_map(gt: np.ndarray, pred: np.ndarray, *, data_range: float) -> tuple[float, np.ndarray]:
    """Mean SSIM and the local SSIM map.

    Parameters
    ----------
    gt, pred : np.ndarray, shape (H, W)
        Ground truth and prediction on the same grid and intensity scale.
    data_range : float
        Intensity range of the data (e.g. 1.0 for normalised images), must be > 0.

    Returns
    -------
    mean : float
        Mean SSIM, -1..1.
    smap : np.ndarray, shape (H, W), float64, values -1..1 (the outer 5 px use reflected padding)

    Raises
    ------
    ValueError
        Shape mismatch, images under 11 px, ``data_range <= 0``.
    """
    g, p = _pair(gt, pred)
    mean, smap = ssim(g, p, data_range=data_range, full=True)
    return float(mean), smap


def abs_error_map(gt: np.ndarray, pred: np.ndarray, *, fit: bool = True) -> np.ndarray:
    """Absolute error ``|a * pred + b - gt|`` (``a, b`` fitted when ``fit``, else 1, 0).

    Returns
    -------
    np.ndarray, shape (H, W), float64, >= 0, in ground-truth units
    """
    g, p = _pair(gt, pred)
    if fit:
        p = fit_scale(p, g)[0]
    return np.abs(p - g)


def fourier_upsample(image: np.ndarray, factor: int) -> np.ndarray:
    """Band-limited (zero-padded spectrum) interpolation by an integer factor.

    Parameters
    ----------
    image : np.ndarray, shape (h, w)
    factor : int >= 1

    Returns
    -------
    np.ndarray, shape (factor*h, factor*w), float64; samples ``[::factor, ::factor]`` equal the input.
    """
    a0 = np.asarray(image, dtype=np.float64)
    if factor == 1:
        return a0.copy()
    py, px = a0.shape[0] // 2, a0.shape[1] // 2  # mirror padding against edge ringing, as nanopyx
    a = np.pad(a0, ((py, py), (px, px)), mode="symmetric")
    h, w = a.shape
    f = np.zeros((h + 1, w + 1), complex)
    f[:h, :w] = np.fft.fftshift(np.fft.fft2(a))
    f[h, :] += 0.5 * f[0, :]  # split the Nyquist row/column symmetrically
    f[0, :] *= 0.5
    f[:, w] += 0.5 * f[:, 0]
    f[:, 0] *= 0.5
    big = np.zeros((h * factor, w * factor), complex)
    oy, ox = (h * factor - h) // 2, (w * factor - w) // 2
    big[oy : oy + h + 1, ox : ox + w + 1] = f
    out = np.fft.ifft2(np.fft.ifftshift(big)).real * factor * factor
    return out[py * factor : (py + a0.shape[0]) * factor, px * factor : (px + a0.shape[1]) * factor]


@dataclass
class SquirrelResult:
    """NanoJ-SQUIRREL fit.

    Attributes
    ----------
    error_map : np.ndarray, shape (H, W), >= 0
        ``|blur(alpha*sr + beta) - reference|`` in reference units, on the SR grid.
    rse : float
        Root mean square of the error (reference units, >= 0; lower is better).
    rsp : float
        Pearson correlation of the blurred, scaled SR image with the reference (-1..1).
    sigma : float
        Fitted Gaussian sigma (SR pixels) of the resolution-scaling function.
    alpha, beta : float
        Fitted gain and offset.
    """

    error_map: np.ndarray
    rse: float
    rsp: float
    sigma: float
    alpha: float
    beta: float


def squirrel(reference: np.ndarray, sr: np.ndarray, *, max_sigma: float | None = None) -> SquirrelResult:
    """NanoJ-SQUIRREL error map of a super-resolved image against a reference.

    Parameters
    ----------
    reference : np.ndarray, shape (H, W) or (H/m, W/m)
        The reference: ground truth on the SR grid, or the diffraction-limited (LR/widefield)
        image smaller by an integer factor ``m`` (then Fourier-interpolated to the SR grid).
    sr : np.ndarray, shape (H, W)
        The super-resolved image (any intensity range).
    max_sigma : float, optional
        Upper bound of the sigma search in SR pixels; default ``m * 4 / 2.35482`` (a reference
        PSF of up to 4 reference pixels FWHM, i.e. at least Nyquist sampled), at least 3 px.

    Returns
    -------
    SquirrelResult
    """
    ref = np.asarray(reference, dtype=np.float64)
    img = np.asarray(sr, dtype=np.float64)
    if ref.ndim != 2 or img.ndim != 2:
        raise ValueError(f"squirrel needs 2-D images, got {ref.shape} and {img.shape}")
    m = img.shape[0] // ref.shape[0] if ref.shape[0] else 0
    if m < 1 or ref.shape[0] * m != img.shape[0] or ref.shape[1] * m != img.shape[1]:
        raise ValueError(f"SR shape {img.shape} is not an integer multiple of reference {ref.shape}")
    ref_up = fourier_upsample(ref, m)
    if max_sigma is None:
        max_sigma = max(m * 4 / FWHM_PER_SIGMA, 3.0)

    def blurred_fit(sigma: float) -> tuple[np.ndarray, float, float]:
        b = gaussian_filter(img, sigma) if sigma > 0 else img
        return fit_scale(b, ref_up)

    def cost(sigma: float) -> float:
        return float(np.mean((blurred_fit(sigma)[0] - ref_up) ** 2))

    opt = minimize_scalar(cost, bounds=(0.0, float(max_sigma)), method="bounded", options={"xatol": 1e-4})
    sigma = float(opt.x)
    fitted, alpha, beta = blurred_fit(sigma)
    err = np.abs(fitted - ref_up)
    rse = float(np.sqrt(np.mean(err**2)))
    sd = fitted.std() * ref_up.std()
    rsp = float(np.mean((fitted - fitted.mean()) * (ref_up - ref_up.mean())) / sd) if sd > 0 else 0.0
    return SquirrelResult(err, rse, rsp, sigma, alpha, beta)
