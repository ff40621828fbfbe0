"""MHTCUN cascade loss: blurred targets, stage/target/weight pairing for 1-3 stages (seed sections 3
and 4.2), and the total against an independent reference built with pytorch_msssim 1.0.0
(``ssim(win_size=11, win_sigma=1.5, data_range=1, size_average=True)``)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from pytorch_msssim import ssim as ref_ssim

from microsr.losses import build_registered_loss
from microsr.losses.cascade import blurred_target, stage_outputs
from microsr.models import SROutput, create_model


def _ref_blur(hr: torch.Tensor, f: int) -> torch.Tensor:
    """Block average (sizes divisible by f) then bilinear back up, written independently."""
    return F.interpolate(F.avg_pool2d(hr, f), scale_factor=f, mode="bilinear", align_corners=False)


def _ref_stage(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    s = ref_ssim(pred, target, data_range=1.0, size_average=True, win_size=11, win_sigma=1.5)
    return F.mse_loss(pred, target) + 0.1 * (1.0 - s)


@pytest.fixture
def images():
    g = torch.Generator().manual_seed(0)
    hr = torch.rand(2, 1, 32, 28, generator=g)
    preds = [(hr + 0.1 * torch.randn(hr.shape, generator=g)).clamp(0, 1) for _ in range(3)]
    return hr, preds


def test_blurred_targets():
    g = torch.Generator().manual_seed(1)
    hr = torch.rand(1, 1, 24, 20, generator=g)
    for f in (2, 4):
        torch.testing.assert_close(blurred_target(hr, f), _ref_blur(hr, f))
    assert blurred_target(hr, 1) is hr
    const = torch.full((1, 1, 16, 16), 0.3)
    torch.testing.assert_close(blurred_target(const, 4), const)

    # more down-sampling = more blur: less high-frequency energy than the 2x target and the GT
    def lap(x):
        return (
            (
                x[..., 1:-1, 1:-1] * 4
                - x[..., :-2, 1:-1]
                - x[..., 2:, 1:-1]
                - x[..., 1:-1, :-2]
                - x[..., 1:-1, 2:]
            )
            .pow(2)
            .mean()
        )

    assert lap(blurred_target(hr, 4)) < lap(blurred_target(hr, 2)) < lap(hr)
    # the bilinear variant differs (no anti-aliasing) but keeps the size; odd sizes work
    bil = blurred_target(hr, 4, "bilinear")
    assert bil.shape == hr.shape and not torch.allclose(bil, blurred_target(hr, 4))
    assert blurred_target(torch.rand(1, 1, 13, 11), 4).shape == (1, 1, 13, 11)


def test_three_stages_match_reference(images):
    hr, (p1, p2, p3) = images
    out = SROutput(final=p3, aux={"stage1": p1, "stage2": p2, "parsing": torch.zeros(1)})
    total, parts = build_registered_loss("mhtcun-cascade")(out, {"hr": hr, "lr": hr[..., ::2, ::2]})
    l1 = _ref_stage(p1, _ref_blur(hr, 4))
    l2 = _ref_stage(p2, _ref_blur(hr, 2))
    l3 = _ref_stage(p3, hr)
    assert sorted(parts) == ["stage1", "stage2", "stage3"]
    for got, want in zip((parts["stage1"], parts["stage2"], parts["stage3"]), (l1, l2, l3)):
        assert abs(float(got) - float(want)) < 1e-5
    assert abs(float(total) - float(0.3 * l1 + 0.3 * l2 + 1.0 * l3)) < 1e-5


def test_two_stages_use_2x_blur_and_gt(images):
    hr, (p1, p2, _) = images
    total, parts = build_registered_loss("mhtcun-cascade")(SROutput(p2, {"stage1": p1}), {"hr": hr})
    assert sorted(parts) == ["stage1", "stage2"]
    l1, l2 = _ref_stage(p1, _ref_blur(hr, 2)), _ref_stage(p2, hr)
    assert abs(float(parts["stage1"]) - float(l1)) < 1e-5
    assert abs(float(total) - float(0.3 * l1 + 1.0 * l2)) < 1e-5


def test_one_stage_is_dfcan_loss_on_gt(images):
    hr, (p1, _, _) = images
    batch = {"hr": hr}
    for output in (p1, SROutput(p1)):
        total, parts = build_registered_loss("mhtcun-cascade")(output, batch)
        assert list(parts) == ["stage1"]
        assert abs(float(total) - float(_ref_stage(p1, hr))) < 1e-5
    dfcan_total, _ = build_registered_loss("mse+0.1*ssim")(p1, batch)
    assert abs(float(total) - float(dfcan_total)) < 1e-6


def test_perfect_stages_give_zero_and_options_apply(images):
    hr = images[0]
    out = SROutput(hr.clone(), {"stage1": blurred_target(hr, 4), "stage2": blurred_target(hr, 2)})
    total, _ = build_registered_loss("mhtcun-cascade")(out, {"hr": hr})
    assert abs(float(total)) < 1e-6
    # only the final stage wrong: weights and ssim_weight scale exactly that term
    out.final = torch.zeros_like(hr)
    a, _ = build_registered_loss("mhtcun-cascade")(out, {"hr": hr})
    b, _ = build_registered_loss("mhtcun-cascade", weights=(0.3, 0.3, 2.0))(out, {"hr": hr})
    c, _ = build_registered_loss("mhtcun-cascade", ssim_weight=0.0)(out, {"hr": hr})
    assert abs(float(b) - 2 * float(a)) < 1e-5
    assert abs(float(c) - float(hr.pow(2).mean())) < 1e-6


def test_gradients_reach_every_stage(images):
    hr, preds = images
    preds = [p.clone().requires_grad_() for p in preds]
    total, parts = build_registered_loss("mhtcun-cascade")(
        SROutput(preds[2], {"stage1": preds[0], "stage2": preds[1]}), {"hr": hr}
    )
    total.backward()
    assert all(p.grad is not None and float(p.grad.abs().sum()) > 0 for p in preds)
    assert all(not v.requires_grad for v in parts.values())


def test_bad_outputs_raise():
    x = torch.rand(1, 1, 16, 16)
    with pytest.raises(ValueError):
        stage_outputs(SROutput(x, {"stage2": x}))
    four = SROutput(x, {"stage1": x, "stage2": x, "stage3": x})
    with pytest.raises(ValueError):
        build_registered_loss("mhtcun-cascade")(four, {"hr": x})
    with pytest.raises(ValueError):
        build_registered_loss("mhtcun-cascade", down_mode="nearest")


def test_trains_tiny_mhtcun_end_to_end():
    torch.manual_seed(3)
    model = create_model("mhtcun", tiny=True)
    batch = {"lr": torch.rand(1, 1, 6, 7), "hr": torch.rand(1, 1, 12, 14)}
    total, parts = build_registered_loss("mhtcun-cascade")(model(batch["lr"]), batch)
    total.backward()
    assert sorted(parts) == ["stage1", "stage2", "stage3"] and torch.isfinite(total)
    assert all(p.grad is not None for p in model.parameters())
