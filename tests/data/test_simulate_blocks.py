"""Block-wise simulation: the same scene and HR as the whole-image simulator, the LR noise per block,
and the region building blocks equal to their whole-grid versions."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from microsr.data import fields, simulate
from microsr.data.fields import HazeField, TopValues, Walks, random_walks, splat, splat_region
from microsr.data.simulate import simulate_pair
from microsr.data.structures import STRUCTURES

# sums of simulate_pair(s, size=64, scale=2, seed=0) (HR, LR), recorded with the whole-image
# simulator before the scene/region rewrite (microsr at 9d299e2): small pairs must not change
BEFORE = {
    "ccps": (7185049.863037109, 147949.14238739014),
    "microtubules": (25691009.612365723, 211355.54410552979),
    "er": (15909026.895080566, 170136.46688079834),
    "f-actin": (24159767.664123535, 192990.66876983643),
}


@pytest.mark.parametrize("structure", STRUCTURES)
def test_small_pairs_are_what_they_were(structure):
    lr, hr = simulate_pair(structure, size=64, scale=2, seed=0)
    assert (hr.astype(np.float64).sum(), lr.astype(np.float64).sum()) == pytest.approx(
        BEFORE[structure], rel=1e-9
    )


@pytest.mark.parametrize("structure", STRUCTURES)
def test_blocks_give_the_same_scene_and_hr_and_lr_noise_of_the_same_law(structure):
    lr, hr, gt = simulate_pair(structure, size=96, scale=2, seed=3, return_gt=True)
    blr, bhr, bgt = simulate_pair(structure, size=96, scale=2, seed=3, return_gt=True, block=48)
    assert bhr.shape == hr.shape and blr.shape == lr.shape and blr.dtype == np.float32
    np.testing.assert_allclose(bhr, hr, rtol=1e-6, atol=1e-6 * hr.max())
    np.testing.assert_allclose(bgt, gt, rtol=1e-5, atol=1e-6 * gt.max())
    assert not np.array_equal(blr, lr)  # another draw of the camera noise ...
    assert blr.mean() == pytest.approx(lr.mean(), rel=0.01)  # ... of the same distribution
    assert blr.std() == pytest.approx(lr.std(), rel=0.05)
    again = simulate_pair(structure, size=96, scale=2, seed=3, block=48)
    assert np.array_equal(again[0], blr) and np.array_equal(again[1], bhr)  # a seed still fixes the pair


def test_blocks_without_noise_give_the_whole_image_lr():
    lr, _ = simulate_pair("microtubules", size=96, scale=3, seed=1, photons=1e9)
    blr, _ = simulate_pair("microtubules", size=96, scale=3, seed=1, photons=1e9, block=40)  # 39 px blocks
    np.testing.assert_allclose(blr, lr, rtol=2e-3)  # Poisson noise at 1e9 photons: ~3e-5 relative


def test_large_sizes_go_block_by_block(monkeypatch):
    calls = []
    import microsr.data.simulate_blocks as sb

    real = sb.simulate_blocks
    monkeypatch.setattr(sb, "simulate_blocks", lambda *a, **k: calls.append(k["block"]) or real(*a, **k))
    monkeypatch.setattr(simulate, "WHOLE_UP_TO", 32)
    lr, hr = simulate_pair("er", size=64, scale=2, seed=0)
    assert calls == [sb.BLOCK] and hr.shape == (64, 64) and lr.shape == (32, 32)


@pytest.mark.parametrize("q", [0.0, 50.0, 99.9, 100.0])
def test_top_values_percentile_equals_numpy(q):
    rng = np.random.default_rng(0)
    a = np.round(rng.random((211, 190)) * 50)  # many ties
    top = TopValues(a.size, q)
    for y in range(0, 211, 30):
        top.add(a[y : y + 30])
    assert top.percentile() == np.percentile(a, q) and top.max == a.max()


def test_haze_field_regions_and_points_equal_the_whole_field():
    haze = HazeField(np.random.default_rng(2), (300, 257), 38.0)
    whole = haze.whole()  # scipy.ndimage.zoom(order=1), the reference
    assert whole.min() == 0 and whole.max() == pytest.approx(1)
    np.testing.assert_allclose(haze.region((40, 220, 13, 250)), whole[40:220, 13:250], atol=1e-12)
    iy, ix = np.array([0, 299, 150, 7]), np.array([0, 256, 100, 3])
    np.testing.assert_allclose(haze.at(iy, ix), whole[iy, ix], atol=1e-12)


def test_splat_region_equals_the_whole_splat_inside():
    rng = np.random.default_rng(1)
    pts, wts = rng.uniform(-3, 63, (2000, 2)), rng.random(2000)
    whole = splat(pts, wts, (60, 60))
    part = splat_region(pts, wts, (10, 40, 5, 30), (60, 60))
    np.testing.assert_array_equal(part[1:-1, 1:-1], whole[11:39, 6:29])  # one px from its edge: exact


def test_walks_in_pieces_equal_the_walks_at_once(monkeypatch):
    rng_a, rng_b = np.random.default_rng(4), np.random.default_rng(4)
    starts, angles = np.zeros((7, 2)), np.linspace(0, 3, 7)
    once = random_walks(rng_a, starts, angles, 300, 0.01, 40.0)
    monkeypatch.setattr(fields, "WALK_CHUNK", 700)  # 2 curves per piece
    pieces = Walks(rng_b, starts, angles, 300, 0.01, 40.0)
    assert [p.stop - p.start for p, _ in pieces.chunks()] == [2, 2, 2, 2]
    np.testing.assert_allclose(np.concatenate([c for _, c in pieces.chunks()]), once, atol=1e-9)
    assert np.allclose(np.linalg.norm(np.diff(once, axis=1), axis=-1), 0.5)


def test_filtered_region_equals_the_whole_filter():
    img = np.random.default_rng(5).random((80, 70))
    got = fields.filtered_region(
        lambda r: fields.crop(img, (0, 80, 0, 70), r), 2.5, (20, 50, 0, 33), (80, 70)
    )
    np.testing.assert_array_equal(got, ndimage.gaussian_filter(img, 2.5)[20:50, 0:33])
