"""Noise2Noise U-Net of the DenseED paper (SPEC 1.4): counts, layer rules, padding, tanh range."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from microsr.models import count_parameters, create_model, get_spec


def test_counts_with_and_without_batch_norm():
    # SPEC 1.4 / seed Table 2: 989,712 (987,408 without BN).
    assert count_parameters(create_model("unet-n2n")) == 989_712
    assert count_parameters(create_model("unet-n2n", batch_norm=False)) == 987_408
    assert get_spec("unet-n2n").input_grid == "hr"


def test_layer_rules():
    model = create_model("unet-n2n")
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) == 18  # seed Table 2
    assert all(c.bias is None and c.kernel_size == (3, 3) for c in convs)
    assert sum(isinstance(m, nn.BatchNorm2d) for m in model.modules()) == 16  # all but first & last
    assert [c.in_channels for c in convs[-3:]] == [97, 64, 32] and convs[-1].out_channels == 1
    lrelus = [m for m in model.modules() if isinstance(m, nn.LeakyReLU)]
    assert len(lrelus) == 17 and all(m.negative_slope == 0.1 for m in lrelus)


@pytest.mark.parametrize("scale,size", [(2, (9, 11)), (4, (5, 7))])
def test_odd_sizes_and_tanh_range(scale, size):
    torch.manual_seed(0)
    model = create_model("unet-n2n", scale=scale, tiny=True)
    lr = 5 * torch.rand(1, 1, *size, requires_grad=True)
    out = model(lr)
    assert out.shape == (1, 1, scale * size[0], scale * size[1])
    assert out.abs().max() < 1
    out.mean().backward()
    assert all(p.grad is not None for p in model.parameters())


def test_full_size_takes_non_multiple_of_32():
    model = create_model("unet-n2n", batch_norm=False).eval()
    with torch.no_grad():
        assert model(torch.rand(1, 1, 10, 13)).shape == (1, 1, 20, 26)
