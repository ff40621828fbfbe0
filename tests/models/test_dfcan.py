"""DFCAN / DFGAN: parameter counts (SPEC.md 1.1, reproduced by independent re-implementations),
shapes, the Fourier channel attention against a direct NumPy computation, and a training step."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from microsr.models import (
    count_parameters,
    create_discriminator,
    create_model,
    get_spec,
    list_discriminators,
)
from microsr.models.dfcan import FourierChannelAttention


def test_dfcan_parameter_count_matches_spec():
    assert count_parameters(create_model("dfcan")) == 1_930_753


def test_dfgan_generator_and_discriminator_counts_match_spec():
    assert count_parameters(create_model("dfgan")) == 5_717_129
    assert count_parameters(create_discriminator("dfgan")) == 4_852_481


def test_specs():
    dfcan, dfgan = get_spec("dfcan"), get_spec("dfgan")
    assert dfcan.default_loss == dfgan.default_loss == "mse+0.1*ssim"
    assert dfcan.input_grid == dfgan.input_grid == "lr"
    assert dfcan.discriminator is None and dfgan.discriminator == "dfgan"
    assert "dfgan" in list_discriminators()
    gen = create_model("dfgan")
    gammas = {m.gamma for m in gen.modules() if isinstance(m, FourierChannelAttention)}
    assert gammas == {0.1}
    assert len(gen.body) == 5 and len(gen.body[0].blocks) == 10
    gelus = [m for m in create_model("dfcan").modules() if isinstance(m, torch.nn.GELU)]
    assert len(gelus) == 1 + 16 * 2 + 1 and all(g.approximate == "none" for g in gelus)  # erf form


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_tiny_shapes_and_sigmoid_range(scale):
    torch.manual_seed(0)
    model = create_model("dfcan", tiny=True, scale=scale)
    with torch.no_grad():
        y = model(torch.rand(2, 1, 13, 10))
    assert y.shape == (2, 1, 13 * scale, 10 * scale)
    assert float(y.min()) >= 0.0 and float(y.max()) <= 1.0


def _numpy_fca(y: np.ndarray, fca: FourierChannelAttention) -> np.ndarray:
    """The FCA formula written out with NumPy (float64), using the module's weights."""
    spec = np.fft.fftshift((np.abs(np.fft.fft2(y, axes=(-2, -1))) + 1e-8) ** fca.gamma, axes=(-2, -1))
    w = fca.conv.weight.detach().double().numpy()  # (C, C, 3, 3)
    b = fca.conv.bias.detach().double().numpy()
    c, h, wd = spec.shape[1:]
    pad = np.pad(spec, ((0, 0), (0, 0), (1, 1), (1, 1)))
    conv = np.zeros_like(spec)
    for dy in range(3):
        for dx in range(3):
            conv += np.einsum("oc,bchw->bohw", w[:, :, dy, dx], pad[:, :, dy : dy + h, dx : dx + wd])
    conv += b[None, :, None, None]
    pooled = np.maximum(conv, 0).mean(axis=(-2, -1))  # (B, C)
    d = np.maximum(
        pooled @ fca.down.weight.detach().double().numpy()[:, :, 0, 0].T
        + fca.down.bias.detach().double().numpy(),
        0,
    )
    u = d @ fca.up.weight.detach().double().numpy()[:, :, 0, 0].T + fca.up.bias.detach().double().numpy()
    weights = 1.0 / (1.0 + np.exp(-u))
    return y * weights[:, :, None, None]


def test_fca_matches_direct_numpy_computation():
    torch.manual_seed(1)
    fca = FourierChannelAttention(8, reduction=4, gamma=0.8)
    y = torch.rand(2, 8, 6, 7)
    got = fca(y).detach().double().numpy()
    want = _numpy_fca(y.double().numpy(), fca)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_fca_spectrum_of_constant_is_a_centred_delta():
    fca = FourierChannelAttention(2, reduction=1, gamma=0.8)
    y = torch.full((1, 2, 8, 8), 0.5)
    spec = fca.spectrum(y)
    dc = (0.5 * 64 + 1e-8) ** 0.8
    expected = torch.full((8, 8), 1e-8**0.8)
    expected[4, 4] = dc  # fftshift puts the zero frequency at (H//2, W//2)
    torch.testing.assert_close(spec[0, 0], expected, rtol=1e-5, atol=1e-9)
    torch.testing.assert_close(spec[0, 1], expected, rtol=1e-5, atol=1e-9)


def test_fca_only_rescales_channels():
    torch.manual_seed(2)
    fca = FourierChannelAttention(4, reduction=2)
    y = torch.randn(1, 4, 9, 9)
    ratio = fca(y) / y
    per_channel = ratio.flatten(2)
    assert torch.allclose(per_channel, per_channel[..., :1].expand_as(per_channel), atol=1e-6)
    assert bool(((per_channel > 0) & (per_channel < 1)).all())


def test_spectrum_resize_option_keeps_shapes_and_count():
    torch.manual_seed(3)
    a = create_model("dfcan", tiny=True)
    b = create_model("dfcan", tiny=True, spectrum_size=16)
    assert count_parameters(a) == count_parameters(b)
    b.load_state_dict(a.state_dict())
    x = torch.rand(1, 1, 16, 16)
    torch.testing.assert_close(a(x), b(x))  # resize is a no-op at the native size
    assert b(torch.rand(1, 1, 12, 20)).shape == (1, 1, 24, 40)


def test_tiny_dfcan_learns_one_step():
    torch.manual_seed(4)
    model = create_model("dfcan", tiny=True)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    lr, hr = torch.rand(2, 1, 12, 12), torch.rand(2, 1, 24, 24)
    with torch.no_grad():
        before = torch.nn.functional.mse_loss(model(lr), hr)
    for _ in range(3):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(lr), hr)
        loss.backward()
        assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())
        opt.step()
    with torch.no_grad():
        after = torch.nn.functional.mse_loss(model(lr), hr)
    assert float(after) < float(before)


def test_small_discriminator_returns_logits():
    torch.manual_seed(5)
    disc = create_discriminator("dfgan", stem=4, widths=[4, 8], hidden=8)
    out = disc(torch.rand(3, 1, 20, 17))
    assert out.shape == (3, 1)
    # no sigmoid inside: logits are unbounded in principle, and gradients flow to the input
    x = torch.rand(1, 1, 16, 16, requires_grad=True)
    disc(x).sum().backward()
    assert x.grad is not None and float(x.grad.abs().sum()) > 0
    assert not any(isinstance(m, torch.nn.Sigmoid) for m in disc.modules())


@pytest.mark.parametrize("shape", [(2, 3, 16, 16), (1, 2, 32, 48), (1, 2, 6, 7), (1, 1, 10, 9)])
def test_fca_spectrum_equals_fftshift_of_magnitude(shape):
    """Even sizes use the modulation identity FFT(y (-1)^(m+n)) = fftshift(FFT(y)); odd sizes roll."""
    y = torch.rand(*shape)
    ref = torch.fft.fftshift((torch.fft.fft2(y.double()).abs() + 1e-8) ** 0.8, dim=(-2, -1))
    got = FourierChannelAttention(shape[1], reduction=1, gamma=0.8).spectrum(y).double()
    torch.testing.assert_close(got, ref, rtol=1e-5, atol=1e-5)
