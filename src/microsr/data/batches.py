"""Training batches as a pure function of (seed, step).

``PatchBatcher.batch(step)`` draws everything from ``np.random.default_rng([seed, step])``: which
image each sample comes from (probability proportional to the number of patch positions, so large
images are not under-sampled), where the patch is (with background rejection), and which of the 8
dihedral transforms is applied (and, with ``offset_jitter``, which intensity offset is added). A
training run resumed at step ``k`` therefore sees exactly the batches an uninterrupted run sees,
with no generator state to save.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from microsr.data.augment import N_TRANSFORMS, dihedral
from microsr.data.loading import PairArrays
from microsr.data.patches import Foreground, check_patch_fits, foreground_level, sample_patch
from microsr.errors import InputError


class PatchBatcher:
    """Random aligned LR/HR patches from in-memory normalised images.

    Parameters
    ----------
    items : sequence of PairArrays (or objects with ``lr``, ``hr``, ``mask``, ``name``)
        lr (h, w) float32, hr (s*h, s*w) float32, mask (3, s*h, s*w) or None.
    patch_size : int
        LR patch size ``p``; HR patches are ``scale * p``.
    scale : int
    batch_size : int
    seed : int
    augment : bool
        Apply a random dihedral transform (rotations by 90 degrees, flips) to each sample.
    foreground : Foreground or None
        Background-patch rejection (``None`` disables it).
    offset_jitter : float
        Add the same offset, uniform in ``[-offset_jitter, offset_jitter]`` (normalised units), to
        the LR and the HR patch of each sample: where the background sits after percentile
        normalisation then varies, and the network learns a correction that does not depend on it.
        0 (the default) draws nothing, so the batches are those of a run without it.

    ``pure = True``: ``batch(i)`` has no side effects, so the training loop may prepare batches
    ahead in worker processes (:mod:`microsr.engine.prefetch`).
    """

    pure = True

    def __init__(
        self,
        items: Sequence[PairArrays],
        *,
        patch_size: int,
        scale: int,
        batch_size: int,
        seed: int,
        augment: bool = True,
        foreground: Foreground | None = Foreground(),
        offset_jitter: float = 0.0,
    ):
        if not items:
            raise InputError(None, "no training images")
        if patch_size < 1 or batch_size < 1 or scale < 1:
            raise ValueError("patch_size, batch_size and scale must be positive")
        for it in items:
            check_patch_fits(it.lr.shape, patch_size, getattr(it, "name", None))
            if it.hr.shape != (scale * it.lr.shape[0], scale * it.lr.shape[1]):
                raise InputError(
                    getattr(it, "name", None),
                    f"HR {it.hr.shape} is not x{scale} of LR {it.lr.shape}",
                )
        with_mask = [it.mask is not None for it in items]
        if any(with_mask) and not all(with_mask):
            missing = [it.name for it, m in zip(items, with_mask) if not m]
            raise InputError(None, f"some images have masks and some not (no mask: {missing[:5]})")
        self.items = list(items)
        self.patch_size, self.scale, self.batch_size = patch_size, scale, batch_size
        self.seed, self.augment, self.foreground = int(seed), augment, foreground
        self.offset_jitter = float(offset_jitter)
        self.has_mask = all(with_mask)
        self.levels = [foreground_level(it.hr, foreground) for it in self.items]
        positions = np.array(
            [(it.lr.shape[0] - patch_size + 1) * (it.lr.shape[1] - patch_size + 1) for it in items],
            dtype=np.float64,
        )
        self.weights = positions / positions.sum()

    def batch(self, step: int) -> dict[str, torch.Tensor]:
        """The batch of training step ``step`` (same (seed, step), same batch).

        Returns
        -------
        dict
            ``"lr"`` (B, 1, p, p), ``"hr"`` (B, 1, s*p, s*p) float32 tensors and, when the items
            have masks, ``"mask"`` (B, 3, s*p, s*p).
        """
        rng = np.random.default_rng([self.seed, int(step)])
        picks = rng.choice(len(self.items), size=self.batch_size, p=self.weights)
        lrs, hrs, masks = [], [], []
        for i in picks:
            it = self.items[i]
            a, b, m = sample_patch(
                it.lr,
                it.hr,
                patch=self.patch_size,
                scale=self.scale,
                rng=rng,
                mask=it.mask,
                level=self.levels[i],
                fg=self.foreground,
                name=getattr(it, "name", None),
            )
            k = int(rng.integers(0, N_TRANSFORMS)) if self.augment else 0
            a, b = dihedral(a, k), dihedral(b, k)
            if self.offset_jitter:
                shift = rng.uniform(-self.offset_jitter, self.offset_jitter)
                a, b = a + shift, b + shift
            lrs.append(a)
            hrs.append(b)
            if m is not None:
                masks.append(dihedral(m, k))
        out = {
            "lr": torch.from_numpy(np.stack(lrs)[:, None].astype(np.float32)),
            "hr": torch.from_numpy(np.stack(hrs)[:, None].astype(np.float32)),
        }
        if self.has_mask:
            out["mask"] = torch.from_numpy(np.stack(masks).astype(np.float32))
        return out
