"""CARE U-Net (CSBDeep's network in PyTorch): counts against CSBDeep's own Keras model, layer rules,
residual on the bicubic input, odd sizes."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from microsr.models import count_parameters, create_model, get_spec
from microsr.models.blocks import bicubic_upsample

# keras_model.count_params() of CSBDeep 0.8.2's custom_unet((None, None, 1), "linear", depth, n_first,
# (k, k), conv_per_level, pool_size=(2, 2), residual=True), computed once in the CSBDeep environment
# (tensorflow-cpu 2.21.0; benchmarks/care_helper.py says how it is installed).
CSBDEEP_COUNTS = [
    # (depth, n_first, kernel_size, conv_per_level), params
    ((2, 32, 5, 2), 922_977),  # CARE's Config defaults
    ((2, 32, 3, 2), 332_641),  # microsr's care-unet-k3
    ((2, 16, 3, 2), 83_377),
    ((1, 16, 3, 2), 18_705),
    ((3, 32, 3, 2), 1_365_473),
    ((2, 8, 3, 2), 20_953),
    ((2, 32, 5, 1), 308_257),
    ((2, 32, 5, 3), 1_588_897),
    ((2, 16, 3, 3), 143_441),
]


@pytest.mark.parametrize("opts,expected", CSBDEEP_COUNTS)
def test_counts_match_csbdeep(opts, expected):
    depth, n_first, k, n = opts
    model = create_model("care-unet", depth=depth, n_first=n_first, kernel_size=k, conv_per_level=n)
    assert count_parameters(model) == expected


def test_layer_rules_and_spec():
    model = create_model("care-unet")
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    # 2 levels x 2 down + 2 middle + 2 levels x 2 up + the 1x1 output
    assert len(convs) == 11
    assert [c.kernel_size for c in convs] == [(5, 5)] * 10 + [(1, 1)]
    assert [c.out_channels for c in convs] == [32, 32, 64, 64, 128, 64, 64, 32, 32, 32, 1]
    assert [c.in_channels for c in convs][6:8] == [128, 64] and convs[8].in_channels == 64
    assert all(float(c.bias.detach().abs().max()) == 0 for c in convs)  # Keras' zero bias at initialisation
    spec = get_spec("care-unet")
    assert spec.input_grid == "hr" and spec.global_skip and spec.default_loss == "l1"


def test_residual_starts_from_bicubic_and_plain_does_not():
    torch.manual_seed(0)
    lr = torch.rand(1, 1, 8, 8)
    model = create_model("care-unet", tiny=True)
    for p in model.out.parameters():
        nn.init.zeros_(p)  # a zero correction: the output is exactly the bicubic input
    with torch.no_grad():
        torch.testing.assert_close(model(lr), bicubic_upsample(lr, 2))
        plain = create_model("care-unet", tiny=True, residual=False)
        for p in plain.out.parameters():
            nn.init.zeros_(p)
        assert float(plain(lr).abs().max()) == 0.0


@pytest.mark.parametrize("scale,size", [(2, (9, 11)), (3, (5, 7))])
def test_odd_sizes_and_gradients(scale, size):
    torch.manual_seed(0)
    model = create_model("care-unet", scale=scale, tiny=True, depth=2)
    out = model(torch.rand(1, 1, *size))
    assert out.shape == (1, 1, scale * size[0], scale * size[1])
    out.mean().backward()
    assert all(p.grad is not None for p in model.parameters())


@pytest.mark.parametrize(
    "opts,message",
    [
        ({"depth": 0}, "depth"),
        ({"kernel_size": 4}, "odd"),
        ({"conv_per_level": 0}, "conv_per_level"),
    ],
)
def test_bad_options_say_which(opts, message):
    with pytest.raises(ValueError, match=message):
        create_model("care-unet", **opts)


def test_residual_needs_matching_channels():
    with pytest.raises(ValueError, match="in_channels == out_channels"):
        create_model("care-unet", 1, 3)
    assert create_model("care-unet", 1, 3, residual=False, tiny=True)(torch.rand(1, 1, 4, 4)).shape == (
        1,
        3,
        8,
        8,
    )
