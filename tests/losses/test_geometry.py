"""Geometry-prior loss (Hua 2020 eq. 5): Charbonnier(eps 1e-3) + 1.0 x per-channel BCE on the map."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from microsr.losses import build_registered_loss
from microsr.models import SROutput


def _batch(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    hr = torch.rand(2, 1, 8, 8, generator=g)
    labels = torch.randint(0, 3, (2, 8, 8), generator=g)
    mask = torch.nn.functional.one_hot(labels, 3).permute(0, 3, 1, 2).float()
    return {"lr": hr[..., ::2, ::2], "hr": hr, "mask": mask}


def _ref_charbonnier(x, y, eps=1e-3):
    d = x.numpy().astype(np.float64) - y.numpy()
    return np.mean(np.sqrt(d * d + eps * eps))


def _ref_bce(logits, target):
    z = logits.numpy().astype(np.float64)
    p = 1 / (1 + np.exp(-z))
    t = target.numpy()
    return np.mean(-(t * np.log(p) + (1 - t) * np.log(1 - p)))


def test_charbonnier_only_for_plain_output():
    batch = _batch()
    sr = torch.rand(2, 1, 8, 8, generator=torch.Generator().manual_seed(5))
    total, parts = build_registered_loss("geometry-prior")(sr, batch)
    assert set(parts) == {"charbonnier"}
    assert total.item() == pytest.approx(_ref_charbonnier(sr, batch["hr"]), rel=1e-6)
    # Perfect prediction: the penalty is eps.
    total, _ = build_registered_loss("geometry-prior")(batch["hr"], batch)
    assert total.item() == pytest.approx(1e-3, rel=1e-4)


def test_charbonnier_plus_bce_on_predicted_map():
    batch = _batch()
    g = torch.Generator().manual_seed(7)
    out = SROutput(
        final=torch.rand(2, 1, 8, 8, generator=g), aux={"parsing": 3 * torch.randn(2, 3, 8, 8, generator=g)}
    )
    for w in (1.0, 0.25):
        total, parts = build_registered_loss("geometry-prior", bce_weight=w)(out, batch)
        c = _ref_charbonnier(out.final, batch["hr"])
        b = _ref_bce(out.aux["parsing"], batch["mask"])
        assert parts["charbonnier"].item() == pytest.approx(c, rel=1e-6)
        assert parts["bce"].item() == pytest.approx(b, rel=1e-5)
        assert total.item() == pytest.approx(c + w * b, rel=1e-5)


def test_gradients_reach_the_parsing_logits():
    batch = _batch()
    logits = torch.zeros(2, 3, 8, 8, requires_grad=True)
    out = SROutput(final=torch.rand(2, 1, 8, 8), aux={"parsing": logits})
    total, _ = build_registered_loss("geometry-prior")(out, batch)
    total.backward()
    # d BCE / d logit = (sigmoid(0) - target) / N: negative where the class is on, positive elsewhere.
    n = logits.numel()
    expected = (0.5 - batch["mask"]) / n
    torch.testing.assert_close(logits.grad, expected)


def test_predicted_map_without_ground_truth_is_a_clear_error():
    batch = _batch()
    del batch["mask"]
    out = SROutput(final=torch.rand(2, 1, 8, 8), aux={"parsing": torch.zeros(2, 3, 8, 8)})
    with pytest.raises(ValueError, match="parsing maps"):
        build_registered_loss("geometry-prior")(out, batch)


def test_bad_options_rejected():
    with pytest.raises(ValueError):
        build_registered_loss("geometry-prior", eps=0.0)
    with pytest.raises(ValueError):
        build_registered_loss("geometry-prior", bce_weight=-1.0)
