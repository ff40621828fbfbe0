"""The mask question is answered by the ModelSpec; it must agree with every model's forward."""

from __future__ import annotations

import inspect

import pytest

from microsr.models import create_model, get_spec, list_models


@pytest.mark.parametrize("name", [n for n in list_models() if get_spec(n).trainable])
def test_mask_input_matches_forward_signature(name):
    model = create_model(name, tiny=True)
    params = [
        p
        for p in inspect.signature(model.forward).parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    spec = get_spec(name)
    assert spec.mask_input is (len(params) >= 2)
    assert not spec.mask_input or spec.needs_mask  # a mask at prediction implies one in training
