"""Reference-value checks of the classic comparison architectures (bicubic, SRCNN, VDSR, EDSR,
SRResNet, RCAN, RDN, SRFBN, SRGAN discriminator).

Each test sets weights so that the defining structure (global residual, long skip, residual scaling,
channel attention, per-step input skip, ...) gives a value known in closed form. Parameter counts of
non-default variants are computed by hand from the papers' layer tables (shown inline).
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from microsr.models import SROutput, count_parameters, create_discriminator, create_model, get_spec
from microsr.models.edsr import ResBlock
from microsr.models.rcan import ChannelAttention


def _lr(seed: int = 0, size: int = 12, batch: int = 1) -> torch.Tensor:
    return torch.rand(batch, 1, size, size, generator=torch.Generator().manual_seed(seed))


def test_specs_record_grid_and_loss():
    expected = {
        "bicubic": ("lr", "mse"),
        "srcnn": ("hr", "mse"),
        "vdsr": ("hr", "mse"),
        "srresnet": ("lr", "mse"),
        "edsr-baseline": ("lr", "l1"),
        "edsr": ("lr", "l1"),
        "rcan": ("lr", "l1"),
        "rdn": ("lr", "l1"),
        "srfbn": ("lr", "l1"),
    }
    for name, (grid, loss) in expected.items():
        spec = get_spec(name)
        assert (spec.input_grid, spec.default_loss) == (grid, loss), name
        assert spec.trainable is (name != "bicubic") and not spec.needs_mask and spec.discriminator is None


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_bicubic_equals_torch_interpolate(scale):
    x = _lr(1)
    want = F.interpolate(x, scale_factor=scale, mode="bicubic", align_corners=False)
    torch.testing.assert_close(create_model("bicubic", scale=scale)(x), want, rtol=0, atol=0)
    with pytest.raises(ValueError, match="channel"):
        create_model("bicubic", 1, 3)


def test_srcnn_915_variant_count_and_identity_weights_give_bicubic():
    # 9-1-5: 81*64+64 + 64*32+32 + 25*32+1 = 8,129 (Dong 2014, ECCV).
    assert count_parameters(create_model("srcnn", kernel_sizes=(9, 1, 5))) == 8_129
    model = create_model("srcnn", tiny=True)
    with torch.no_grad():  # centre-tap identity through channel 0 of every layer
        for conv in (m for m in model.modules() if isinstance(m, nn.Conv2d)):
            conv.weight.zero_()
            conv.bias.zero_()
            c = conv.kernel_size[0] // 2
            conv.weight[0, 0, c, c] = 1.0
    x = 0.5 + 0.3 * _lr(2)  # bicubic of [0.5, 0.8] stays positive, so the ReLUs pass it unchanged
    torch.testing.assert_close(
        model(x), F.interpolate(x, scale_factor=2, mode="bicubic", align_corners=False)
    )


def test_vdsr_global_residual():
    model = create_model("vdsr", tiny=True, n_layers=5)
    assert sum(isinstance(m, nn.Conv2d) for m in model.modules()) == 5
    x = _lr(3)
    with torch.no_grad():
        model.body[-1].weight.zero_()
        model.body[-1].bias.fill_(0.25)
    want = F.interpolate(x, scale_factor=2, mode="bicubic", align_corners=False) + 0.25
    torch.testing.assert_close(model(x), want)


def test_edsr_residual_scaling_and_long_skip():
    torch.manual_seed(0)
    block_01, block_1 = ResBlock(8, res_scale=0.1), ResBlock(8, res_scale=1.0)
    block_1.load_state_dict(block_01.state_dict())
    f = torch.randn(1, 8, 6, 6)
    torch.testing.assert_close(block_01(f) - f, 0.1 * (block_1(f) - f))
    assert create_model("edsr").body[0].res_scale == 0.1
    assert create_model("edsr-baseline").body[0].res_scale == 1.0
    # With the body-end conv zeroed the body adds nothing: output = tail(head(x)), blocks irrelevant.
    model = create_model("edsr-baseline", tiny=True, n_blocks=2)
    with torch.no_grad():
        model.body[-1].weight.zero_()
        model.body[-1].bias.zero_()
        model.body[0].body[0].weight.normal_()
    x = _lr(4)
    torch.testing.assert_close(model(x), model.tail(model.head(x)))
    # No batch norm anywhere in EDSR.
    assert not any(isinstance(m, nn.BatchNorm2d) for m in create_model("edsr-baseline", tiny=True).modules())


def test_edsr_x4_count_adds_one_upsampling_stage():
    # x4 = x2 + one more conv 64->256 (147,712) for the baseline.
    assert count_parameters(create_model("edsr-baseline", scale=4)) == 1_367_553 + 147_712
    # x3: single conv 64->576 (331,776 + 576) instead of 64->256.
    assert count_parameters(create_model("edsr-baseline", scale=3)) == 1_367_553 - 147_712 + 332_352


def test_srresnet_prelus_are_single_parameter_and_bn_present():
    model = create_model("srresnet")
    prelus = [m for m in model.modules() if isinstance(m, nn.PReLU)]
    assert len(prelus) == 1 + 16 + 1 and all(p.weight.numel() == 1 for p in prelus)
    assert sum(isinstance(m, nn.BatchNorm2d) for m in model.modules()) == 2 * 16 + 1
    # x4: one more [conv 64->256 + PReLU] stage = 147,713.
    assert count_parameters(create_model("srresnet", scale=4)) == 1_381_011 + 147_713


def test_rcan_channel_attention_with_zero_weights_halves_features():
    ca = ChannelAttention(16, reduction=4)
    for p in ca.parameters():
        nn.init.zeros_(p)
    f = torch.randn(2, 16, 5, 5)
    torch.testing.assert_close(ca(f), 0.5 * f)  # sigmoid(0) = 0.5
    model = create_model("rcan")
    assert len(model.body) == 11 and len(model.body[0].body) == 21  # 10 groups (+conv), 20 RCAB (+conv)
    assert model.body[0].body[0].body[3].fc[0].out_channels == 4  # 64 / 16


def test_rcan_group_and_long_skips():
    model = create_model("rcan", tiny=True, n_groups=2)
    with torch.no_grad():
        for group in model.body[:-1]:  # zeroed group-end convs make each group the identity
            group.body[-1].weight.zero_()
            group.body[-1].bias.zero_()
    f = torch.randn(1, 16, 6, 6)
    torch.testing.assert_close(model.body[0](f), f)
    x = _lr(5)
    body_end = model.body[-1]
    torch.testing.assert_close(model(x), model.tail(model.head(x) + body_end(model.head(x))))


def test_rdn_structure_and_local_residual():
    model = create_model("rdn")
    assert len(model.rdbs) == 16 and len(model.rdbs[0].layers) == 8
    assert model.rdbs[0].lff.in_channels == 64 + 8 * 64 and model.gff[0].in_channels == 16 * 64
    tiny = create_model("rdn", tiny=True)
    rdb = tiny.rdbs[0]
    with torch.no_grad():
        rdb.lff.weight.zero_()
        rdb.lff.bias.zero_()
    f = torch.randn(1, 8, 6, 6)
    torch.testing.assert_close(rdb(f), f)
    with torch.no_grad():  # zero GFF output: global residual leaves tail(SFE1(x))
        tiny.gff[1].weight.zero_()
        tiny.gff[1].bias.zero_()
    x = _lr(6)
    torch.testing.assert_close(tiny(x), tiny.tail(tiny.sfe1(x)))


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_srfbn_steps_and_bilinear_skip(scale):
    model = create_model("srfbn", scale=scale, tiny=True, n_steps=3)
    x = _lr(7)
    out = model(x)
    assert isinstance(out, SROutput) and sorted(out.aux) == ["step1", "step2"]
    assert out.final.shape == out.aux["step1"].shape == (1, 1, 12 * scale, 12 * scale)
    assert not torch.allclose(out.final, out.aux["step1"])  # the feedback changes later steps
    with torch.no_grad():
        model.conv_out.weight.zero_()
        model.conv_out.bias.zero_()
    out = model(x)
    bilinear = F.interpolate(x, scale_factor=scale, mode="bilinear", align_corners=False)
    for y in (out.final, *out.aux.values()):
        torch.testing.assert_close(y, bilinear)


def test_srfbn_projection_kernels_follow_the_paper():
    for scale, ksp in {2: (6, 2, 2), 3: (7, 3, 2), 4: (8, 4, 2)}.items():
        up = create_model("srfbn", scale=scale, tiny=True).block.up[0][0]
        assert (up.kernel_size[0], up.stride[0], up.padding[0]) == ksp
    # x4 (1ch): every k6 -> k8 (de)conv grows by 64*64*(64-36) = 114,688; 13 of them.
    assert count_parameters(create_model("srfbn", scale=4)) == 2_134_748 + 13 * 114_688


@pytest.mark.parametrize("name", ["edsr-baseline", "srresnet", "rcan", "rdn", "srfbn"])
def test_unsupported_scale_raises(name):
    with pytest.raises(ValueError, match="scale"):
        create_model(name, scale=5, tiny=True)


def test_srgan_discriminator_patch_size_and_logits():
    # Dense 1024 after 4 halvings: 96 px -> 6x6x512; 128 px -> 8x8x512 adds (64 - 36) * 512 * 1024.
    assert count_parameters(create_discriminator("srgan", patch_size=128)) == 23_564_353 + 28 * 512 * 1024
    disc = create_discriminator("srgan", patch_size=24, n_feats=8, dense=16)
    strides = [m.stride[0] for m in disc.modules() if isinstance(m, nn.Conv2d)]
    assert strides == [1, 2, 1, 2, 1, 2, 1, 2]
    assert sum(isinstance(m, nn.BatchNorm2d) for m in disc.modules()) == 7
    logits = disc(torch.rand(3, 1, 24, 24))
    assert logits.shape == (3, 1)
    with pytest.raises(ValueError, match="patch_size=32"):
        disc(torch.rand(1, 1, 32, 32))


def test_tiny_training_step_reduces_l1_loss():
    """A few Adam steps of tiny EDSR on a fixed pair lower the L1 loss (the models can learn)."""
    torch.manual_seed(0)
    model = create_model("edsr-baseline", tiny=True)
    hr = _lr(8, size=24, batch=2)
    lr = F.avg_pool2d(hr, 2)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(15):
        opt.zero_grad()
        loss = F.l1_loss(model(lr), hr)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.7 * losses[0]
