"""DenseED (Mannam 2021 seed; SPEC 1.4): every published count, layer rules, size chain, odd sizes."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from microsr.models import count_parameters, create_model, get_spec
from microsr.models.blocks import bicubic_upsample

# SPEC 1.4 table (authors' spreadsheet; the seed's Table 2 prints 223,586 for (3,6,3) by mistake).
COUNTS = {
    (1, 1, 1): 36_572,
    (2, 2, 2): 80_702,
    (3, 3, 3): 143_040,
    (4, 4, 4): 223_586,
    (3, 6, 3): 237_204,
    (6, 12, 6): 788_046,
    (8, 8, 8): 727_850,
    (9, 18, 9): 1_663_176,
}


@pytest.mark.parametrize("blocks", list(COUNTS))
def test_every_spec_column_via_option_and_name(blocks):
    assert count_parameters(create_model("denseed", blocks=blocks)) == COUNTS[blocks]
    name = "denseed-" + "-".join(map(str, blocks))
    assert count_parameters(create_model(name)) == COUNTS[blocks]


def test_default_is_3_6_3_and_hr_grid():
    assert count_parameters(create_model("denseed")) == 237_204
    assert get_spec("denseed").input_grid == "hr"


def test_layer_rules_bias_free_bn_relu_conv():
    model = create_model("denseed", blocks=(2, 2, 2))
    convs = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    assert all(c.bias is None for c in convs)
    first = convs[0]
    assert (first.kernel_size, first.stride, first.padding, first.out_channels) == (
        (7, 7),
        (2, 2),
        (2, 2),
        48,
    )
    # Seed Table 2: (2,2,2) has 13 convolutional layers counting dense layers and transition convs.
    assert len(convs) == 1 + 6 + 2 * 3
    tconvs = [c for c in convs if isinstance(c, nn.ConvTranspose2d)]
    assert [(t.stride, t.padding, t.output_padding) for t in tconvs] == [((2, 2), (1, 1), (1, 1))] * 2
    assert tconvs[-1].out_channels == 1
    # Every conv but the in-conv is preceded by BN -> ReLU.
    mods = list(model.features.modules())
    for i, m in enumerate(mods):
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)) and m is not first:
            assert isinstance(mods[i - 1], nn.ReLU) and isinstance(mods[i - 2], nn.BatchNorm2d)


def test_size_chain_128_63_32_64_128():
    model = create_model("denseed", scale=2, tiny=True).eval()
    sizes = []
    hooks = [m.register_forward_hook(lambda _m, _i, o: sizes.append(o.shape[-1])) for m in model.features]
    with torch.no_grad():
        out = model(torch.rand(1, 1, 64, 64))
    for h in hooks:
        h.remove()
    # in-conv, block1, down, block2, up, block3, last
    assert sizes == [63, 63, 32, 32, 64, 64, 128] and out.shape[-1] == 128


@pytest.mark.parametrize("scale,size", [(2, (7, 9)), (4, (5, 6)), (3, (7, 5))])
def test_odd_sizes_forward_backward(scale, size):
    torch.manual_seed(0)
    model = create_model("denseed", scale=scale, tiny=True)
    lr = torch.rand(2, 1, *size, requires_grad=True)
    out = model(lr)
    assert out.shape == (2, 1, scale * size[0], scale * size[1])
    out.mean().backward()
    assert lr.grad.abs().sum() > 0
    assert all(p.grad is not None for p in model.parameters())


def test_padding_is_bottom_right_reflect_then_crop():
    torch.manual_seed(0)
    model = create_model("denseed", scale=2, tiny=True).eval()
    lr = torch.rand(1, 1, 7, 9)  # HR 14x18 -> padded to 16x20
    x = F.pad(bicubic_upsample(lr, 2), (0, 2, 0, 2), mode="reflect")
    with torch.no_grad():
        torch.testing.assert_close(model(lr), model.features(x)[..., :14, :18])


def test_bad_blocks_rejected():
    with pytest.raises(ValueError, match="three"):
        create_model("denseed", blocks=(3, 3))
