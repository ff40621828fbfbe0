"""SFT-GAN generator on the 3-class parsing map, and SRGAN = SRResNet + SRGAN discriminator."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from microsr.models import count_parameters, create_model, get_spec
from microsr.models.sftgan import SFTLayer


def _onehot(b: int, h: int, w: int, seed: int = 0) -> torch.Tensor:
    labels = torch.randint(0, 3, (b, h, w), generator=torch.Generator().manual_seed(seed))
    return F.one_hot(labels, 3).permute(0, 3, 1, 2).float()


def test_counts():
    # By hand from Wang 2018's SFT_Net with 3 classes, 1 channel: conv0 640; 16 SFT res blocks x
    # (2 SFT layers x 6,336 + 2 x 36,928) = 1,384,448; trunk SFT 6,336 + conv 36,928; one x2 stage
    # conv 64->256 147,712; conv 36,928; conv out 577; condition net 3*128*2*2+128 = 1,664,
    # 3 x 16,512, 4,128 -> 1,668,897. At x4: second stage +147,712 and a 4x4 first cond conv +4,608.
    assert count_parameters(create_model("sftgan", scale=2)) == 1_668_897
    assert count_parameters(create_model("sftgan", scale=4)) == 1_821_217
    assert count_parameters(create_model("srgan")) == count_parameters(create_model("srresnet")) == 1_381_011


def test_specs():
    spec = get_spec("sftgan")
    assert spec.needs_mask and spec.discriminator == "srgan" and spec.default_loss == "l1"
    assert spec.input_grid == "lr"
    srgan = get_spec("srgan")
    assert srgan.discriminator == "srgan" and srgan.default_loss == "mse" and not srgan.needs_mask


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_tiny_forward_backward(scale):
    torch.manual_seed(0)
    model = create_model("sftgan", scale=scale, tiny=True)
    lr = torch.rand(2, 1, 6, 7, requires_grad=True)
    out = model(lr, mask=_onehot(2, 6 * scale, 7 * scale))
    assert out.shape == (2, 1, 6 * scale, 7 * scale)
    out.mean().backward()
    assert lr.grad.abs().sum() > 0
    assert all(p.grad is not None for p in model.parameters())


def test_condition_net_maps_hr_map_to_lr_grid():
    model = create_model("sftgan", scale=4, tiny=True)
    first = model.cond_net[0]
    assert first.kernel_size == (4, 4) and first.stride == (4, 4) and first.in_channels == 3
    assert model.cond_net(_onehot(1, 24, 28)).shape[-2:] == (6, 7)


def test_map_modulates_features_and_identity_sft_removes_it():
    torch.manual_seed(0)
    model = create_model("sftgan", scale=2, tiny=True).eval()
    lr = torch.rand(1, 1, 6, 6)
    a, b = _onehot(1, 12, 12, 1), _onehot(1, 12, 12, 2)
    assert not torch.allclose(model(lr, mask=a), model(lr, mask=b))
    # Zeroing the last conv of every scale and shift branch makes each SFT layer the identity.
    for m in model.modules():
        if isinstance(m, SFTLayer):
            for branch in (m.scale, m.shift):
                nn.init.zeros_(branch[-1].weight)
                nn.init.zeros_(branch[-1].bias)
    torch.testing.assert_close(model(lr, mask=a), model(lr, mask=b))


def test_missing_or_misshaped_map_is_a_clear_error():
    model = create_model("sftgan", scale=2, tiny=True)
    with pytest.raises(ValueError, match="needs a parsing map"):
        model(torch.rand(1, 1, 6, 6))
    with pytest.raises(ValueError, match="HR grid"):
        model(torch.rand(1, 1, 6, 6), mask=_onehot(1, 6, 6))


def test_unsupported_scale_rejected():
    with pytest.raises(ValueError, match="scales"):
        create_model("sftgan", scale=5)
