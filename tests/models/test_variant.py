"""``variant``: a registered model that is another's class with other defaults or fixed options."""

from __future__ import annotations

import inspect

import pytest
import torch

from microsr.models import create_model, get_spec
from microsr.models.blocks import check_same_channels, check_scale
from microsr.models.denseed import DenseED
from microsr.models.dfcan import DFCAN
from microsr.models.edsr import EDSR
from microsr.models.registry import variant
from microsr.options import options_schema


def test_a_variant_reads_its_options_from_the_class_with_its_own_defaults():
    dfgan = get_spec("dfgan").builder
    params = inspect.signature(dfgan).parameters
    assert list(params)[3:] == list(inspect.signature(DFCAN).parameters)[3:]
    # DFGAN's published defaults (module docstring of models/dfcan.py): 5 groups x 10 FCABs, gamma 0.1
    assert (params["n_groups"].default, params["n_blocks"].default, params["gamma"].default) == (5, 10, 0.1)
    assert options_schema(dfgan, 3)["gamma"] == {"default": 0.1, "type": "number"}


def test_a_variant_builds_what_the_class_builds_with_those_arguments():
    torch.manual_seed(0)
    via_variant = create_model("edsr", tiny=True)
    torch.manual_seed(0)
    direct = EDSR(1, 1, 2, n_feats=8, n_blocks=2, res_scale=0.1)
    a, b = via_variant.state_dict(), direct.state_dict()
    assert list(a) == list(b) and all(torch.equal(a[k], b[k]) for k in a)


def test_fixed_options_are_not_options():
    build = get_spec("denseed-2-2-2").builder
    assert "blocks" not in inspect.signature(build).parameters
    assert "blocks" not in options_schema(build, 3)
    with pytest.raises(TypeError, match="blocks"):
        build(1, 1, 2, blocks=(1, 1, 1))
    # (2,2,2): 80,702 parameters for 1 channel (models/denseed.py docstring)
    assert sum(p.numel() for p in build(1, 1, 2).parameters()) == 80_702
    assert isinstance(build(1, 1, 2), DenseED)


def test_a_variant_lives_in_its_class_module_so_an_export_finds_its_source():
    assert get_spec("dfgan").builder.__module__ == "microsr.models.dfcan"


def test_a_variant_of_an_option_the_class_does_not_have_is_refused():
    with pytest.raises(TypeError, match="EDSR has no option 'width'"):
        variant(EDSR, "no such option", width=3)


def test_argument_checks_name_the_model_and_the_values():
    with pytest.raises(
        ValueError,
        match=r"vdsr adds the bicubic input to its output: in_channels \(3\) must equal out_channels \(1\)",
    ):
        create_model("vdsr", 3, 1, 2, tiny=True)
    with pytest.raises(ValueError, match="scale must be a positive integer, got 0"):
        check_scale(0)
    check_same_channels("m", 2, 2, "adds")
