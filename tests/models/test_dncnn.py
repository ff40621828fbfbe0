"""DnCNN (Zhang 2017; SPEC 1): count, layer rules, residual output on the bicubic grid."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from microsr.models import count_parameters, create_model
from microsr.models.blocks import bicubic_upsample


def test_count_and_layers():
    model = create_model("dncnn")
    assert count_parameters(model) == 556_096  # SPEC 1 / DenseED seed Table 2
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) == 17
    assert convs[0].bias is not None and all(c.bias is None for c in convs[1:])
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert len(bns) == 15 and all(b.eps == 1e-4 for b in bns)


@pytest.mark.parametrize("scale", [2, 4])
def test_zeroed_last_conv_returns_bicubic_input(scale):
    model = create_model("dncnn", scale=scale)
    nn.init.zeros_(model.body[-1].weight)
    lr = torch.rand(1, 1, 6, 7)
    torch.testing.assert_close(model(lr), bicubic_upsample(lr, scale), rtol=0, atol=0)


@pytest.mark.parametrize("scale", [2, 4])
def test_tiny_output_is_input_minus_net(scale):
    torch.manual_seed(0)
    model = create_model("dncnn", scale=scale, tiny=True)
    lr = torch.rand(2, 1, 5, 6, requires_grad=True)
    out = model(lr)
    x = bicubic_upsample(lr, scale)
    torch.testing.assert_close(out, x - model.body(x))
    out.mean().backward()
    assert all(p.grad is not None for p in model.parameters())


def test_channel_mismatch_rejected():
    with pytest.raises(ValueError, match="must equal"):
        create_model("dncnn", in_channels=3, out_channels=1)
