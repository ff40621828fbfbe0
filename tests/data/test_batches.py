import numpy as np
import pytest
import torch

from microsr.data.batches import PatchBatcher
from microsr.data.loading import PairArrays
from microsr.data.patches import Foreground
from microsr.errors import InputError


def _items(rng, n=3, s=2, mask=False):
    out = []
    for i in range(n):
        lr = rng.random((20 + 4 * i, 24)).astype(np.float32)
        hr = np.kron(lr, np.ones((s, s), np.float32))
        m = np.stack([hr > 0.5, hr <= 0.5, np.zeros_like(hr, bool)]).astype(np.float32) if mask else None
        out.append(PairArrays(name=f"im{i}", lr=lr, hr=hr, mask=m))
    return out


def test_shapes_dtypes_and_alignment(rng):
    b = PatchBatcher(_items(rng, mask=True), patch_size=8, scale=2, batch_size=5, seed=1).batch(0)
    assert b["lr"].shape == (5, 1, 8, 8) and b["hr"].shape == (5, 1, 16, 16)
    assert b["mask"].shape == (5, 3, 16, 16) and b["lr"].dtype == torch.float32
    up = torch.kron(b["lr"], torch.ones(2, 2))
    assert torch.equal(up, b["hr"])  # aligned, and augmented identically
    assert torch.equal(b["mask"][:, 0:1], (b["hr"] > 0.5).float())


def test_pure_function_of_seed_and_step(rng):
    items = _items(rng)
    kw = dict(patch_size=8, scale=2, batch_size=4)
    a = PatchBatcher(items, seed=7, **kw)
    b = PatchBatcher(items, seed=7, **kw)
    later = [a.batch(s)["lr"] for s in range(5)]
    # a "resumed" batcher asked for step 3 first gives the same batch
    assert torch.equal(b.batch(3)["lr"], later[3]) and torch.equal(b.batch(0)["lr"], later[0])
    assert not torch.equal(later[1], later[2])
    assert not torch.equal(PatchBatcher(items, seed=8, **kw).batch(3)["lr"], later[3])


def test_augmentation_uses_all_transforms(rng):
    lr = np.arange(64, dtype=np.float32).reshape(8, 8)
    item = PairArrays(name="x", lr=lr, hr=np.kron(lr, np.ones((2, 2), np.float32)))
    bat = PatchBatcher([item], patch_size=8, scale=2, batch_size=64, seed=0, foreground=None)
    seen = {tuple(p.flatten()[:3].tolist()) for p in bat.batch(0)["lr"][:, 0]}
    assert len(seen) == 8
    plain = PatchBatcher([item], patch_size=8, scale=2, batch_size=4, seed=0, augment=False)
    assert all(torch.equal(p[0], torch.from_numpy(lr)) for p in plain.batch(0)["lr"])


def test_foreground_rejection_in_batches():
    lr = np.zeros((64, 64), np.float32)
    lr[48:60, 48:60] = 1
    item = PairArrays(name="sparse", lr=lr, hr=np.kron(lr, np.ones((2, 2), np.float32)))
    on = PatchBatcher(
        [item], patch_size=8, scale=2, batch_size=32, seed=0, foreground=Foreground(threshold=0.3, retries=30)
    ).batch(0)
    off = PatchBatcher([item], patch_size=8, scale=2, batch_size=32, seed=0, foreground=None).batch(0)

    def frac(b):
        return float((b["lr"].amax(dim=(1, 2, 3)) > 0).float().mean())

    assert frac(on) > 0.9 and frac(off) < 0.5


def test_errors(rng):
    items = _items(rng, mask=True)
    items[1].mask = None
    with pytest.raises(InputError, match="masks"):
        PatchBatcher(items, patch_size=8, scale=2, batch_size=2, seed=0)
    with pytest.raises(InputError, match="im0.*smaller than the patch"):
        PatchBatcher(_items(rng), patch_size=30, scale=2, batch_size=2, seed=0)


def test_offset_jitter_adds_one_offset_per_pair(rng):
    items = _items(rng)
    kw = dict(patch_size=8, scale=2, batch_size=1, seed=3, augment=False, foreground=None)
    shifts = []
    for step in range(20):
        plain = PatchBatcher(items, **kw).batch(step)
        jit = PatchBatcher(items, offset_jitter=0.05, **kw).batch(step)
        d_lr, d_hr = jit["lr"] - plain["lr"], jit["hr"] - plain["hr"]  # one sample: same position
        assert torch.allclose(d_lr, d_lr.flatten()[0].expand_as(d_lr), atol=1e-6)
        assert torch.allclose(d_hr, d_lr.flatten()[0].expand_as(d_hr), atol=1e-6)
        assert torch.equal(PatchBatcher(items, offset_jitter=0.05, **kw).batch(step)["lr"], jit["lr"])
        shifts.append(float(d_lr.flatten()[0]))
    assert max(abs(s) for s in shifts) <= 0.05 and min(shifts) < 0 < max(shifts)
    assert len(set(shifts)) == 20  # a new offset each step
    # with no jitter nothing is drawn: the batches of a run without the option, bit for bit
    batch4 = dict(kw, batch_size=4)
    a = PatchBatcher(items, offset_jitter=0.0, **batch4).batch(5)
    assert torch.equal(a["lr"], PatchBatcher(items, **batch4).batch(5)["lr"])
