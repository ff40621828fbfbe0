"""MHTCUN: size (SPEC 1.2: within 3 % of 6.60M), stage ablation, shapes at odd sizes and x4,
internal padding, cascade prefix consistency and gradients through every stage."""

from __future__ import annotations

import pytest
import torch

from microsr.models import SROutput, count_parameters, create_model, get_spec
from microsr.models.blocks import pad_to_multiple
from microsr.models.dfcan import FourierChannelAttention
from microsr.models.mhtcun_parts import MFCAB, DSConv


def test_default_count_within_three_percent_of_paper_size():
    n = count_parameters(create_model("mhtcun"))
    assert n == 6_694_563  # the count written in the module docstring
    assert abs(n - 6_600_000) / 6_600_000 < 0.03


def test_stage_ablation_counts():
    counts = [count_parameters(create_model("mhtcun", stages=s)) for s in (1, 2, 3)]
    assert counts == [3_372_113, 5_033_338, 6_694_563]
    # each stage adds exactly one FRM (conv3x3 128->64: 73,792 + U-Net: 1,567,656) and one pixel
    # branch (4 DS convs: 4 x 4,800 + conv3x3 64->1: 577)
    assert counts[1] - counts[0] == counts[2] - counts[1] == 73_792 + 1_567_656 + 19_777
    with pytest.raises(ValueError):
        create_model("mhtcun", stages=4)


def test_spec_and_structure():
    spec = get_spec("mhtcun")
    assert spec.input_grid == "hr" and spec.default_loss == "mhtcun-cascade"
    model = create_model("mhtcun")
    assert count_parameters(model) == count_parameters(create_model("mhtcun", scale=4))
    fcabs = [m for m in model.modules() if isinstance(m, MFCAB)]
    assert len(fcabs) == 4 * 5 * 2  # 4 U-Nets x 5 blocks x 2 FCABs
    assert all(isinstance(f.attention.conv, DSConv) for f in fcabs)
    widths = sorted({f.attention.up.out_channels for f in fcabs})
    assert widths == [64, 128, 256]
    assert all(isinstance(f.attention, FourierChannelAttention) for f in fcabs)


@pytest.mark.parametrize("scale,size", [(2, (7, 9)), (4, (5, 6)), (2, (8, 8))])
def test_tiny_shapes_any_size(scale, size):
    torch.manual_seed(0)
    model = create_model("mhtcun", tiny=True, scale=scale)
    with torch.no_grad():
        out = model(torch.rand(2, 1, *size))
    assert isinstance(out, SROutput)
    want = (2, 1, scale * size[0], scale * size[1])
    assert out.final.shape == want
    assert sorted(out.aux) == ["stage1", "stage2"]
    assert all(v.shape == want for v in out.aux.values())


def test_fewer_stages_expose_fewer_outputs():
    with torch.no_grad():
        one = create_model("mhtcun", tiny=True, stages=1)(torch.rand(1, 1, 6, 6))
        two = create_model("mhtcun", tiny=True, stages=2)(torch.rand(1, 1, 6, 6))
    assert one.aux == {} and one.final.shape == (1, 1, 12, 12)
    assert list(two.aux) == ["stage1"]


def test_truncated_cascade_reproduces_earlier_stages():
    """A 1- or 2-stage model with the 3-stage model's weights returns that model's stage outputs."""
    torch.manual_seed(1)
    full = create_model("mhtcun", tiny=True).eval()
    x = torch.rand(1, 1, 10, 11)
    with torch.no_grad():
        ref = full(x)
        for stages, key in ((1, "stage1"), (2, "stage2")):
            short = create_model("mhtcun", tiny=True, stages=stages).eval()
            missing, unexpected = short.load_state_dict(full.state_dict(), strict=False)
            assert missing == [] and unexpected  # only later stages' weights are left over
            torch.testing.assert_close(short(x).final, ref.aux[key])


def test_pad_to_multiple():
    x = torch.arange(2 * 6 * 7, dtype=torch.float32).view(1, 2, 6, 7)
    y = pad_to_multiple(x, 4)
    assert y.shape == (1, 2, 8, 8)
    torch.testing.assert_close(y[..., :6, :7], x)
    torch.testing.assert_close(y[..., 6, :7], x[..., 4, :])  # reflect: row 6 mirrors row 4
    square = x[..., :4, :4]
    assert pad_to_multiple(square, 4) is square  # already a multiple: untouched
    small = pad_to_multiple(torch.ones(1, 1, 2, 2), 4)  # too small to reflect: replicate
    assert small.shape == (1, 1, 4, 4) and bool((small == 1).all())


def test_gradients_reach_every_parameter_and_a_step_helps():
    torch.manual_seed(2)
    model = create_model("mhtcun", tiny=True)
    lr, hr = torch.rand(1, 1, 8, 8), torch.rand(1, 1, 16, 16)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)

    def loss_fn() -> torch.Tensor:
        out = model(lr)
        return sum(torch.nn.functional.mse_loss(y, hr) for y in [out.final, *out.aux.values()])

    first = loss_fn()
    opt.zero_grad()
    first.backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())
    opt.step()
    with torch.no_grad():
        assert float(loss_fn()) < float(first)

    opt.step()
    with torch.no_grad():
        assert float(loss_fn()) < float(first)


def _saved_bytes_and_grads(model, x, target):
    """Bytes autograd keeps for the backward pass of one training step, and the gradients."""
    saved = []

    def pack(t):
        saved.append(t.numel() * t.element_size())
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = model(x)
        loss = sum(torch.nn.functional.mse_loss(y, target) for y in [out.final, *out.aux.values()])
    model.zero_grad()
    loss.backward()
    return sum(saved), out.final.detach(), [p.grad.clone() for p in model.parameters()]


def test_checkpoint_option_same_results_less_than_half_the_saved_memory():
    torch.manual_seed(7)
    plain = create_model("mhtcun", tiny=True)
    ckpt = create_model("mhtcun", tiny=True, checkpoint=True)
    ckpt.load_state_dict(plain.state_dict())
    x, target = torch.rand(2, 1, 16, 16), torch.rand(2, 1, 32, 32)
    mem_plain, out_plain, g_plain = _saved_bytes_and_grads(plain, x, target)
    mem_ckpt, out_ckpt, g_ckpt = _saved_bytes_and_grads(ckpt, x, target)
    assert torch.equal(out_plain, out_ckpt)
    for a, b in zip(g_plain, g_ckpt):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-7)
    assert mem_ckpt < 0.5 * mem_plain
    with torch.no_grad():  # no effect on inference
        assert torch.equal(ckpt(x).final, plain(x).final)


def test_checkpoint_option_is_typed_in_the_config():
    from microsr.errors import ConfigError
    from microsr.options import check_options, registered

    schema = registered("model", "mhtcun")["options"]
    assert schema["checkpoint"]["default"] is False
    check_options("model 'mhtcun'", schema, {"checkpoint": True})
    with pytest.raises(ConfigError, match="option 'checkpoint': Input should be a valid boolean"):
        check_options("model 'mhtcun'", schema, {"checkpoint": "sometimes"})
