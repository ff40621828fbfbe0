"""Geometry-prior models (Hua 2020 seed; SPEC 1.3): counts, shapes, map handling, end-to-end training."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from microsr.losses import build_registered_loss
from microsr.models import SROutput, count_parameters, create_model, get_spec
from microsr.models.blocks import bicubic_upsample
from microsr.models.geometry_prior_nets import PriorUNet


def _onehot(b: int, h: int, w: int, seed: int = 0) -> torch.Tensor:
    labels = torch.randint(0, 3, (b, h, w), generator=torch.Generator().manual_seed(seed))
    return F.one_hot(labels, 3).permute(0, 3, 1, 2).float()


def test_parameter_counts_match_spec():
    # SPEC 1.3: SR net with N=3 has 777,857; the halved U-Net prior 7,759,587 (1 channel in).
    assert count_parameters(create_model("geometry-prior")) == 777_857
    assert count_parameters(PriorUNet(1, 3, 32, 4)) == 7_759_587
    assert count_parameters(create_model("geometry-prior-full")) == 777_857 + 7_759_587
    # No-prior: minus mask encoder (1,792 + 3*73,856) and 64 input channels of the 192->64 conv.
    assert count_parameters(create_model("geometry-prior-noprior")) == 777_857 - 223_360 - 36_864
    # Each extra decoder residual block adds two 64->64 conv3x3 with bias.
    assert count_parameters(create_model("geometry-prior", decoder_blocks=5)) == 777_857 + 2 * 73_856


def test_prior_unet_is_the_original_unet_without_batch_norm():
    net = PriorUNet()
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in net.modules())
    tconvs = [m for m in net.modules() if isinstance(m, torch.nn.ConvTranspose2d)]
    assert [(t.in_channels, t.out_channels, t.kernel_size) for t in tconvs] == [
        (512, 256, (2, 2)),
        (256, 128, (2, 2)),
        (128, 64, (2, 2)),
        (64, 32, (2, 2)),
    ]


def test_specs():
    assert get_spec("geometry-prior").needs_mask and get_spec("geometry-prior-full").needs_mask
    assert not get_spec("geometry-prior-noprior").needs_mask
    for name in ("geometry-prior", "geometry-prior-full", "geometry-prior-noprior"):
        assert get_spec(name).input_grid == "hr"
        assert get_spec(name).default_loss == "geometry-prior"


@pytest.mark.parametrize("scale", [2, 4])
def test_tiny_full_model_returns_sr_and_parsing_logits(scale: int):
    torch.manual_seed(0)
    model = create_model("geometry-prior-full", scale=scale, tiny=True)
    lr = torch.rand(2, 1, 7, 9, requires_grad=True)  # HR 14x18 / 28x36: not multiples of 2**depth
    out = model(lr)
    assert isinstance(out, SROutput)
    assert out.final.shape == (2, 1, 7 * scale, 9 * scale)
    assert out.aux["parsing"].shape == (2, 3, 7 * scale, 9 * scale)
    (out.final.mean() + out.aux["parsing"].mean()).backward()
    assert lr.grad is not None and lr.grad.abs().sum() > 0


def test_sr_loss_alone_trains_the_prior_network_end_to_end():
    torch.manual_seed(0)
    model = create_model("geometry-prior-full", scale=2, tiny=True)
    out = model(torch.rand(1, 1, 8, 8))
    F.mse_loss(out.final, torch.rand(1, 1, 16, 16)).backward()
    prior_grad = sum(p.grad.abs().sum() for p in model.prior.parameters())
    assert prior_grad > 0  # the predicted map feeds the SR network


def test_zero_tail_returns_bicubic_input():
    for name in ("geometry-prior", "geometry-prior-noprior"):
        model = create_model(name, scale=3, tiny=True)
        torch.nn.init.zeros_(model.sr.tail.weight)
        torch.nn.init.zeros_(model.sr.tail.bias)
        lr = torch.rand(1, 1, 5, 6)
        kwargs = {"mask": _onehot(1, 15, 18)} if name == "geometry-prior" else {}
        torch.testing.assert_close(model(lr, **kwargs), bicubic_upsample(lr, 3), rtol=0, atol=0)


def test_given_map_changes_output_through_the_mask_channels_only():
    torch.manual_seed(0)
    model = create_model("geometry-prior", scale=2, tiny=True).eval()
    lr = torch.rand(1, 1, 8, 8)
    a, b = _onehot(1, 16, 16, seed=1), _onehot(1, 16, 16, seed=2)
    assert not torch.allclose(model(lr, mask=a), model(lr, mask=b))
    # The decoder's first conv sees [f, LRenc, MaskEnc]: silencing the last third removes the map.
    width = model.sr.head[0].out_channels
    with torch.no_grad():
        model.sr.decoder[0].weight[:, 2 * width :] = 0
    torch.testing.assert_close(model(lr, mask=a), model(lr, mask=b))


def test_given_map_model_refuses_missing_or_misshaped_map():
    model = create_model("geometry-prior", scale=2, tiny=True)
    with pytest.raises(ValueError, match="needs a parsing map"):
        model(torch.rand(1, 1, 8, 8))
    with pytest.raises(ValueError, match="expected"):
        model(torch.rand(1, 1, 8, 8), mask=_onehot(1, 8, 8))


def test_noprior_has_no_mask_encoder_and_plain_output():
    model = create_model("geometry-prior-noprior", scale=2, tiny=True)
    assert not hasattr(model.sr, "mask_encoder")
    out = model(torch.rand(1, 1, 6, 6))
    assert isinstance(out, torch.Tensor) and out.shape == (1, 1, 12, 12)


def test_few_steps_of_end_to_end_training_reduce_the_seed_loss():
    torch.manual_seed(0)
    model = create_model("geometry-prior-full", scale=2, tiny=True)
    loss_fn = build_registered_loss("geometry-prior")
    hr = torch.rand(2, 1, 16, 16)
    batch = {"lr": F.avg_pool2d(hr, 2), "hr": hr, "mask": _onehot(2, 16, 16)}
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses, bces = [], []
    for _ in range(8):
        opt.zero_grad()
        total, parts = loss_fn(model(batch["lr"]), batch)
        total.backward()
        opt.step()
        losses.append(total.item())
        bces.append(parts["bce"].item())
        assert set(parts) == {"charbonnier", "bce"}
    assert losses[-1] < 0.9 * losses[0]
    assert bces[-1] < bces[0]  # the prior U-Net learns the map at the same time
