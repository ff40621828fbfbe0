"""PSNR, SSIM, MS-SSIM, NRMSE and the affine fit against scikit-image / pytorch-msssim on real images.

Reference values come from the libraries at test time: scikit-image 0.26
(``peak_signal_noise_ratio``, ``structural_similarity(gaussian_weights=True, sigma=1.5,
use_sample_covariance=False)``, ``normalized_root_mse``) and pytorch-msssim 1.0 (``ssim``,
``ms_ssim``, float64 tensors).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter
from skimage import metrics as skm

from microsr.metrics import crop_border, fit_affine, ms_ssim, nrmse, psnr, ssim
from tests.real_images import load_real

SK_SSIM = {"gaussian_weights": True, "sigma": 1.5, "use_sample_covariance": False}


def _pair(name: str):
    """A real ground truth and a plausible degraded 'prediction' (blur + noise), both float64."""
    gt = load_real(name).astype(np.float64)
    rng = np.random.default_rng(7)
    pred = gaussian_filter(gt, 1.0) + rng.normal(0, 0.03 * (gt.max() - gt.min()), gt.shape)
    return gt, pred, float(gt.max() - gt.min())


@pytest.mark.parametrize("name", ["celegans", "nuclei2d"])
def test_psnr_ssim_nrmse_match_scikit_image(name):
    gt, pred, dr = _pair(name)
    assert psnr(gt, pred, data_range=dr) == pytest.approx(
        skm.peak_signal_noise_ratio(gt, pred, data_range=dr), abs=1e-10
    )
    assert ssim(gt, pred, data_range=dr) == pytest.approx(
        skm.structural_similarity(gt, pred, data_range=dr, **SK_SSIM), abs=1e-10
    )
    for norm in ("euclidean", "min-max", "mean"):
        assert nrmse(gt, pred, normalization=norm) == pytest.approx(
            skm.normalized_root_mse(gt, pred, normalization=norm), rel=1e-12
        )


def test_uint16_inputs_do_not_wrap_around():
    gt = load_real("nuclei2d")
    pred = (gt // 2).astype(np.uint16)  # pred < gt: uint16 subtraction would wrap
    dr = float(gt.max() - gt.min())
    ref = skm.peak_signal_noise_ratio(gt.astype(float), pred.astype(float), data_range=dr)
    assert psnr(gt, pred, data_range=dr) == pytest.approx(ref, abs=1e-10)
    assert 10 < ref < 40  # a wrapped difference would give a PSNR near 0 or below


@pytest.mark.parametrize("crop", [(slice(None), slice(None)), (slice(0, 201), slice(0, 183))])
def test_ssim_and_ms_ssim_match_pytorch_msssim(crop):
    torch = pytest.importorskip("torch")
    pm = pytest.importorskip("pytorch_msssim")
    gt, pred, dr = _pair("celegans")
    gt, pred = gt[crop], pred[crop]  # 256x256 and an odd 201x183 (padding in the pooling)

    def t(a):
        return torch.from_numpy(np.ascontiguousarray(a))[None, None]

    assert ssim(gt, pred, data_range=dr) == pytest.approx(
        pm.ssim(t(gt), t(pred), data_range=dr).item(), abs=1e-4
    )
    ref = pm.ms_ssim(t(gt), t(pred), data_range=dr).item()
    assert ms_ssim(gt, pred, data_range=dr) == pytest.approx(ref, abs=1e-6)
    assert 0.5 < ref < 1.0


def test_identical_images_and_required_data_range():
    gt = load_real("celegans")
    assert psnr(gt, gt, data_range=1.0) == float("inf")
    assert ssim(gt, gt, data_range=6000.0) == pytest.approx(1.0)
    assert ms_ssim(gt, gt, data_range=6000.0) == pytest.approx(1.0)
    assert nrmse(gt, gt) == 0.0
    with pytest.raises(TypeError):
        psnr(gt, gt)  # data_range is keyword-only and required
    with pytest.raises(TypeError):
        ssim(gt, gt, 1.0)
    with pytest.raises(ValueError, match="data_range must be a positive"):
        psnr(gt, gt + 1, data_range=0)


def test_ssim_full_map():
    gt, pred, dr = _pair("nuclei2d")
    value, smap = ssim(gt, pred, data_range=dr, full=True)
    ref_value, ref_map = skm.structural_similarity(gt, pred, data_range=dr, full=True, **SK_SSIM)
    assert smap.shape == gt.shape
    np.testing.assert_allclose(smap, ref_map, atol=1e-12)
    assert value == pytest.approx(smap[5:-5, 5:-5].mean(), abs=1e-12)  # mean over the valid region


def test_ms_ssim_small_image_error():
    gt, pred, dr = _pair("celegans")
    with pytest.raises(ValueError, match="at least 161x161 pixels.*got 160x256"):
        ms_ssim(gt[:160], pred[:160], data_range=dr)
    assert 0 < ms_ssim(gt[:161], pred[:161], data_range=dr) <= 1


def test_stacks_are_scored_per_slice():
    gt = load_real("neuron3d").astype(np.float64)
    pred = gaussian_filter(gt, (0, 1, 1))
    dr = float(gt.max() - gt.min())
    per_slice = [skm.structural_similarity(g, p, data_range=dr, **SK_SSIM) for g, p in zip(gt, pred)]
    assert ssim(gt, pred, data_range=dr) == pytest.approx(np.mean(per_slice), abs=1e-12)
    assert psnr(gt, pred, data_range=dr) == pytest.approx(
        skm.peak_signal_noise_ratio(gt, pred, data_range=dr)
    )


def test_crop_border():
    gt, pred, dr = _pair("nuclei2d")
    assert psnr(gt, pred, data_range=dr, crop_border=8) == pytest.approx(
        psnr(gt[8:-8, 8:-8], pred[8:-8, 8:-8], data_range=dr)
    )
    assert ssim(gt, pred, data_range=dr, crop_border=4) == pytest.approx(
        ssim(gt[4:-4, 4:-4], pred[4:-4, 4:-4], data_range=dr)
    )
    assert crop_border(gt, 3).shape == (250, 250)
    with pytest.raises(ValueError, match="leaves nothing"):
        psnr(gt, pred, data_range=dr, crop_border=128)
    with pytest.raises(ValueError, match="shape mismatch"):
        psnr(gt, pred[1:], data_range=dr)


def test_fit_affine():
    gt = load_real("celegans").astype(np.float64)
    pred = (gt - 7.0) / 3.0  # exact affine relation: a = 3, b = 7
    scaled, (a, b) = fit_affine(pred, gt)
    assert a == pytest.approx(3.0) and b == pytest.approx(7.0, abs=1e-6)
    np.testing.assert_allclose(scaled, gt, rtol=1e-10)
    noisy = pred + np.random.default_rng(0).normal(0, 20, gt.shape)
    _, (a, b) = fit_affine(noisy, gt)
    ref_a, ref_b = np.polyfit(noisy.ravel(), gt.ravel(), 1)  # independent least squares
    assert (a, b) == pytest.approx((ref_a, ref_b), rel=1e-8)
    const, (a, b) = fit_affine(np.ones_like(gt), gt)
    assert a == 0.0 and b == pytest.approx(gt.mean())


def test_metric_registry_lists_the_reported_metrics():
    from microsr.evaluation import compare, evaluate
    from microsr.metrics import METRIC_NAMES, METRICS

    assert sorted(METRIC_NAMES) == METRICS.names()
    assert compare.METRICS == evaluate.METRICS == METRIC_NAMES
    assert [METRICS.get(m).higher_is_better for m in METRIC_NAMES] == [True, True, True, False]
    gt = np.linspace(0, 1, 64 * 64).reshape(64, 64)
    assert METRICS.get("psnr").fn(gt, gt + 0.1, data_range=1.0) == pytest.approx(20.0)  # 10 log10(1 / 0.01)
