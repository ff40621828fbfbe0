"""GAN losses against the sigmoid + binary cross-entropy formula written out by hand."""

from __future__ import annotations

import math

import pytest
import torch

from microsr.losses.adversarial import discriminator_loss, generator_loss


def _bce(p, label):
    return -(label * math.log(p) + (1 - label) * math.log(1 - p))


def test_generator_loss_by_hand():
    logits = torch.tensor([[0.0], [2.0]])
    s = [0.5, 1 / (1 + math.exp(-2.0))]
    expected = (_bce(s[0], 1) + _bce(s[1], 1)) / 2
    assert generator_loss(logits).item() == pytest.approx(expected, rel=1e-6)


def test_discriminator_loss_by_hand():
    real = torch.tensor([[1.0], [-1.0]])
    fake = torch.tensor([[-3.0], [0.5]])
    sig = lambda v: 1 / (1 + math.exp(-v))  # noqa: E731
    exp_real = (_bce(sig(1.0), 1) + _bce(sig(-1.0), 1)) / 2
    exp_fake = (_bce(sig(-3.0), 0) + _bce(sig(0.5), 0)) / 2
    total, parts = discriminator_loss(real, fake)
    assert total.item() == pytest.approx(exp_real + exp_fake, rel=1e-6)
    assert parts["d_real"].item() == pytest.approx(exp_real, rel=1e-6)
    assert parts["d_acc"].item() == pytest.approx(0.5)  # 1 of 2 real right, 1 of 2 fake right


def test_generator_gradient_direction():
    logits = torch.zeros(4, 1, requires_grad=True)
    generator_loss(logits).backward()
    assert (logits.grad < 0).all()  # the generator wants larger "real" logits
