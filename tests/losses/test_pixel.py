"""Pixel losses: hand-computed values and SSIM/MS-SSIM against pytorch_msssim 1.0.0."""

from __future__ import annotations

import math

import pytest
import torch
from pytorch_msssim import ms_ssim, ssim

from microsr.errors import ConfigError
from microsr.losses import build_registered_loss, list_losses
from microsr.losses.pixel import build_loss, ms_ssim_torch, parse_loss_spec, ssim_torch
from microsr.models.outputs import SROutput


def _batch(out, hr):
    return out, {"lr": hr[..., ::2, ::2], "hr": hr}


def test_registered_names():
    for name in ["mse", "l1", "charbonnier", "ssim", "ms-ssim", "mse+0.1*ssim"]:
        assert name in list_losses()


def test_mse_l1_charbonnier_by_hand():
    out = torch.tensor([[[[0.0, 1.0], [2.0, 3.0]]]])
    hr = torch.tensor([[[[1.0, 1.0], [0.0, 3.0]]]])
    # differences 1, 0, 2, 0 -> MSE (1+4)/4, L1 3/4
    assert build_registered_loss("mse")(out, {"hr": hr})[0].item() == pytest.approx(1.25)
    assert build_registered_loss("l1")(out, {"hr": hr})[0].item() == pytest.approx(0.75)
    eps = 1e-3
    expected = (math.sqrt(1 + eps**2) + 2 * eps + math.sqrt(4 + eps**2)) / 4
    total, parts = build_registered_loss("charbonnier")(out, {"hr": hr})
    assert total.item() == pytest.approx(expected, rel=1e-6)
    assert set(parts) == {"charbonnier"}


def test_pixel_loss_uses_final_of_multi_output():
    hr = torch.rand(1, 1, 16, 16)
    out = SROutput(final=hr.clone(), aux={"stage1": torch.zeros_like(hr)})
    assert build_loss("l1")(out, {"hr": hr})[0].item() == 0.0


@pytest.mark.parametrize("shape", [(2, 1, 32, 40), (1, 3, 23, 17)])
def test_ssim_matches_pytorch_msssim(shape):
    g = torch.Generator().manual_seed(0)
    x = torch.rand(shape, generator=g)
    y = (x + 0.2 * torch.randn(shape, generator=g)).clamp(0, 1)
    ours = ssim_torch(x, y, data_range=1.0)
    ref = ssim(x, y, data_range=1.0, size_average=True)
    assert abs(ours.item() - ref.item()) < 1e-5
    assert ssim_torch(x, x).item() == pytest.approx(1.0, abs=1e-6)
    mean, smap = ssim_torch(x, y, full=True)
    assert smap.shape == (*shape[:2], shape[2] - 10, shape[3] - 10)
    assert mean.item() == pytest.approx(smap.mean().item())


def test_ms_ssim_matches_pytorch_msssim():
    g = torch.Generator().manual_seed(1)
    x = torch.rand(1, 1, 176, 165, generator=g)
    y = (x + 0.1 * torch.randn(x.shape, generator=g)).clamp(0, 1)
    assert abs(ms_ssim_torch(x, y).item() - ms_ssim(x, y, data_range=1.0).item()) < 1e-5


def test_ms_ssim_small_images_clear_error():
    x = torch.rand(1, 1, 64, 64)
    with pytest.raises(ConfigError, match="161 px"):
        build_loss("ms-ssim")(x, {"hr": x})


def test_ssim_loss_is_differentiable_and_one_minus_ssim():
    x = torch.rand(1, 1, 24, 24, requires_grad=True)
    y = torch.rand(1, 1, 24, 24)
    total, _ = build_loss("ssim")(x, {"hr": y})
    assert total.item() == pytest.approx(1 - ssim(x.detach(), y, data_range=1.0).item(), abs=1e-5)
    total.backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


def test_weighted_sums():
    g = torch.Generator().manual_seed(2)
    x, y = torch.rand(2, 1, 24, 24, generator=g), torch.rand(2, 1, 24, 24, generator=g)
    mse = torch.mean((x - y) ** 2).item()
    one_minus = 1 - ssim(x, y, data_range=1.0).item()
    total, parts = build_loss("mse+0.1*ssim")(x, {"hr": y})
    assert total.item() == pytest.approx(mse + 0.1 * one_minus, abs=1e-6)
    assert parts["mse"].item() == pytest.approx(mse, rel=1e-6)
    total2, _ = build_loss("0.8*l1+0.2*ssim")(x, {"hr": y})
    l1 = torch.mean((x - y).abs()).item()
    assert total2.item() == pytest.approx(0.8 * l1 + 0.2 * one_minus, abs=1e-6)
    total3, _ = build_loss([("l1", 0.8), ("ssim", 0.2)])(x, {"hr": y})
    assert total3.item() == pytest.approx(total2.item(), abs=1e-7)
    assert parse_loss_spec("0.8*l1+0.2*ms-ssim") == [("l1", 0.8), ("ms-ssim", 0.2)]
    assert parse_loss_spec("1e-3*charbonnier") == [("charbonnier", 1e-3)]


def test_bad_specs():
    with pytest.raises(KeyError, match="known losses"):
        build_loss("mse+0.1*nosuchloss")
    with pytest.raises(ConfigError, match="not 'name'"):
        build_loss("mse+*ssim")
    with pytest.raises(ConfigError, match="negative"):
        build_loss([("mse", -1.0)])


def test_single_registered_names_come_from_the_registry():
    hr = torch.rand(1, 1, 16, 16)
    out = SROutput(final=hr.clone(), aux={"parsing": torch.zeros(1, 3, 16, 16)})
    mask = torch.zeros(1, 3, 16, 16)
    mask[:, 0] = 1
    total, parts = build_loss("geometry-prior")(out, {"hr": hr, "mask": mask})
    assert torch.isfinite(total) and len(parts) >= 2  # SR term and parsing-map term
