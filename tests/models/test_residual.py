"""The optional global bicubic residual (create_model(..., bicubic_residual=True))."""

from __future__ import annotations

import pytest
import torch

from microsr.modelcard import load_model_folder, save_model_folder
from microsr.models import count_parameters, create_model, get_spec, list_models
from microsr.models.blocks import bicubic_upsample
from microsr.models.outputs import SROutput
from microsr.models.registry import residual_refusal
from microsr.models.residual import BicubicResidual

WRAPPABLE = [m for m in list_models() if residual_refusal(get_spec(m)) is None]


@pytest.mark.parametrize("name", WRAPPABLE)
def test_adds_bicubic_and_no_parameters(name):
    torch.manual_seed(0)
    plain = create_model(name, tiny=True)
    torch.manual_seed(0)
    wrapped = create_model(name, tiny=True, bicubic_residual=True)
    assert isinstance(wrapped, BicubicResidual)
    assert count_parameters(wrapped) == count_parameters(plain)
    x = torch.rand(1, 1, 32, 32)
    args = (x,)
    if get_spec(name).needs_mask:
        args = (
            x,
            torch.nn.functional.one_hot(torch.randint(0, 3, (1, 64, 64)), 3).permute(0, 3, 1, 2).float(),
        )
    plain.eval(), wrapped.eval()
    with torch.no_grad():
        a, b = plain(*args), wrapped(*args)
    fa, fb = (a.final, b.final) if isinstance(a, SROutput) else (a, b)
    torch.testing.assert_close(fb, fa + bicubic_upsample(x, 2))  # same weights, plus bicubic


def test_zero_network_gives_exactly_bicubic():
    model = create_model("edsr-baseline", tiny=True, bicubic_residual=True)
    for p in model.parameters():
        torch.nn.init.zeros_(p)
    x = torch.rand(2, 1, 24, 20)
    torch.testing.assert_close(model(x), bicubic_upsample(x, 2))


def test_multi_output_adds_to_same_shaped_outputs_only():
    class Two(torch.nn.Module):
        def forward(self, x):
            hr = torch.zeros(x.shape[0], 1, 2 * x.shape[2], 2 * x.shape[3])
            return SROutput(
                final=hr, aux={"stage1": hr.clone(), "parsing": torch.zeros(x.shape[0], 3, *hr.shape[2:])}
            )

    x = torch.rand(1, 1, 8, 8)
    out = BicubicResidual(Two(), 2)(x)
    up = bicubic_upsample(x, 2)
    torch.testing.assert_close(out.final, up)
    torch.testing.assert_close(out.aux["stage1"], up)
    assert torch.count_nonzero(out.aux["parsing"]) == 0


@pytest.mark.parametrize(
    "name,match",
    [
        ("vdsr", "already adds the bicubic image"),
        ("geometry-prior", "already adds the bicubic image"),
        ("dfcan", "sigmoid, whose output cannot be negative"),
        ("dfgan", "sigmoid"),
        ("bicubic", "has no weights"),
    ],
)
def test_refused_where_it_makes_no_sense(name, match):
    with pytest.raises(ValueError, match=match):
        create_model(name, tiny=True, bicubic_residual=True)


def test_refused_for_different_channel_counts():
    with pytest.raises(ValueError, match="in_channels == out_channels, got 3, 1"):
        create_model("edsr-baseline", 3, 1, tiny=True, bicubic_residual=True)


def test_model_folder_round_trip_keeps_the_skip(tmp_path):
    torch.manual_seed(0)
    model = create_model("rcan", tiny=True, bicubic_residual=True)
    save_model_folder(
        tmp_path / "m",
        model,
        name="rcan",
        scale=2,
        tiny=True,
        options={"bicubic_residual": True},
        normalization={"kind": "percentile", "low": 2.0, "high": 99.8},
    )
    loaded, info = load_model_folder(tmp_path / "m")
    assert isinstance(loaded, BicubicResidual) and info.options == {"bicubic_residual": True}
    x = torch.rand(1, 1, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), model.eval()(x))
