"""Fourier channel attention: the export-friendly shift equals ``torch.fft.fftshift``; DFCAN, DFGAN
and MHTCUN give the outputs of the original formulation (``torch.fft.fftshift`` of the full FFT
magnitude) on the same weights; DFCAN exports to ONNX with resizable height/width."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from microsr.models import create_model
from microsr.models.fourier import FourierChannelAttention, fftshift2d
from microsr.models.outputs import final_output

SIZES = [(8, 8), (7, 7), (6, 9), (9, 6), (1, 1), (2, 3), (16, 5)]


@pytest.mark.parametrize("hw", SIZES)
def test_fftshift2d_equals_torch_fftshift(hw):
    x = torch.randn(2, 3, *hw)
    assert torch.equal(fftshift2d(x), torch.fft.fftshift(x, dim=(-2, -1)))


def _original_spectrum(self: FourierChannelAttention, y: torch.Tensor) -> torch.Tensor:
    """The spectrum as first written: fftshift of the full complex FFT's magnitude."""
    mag = torch.fft.fft2(y.float()).abs()
    return torch.fft.fftshift((mag + 1e-8) ** self.gamma, dim=(-2, -1))


@pytest.mark.parametrize("name", ["dfcan", "dfgan", "mhtcun"])
@pytest.mark.parametrize("hw", [(12, 12), (11, 11), (10, 13)])
def test_models_match_original_fca_on_same_weights(name, hw, monkeypatch):
    torch.manual_seed(0)
    model = create_model(name, tiny=True).eval()
    x = torch.rand(2, 1, *hw)
    with torch.no_grad():
        got = final_output(model(x))
        monkeypatch.setattr(FourierChannelAttention, "spectrum", _original_spectrum)
        want = final_output(model(x))
    torch.testing.assert_close(got, want, rtol=0, atol=1e-6)


@pytest.mark.parametrize("hw", [(8, 8), (7, 9), (5, 4)])
def test_channels_last_spectrum_equals_contiguous_and_keeps_the_layout(hw):
    fca = FourierChannelAttention(6, reduction=2, gamma=0.8)
    y = torch.randn(2, 6, *hw)
    y_cl = y.contiguous(memory_format=torch.channels_last)
    got = fca.spectrum(y_cl)
    assert got.is_contiguous(memory_format=torch.channels_last)
    # channels-last runs two 1-D FFTs over strided axes, contiguous one 2-D FFT: float32 rounding apart
    torch.testing.assert_close(got, fca.spectrum(y), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(got, _original_spectrum(fca, y), rtol=1e-5, atol=1e-5)
    with torch.enable_grad():  # the autograd path (abs and pow) gives the same values
        y_grad = y_cl.clone().requires_grad_()
        torch.testing.assert_close(fca.spectrum(y_grad).detach(), got, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", ["dfcan", "mhtcun"])
def test_gradients_match_original_fca(name, monkeypatch):
    """Training follows the same path: parameter gradients equal the original formulation's."""
    torch.manual_seed(1)
    model = create_model(name, tiny=True)
    x, target = torch.rand(2, 1, 10, 12), torch.rand(2, 1, 20, 24)

    def grads():
        model.zero_grad()
        torch.nn.functional.mse_loss(final_output(model(x)), target).backward()
        return [p.grad.clone() for p in model.parameters() if p.grad is not None]

    got = grads()
    monkeypatch.setattr(FourierChannelAttention, "spectrum", _original_spectrum)
    want = grads()
    assert len(got) == len(want) > 0
    for g, w in zip(got, want):
        torch.testing.assert_close(g, w, rtol=1e-4, atol=1e-6)


def test_dfcan_exports_to_onnx_with_resizable_height_and_width(tmp_path):
    pytest.importorskip("onnxscript")
    ort = pytest.importorskip("onnxruntime")
    torch.manual_seed(0)
    model = create_model("dfcan", tiny=True).eval()
    h, w = torch.export.Dim("h", min=4, max=4096), torch.export.Dim("w", min=4, max=4096)
    path = tmp_path / "dfcan.onnx"
    torch.onnx.export(
        model,
        (torch.rand(1, 1, 16, 20),),
        str(path),
        dynamo=True,
        dynamic_shapes={"x": {2: h, 3: w}},
        opset_version=18,
    )
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    for shape in [(1, 1, 16, 20), (1, 1, 13, 24)]:  # the traced size and an odd, different one
        x = torch.rand(*shape)
        (out,) = session.run(None, {name: x.numpy()})
        with torch.no_grad():
            ref = model(x).numpy()
        assert out.shape == (1, 1, 2 * shape[2], 2 * shape[3])
        np.testing.assert_allclose(out, ref, rtol=0, atol=1e-5)
