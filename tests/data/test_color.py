"""BT.601 YCbCr as MATLAB rgb2ycbcr (for [0,1] floats) and the seed's Y-only RGB SR recipe."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from microsr.data.color import YCBCR_MATRIX, rgb_to_ycbcr, super_resolve_rgb, ycbcr_to_rgb


def test_matrix_is_matlab_rgb2ycbcr():
    # MATLAB rgb2ycbcr documentation (ITU-R BT.601, 8-bit studio range), divided by 255.
    expected = (
        np.array([[65.481, 128.553, 24.966], [-37.797, -74.203, 112.0], [112.0, -93.786, -18.214]]) / 255
    )
    np.testing.assert_array_equal(YCBCR_MATRIX, expected)


def test_known_values():
    rgb = np.array([[1.0, 1.0, 1.0], [0.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    ycc = rgb_to_ycbcr(rgb)
    np.testing.assert_allclose(ycc[0], [235 / 255, 128 / 255, 128 / 255], atol=1e-12)
    np.testing.assert_allclose(ycc[1], [16 / 255, 128 / 255, 128 / 255], atol=1e-12)
    np.testing.assert_allclose(ycc[2], [(16 + 65.481) / 255, (128 - 37.797) / 255, 240 / 255], atol=1e-12)


def test_matches_skimage(rng):
    skcolor = pytest.importorskip("skimage.color")
    rgb = rng.random((9, 7, 3))
    np.testing.assert_allclose(rgb_to_ycbcr(rgb), skcolor.rgb2ycbcr(rgb) / 255, atol=1e-12)
    ycc = rgb_to_ycbcr(rgb)
    np.testing.assert_allclose(ycbcr_to_rgb(ycc), skcolor.ycbcr2rgb(ycc * 255), atol=1e-10)


def test_round_trip_numpy_and_torch(rng):
    rgb = rng.random((2, 5, 6, 3)).astype(np.float32)
    back = ycbcr_to_rgb(rgb_to_ycbcr(rgb))
    assert back.dtype == np.float32 and back.shape == rgb.shape
    np.testing.assert_allclose(back, rgb, atol=1e-6)
    t = torch.from_numpy(np.moveaxis(rgb, -1, 1).copy())  # (B, 3, H, W)
    ycc_t = rgb_to_ycbcr(t)
    np.testing.assert_allclose(np.moveaxis(ycc_t.numpy(), 1, -1), rgb_to_ycbcr(rgb), atol=1e-6)
    torch.testing.assert_close(ycbcr_to_rgb(ycc_t), t, atol=1e-6, rtol=0)


def test_rejects_integers_and_wrong_channel_count():
    with pytest.raises(ValueError, match="floating-point"):
        rgb_to_ycbcr(np.zeros((4, 4, 3), dtype=np.uint8))
    with pytest.raises(ValueError, match="3 colour channels"):
        rgb_to_ycbcr(np.zeros((4, 4, 4)))


def test_super_resolve_rgb_bicubic_y_equals_bicubic_rgb():
    # Bicubic is linear and the conversion affine, so bicubic on Y + bicubic on CbCr = bicubic RGB.
    rgb = torch.rand(2, 3, 6, 5, generator=torch.Generator().manual_seed(0))
    up = lambda x: F.interpolate(x, scale_factor=3, mode="bicubic", align_corners=False)  # noqa: E731
    out = super_resolve_rgb(up, rgb, 3)
    torch.testing.assert_close(out, up(rgb), atol=2e-6, rtol=0)


def test_super_resolve_rgb_runs_y_fn_on_luminance_only(rng):
    rgb = rng.random((6, 8, 3)).astype(np.float32)
    seen = {}

    def y_fn(y):
        seen["y"] = y
        return np.kron(y, np.ones((2, 2), dtype=y.dtype)) + 0.1  # brighter luminance only

    out = super_resolve_rgb(y_fn, rgb, 2)
    assert out.shape == (12, 16, 3) and out.dtype == np.float32
    np.testing.assert_allclose(seen["y"], rgb_to_ycbcr(rgb)[..., 0], atol=1e-7)
    ycc = rgb_to_ycbcr(out)
    chroma = F.interpolate(
        torch.from_numpy(np.moveaxis(rgb_to_ycbcr(rgb)[..., 1:], -1, 0)[None].copy()),
        scale_factor=2,
        mode="bicubic",
        align_corners=False,
    )[0].numpy()
    np.testing.assert_allclose(np.moveaxis(ycc[..., 1:], -1, 0), chroma, atol=1e-5)
    np.testing.assert_allclose(ycc[..., 0], np.kron(seen["y"], np.ones((2, 2))) + 0.1, atol=1e-5)
    clipped = super_resolve_rgb(y_fn, rgb, 2, clip=True)
    assert clipped.min() >= 0 and clipped.max() <= 1


def test_super_resolve_rgb_checks_y_fn_shape(rng):
    with pytest.raises(ValueError, match="y_fn returned shape"):
        super_resolve_rgb(lambda y: y, rng.random((4, 4, 3)), 2)
