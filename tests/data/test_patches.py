import numpy as np
import pytest

from microsr.data.patches import Foreground, foreground_level, sample_patch
from microsr.errors import InputError


def _pair(rng, h=20, w=24, s=2):
    lr = rng.random((h, w)).astype(np.float32)
    hr = np.kron(lr, np.ones((s, s), np.float32))
    return lr, hr


def test_patches_are_aligned(rng):
    for s in (2, 3, 4):
        lr, hr = _pair(rng, s=s)
        mask = np.stack([hr, -hr, hr * 2])
        for _ in range(20):
            a, b, m = sample_patch(lr, hr, patch=8, scale=s, rng=rng, mask=mask)
            assert a.shape == (8, 8) and b.shape == (8 * s, 8 * s) and m.shape == (3, 8 * s, 8 * s)
            assert np.array_equal(np.kron(a, np.ones((s, s))), b)
            assert np.array_equal(m[1], -b)


def test_positions_cover_image_and_are_seeded(rng):
    lr, hr = _pair(rng)
    pos = set()
    draw = np.random.default_rng(0)
    for _ in range(4000):
        a, _, _ = sample_patch(lr, hr, patch=8, scale=2, rng=draw)
        pos.add(tuple(np.argwhere(lr == a[0, 0])[0]))
    assert len(pos) == (20 - 8 + 1) * (24 - 8 + 1)  # every valid corner reachable
    a1 = sample_patch(lr, hr, patch=8, scale=2, rng=np.random.default_rng(5))[0]
    a2 = sample_patch(lr, hr, patch=8, scale=2, rng=np.random.default_rng(5))[0]
    assert np.array_equal(a1, a2)


def test_background_rejection(rng):
    lr = np.zeros((64, 64), np.float32)
    lr[40:56, 40:56] = 1.0  # one bright object in 6% of the image
    hr = np.kron(lr, np.ones((2, 2), np.float32))
    fg = Foreground(threshold=0.3, retries=50)
    level = foreground_level(hr, fg)
    hits = sum(
        sample_patch(lr, hr, patch=8, scale=2, rng=rng, level=level, fg=fg)[0].max() > 0 for _ in range(50)
    )
    unfiltered = sum(sample_patch(lr, hr, patch=8, scale=2, rng=rng)[0].max() > 0 for _ in range(200))
    assert hits >= 45 and unfiltered < 100
    # bounded retries: an all-background image still returns a patch
    assert foreground_level(np.zeros((16, 16)), fg) is None
    few = Foreground(threshold=0.3, retries=1)
    assert sample_patch(lr, hr, patch=8, scale=2, rng=rng, level=1e9, fg=few)[0].shape == (8, 8)


def test_too_small_image_names_file(rng):
    lr, hr = _pair(rng, h=10, w=30)
    with pytest.raises(InputError, match=r"cell7\.tif.*10x30.*16x16"):
        sample_patch(lr, hr, patch=16, scale=2, rng=rng, name="cell7.tif")
