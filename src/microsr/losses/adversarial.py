"""Adversarial (GAN) losses on discriminator logits.

Discriminators return logits (B, 1); the sigmoid lives in the loss (``binary_cross_entropy_with_logits``),
numerically the same as the papers' sigmoid output followed by binary cross-entropy, but stable.
Used by the training engine for models whose spec names a discriminator (DFGAN, SRGAN, SFTGAN):
the generator minimises ``pixel_loss + adv_weight * generator_loss(D(fake))`` (DFGAN: 0.1), the
discriminator minimises ``discriminator_loss(D(real), D(fake.detach()))``.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor


def generator_loss(fake_logits: Tensor) -> Tensor:
    """BCE pushing the discriminator to call generated images real.

    Parameters
    ----------
    fake_logits : Tensor
        Discriminator logits of generated images, shape (B, 1).

    Returns
    -------
    Tensor
        Scalar ``mean(-log sigmoid(fake_logits))``.
    """
    return F.binary_cross_entropy_with_logits(fake_logits, fake_logits.new_ones(fake_logits.shape))


def discriminator_loss(real_logits: Tensor, fake_logits: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
    """BCE of the discriminator: real images labelled 1, generated ones 0.

    Parameters
    ----------
    real_logits, fake_logits : Tensor
        Discriminator logits, shape (B, 1), of ground-truth and (detached) generated images.

    Returns
    -------
    total : Tensor
        ``BCE(real, 1) + BCE(fake, 0)`` (the sum, as in Keras' two-batch training of DFGAN up to a
        factor 2 that only rescales the learning rate).
    parts : dict
        Detached ``d_real``, ``d_fake`` terms and ``d_acc`` (fraction of both batches classified right).
    """
    real = F.binary_cross_entropy_with_logits(real_logits, real_logits.new_ones(real_logits.shape))
    fake = F.binary_cross_entropy_with_logits(fake_logits, fake_logits.new_zeros(fake_logits.shape))
    acc = 0.5 * ((real_logits > 0).float().mean() + (fake_logits < 0).float().mean())
    return real + fake, {"d_real": real.detach(), "d_fake": fake.detach(), "d_acc": acc.detach()}
