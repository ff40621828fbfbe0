import numpy as np
import pytest

from microsr.data.simulate import HR_LEVEL, SimConfig, simulate_pair
from microsr.data.structures import STRUCTURES, random_walks, render_ground_truth, splat


@pytest.mark.parametrize("structure", STRUCTURES)
def test_pair_shapes_units_determinism(structure):
    lr, hr = simulate_pair(structure, size=96, scale=3, seed=5)
    assert hr.shape == (96, 96) and lr.shape == (32, 32)
    assert hr.dtype == lr.dtype == np.float32
    p999, top = np.percentile(hr, 99.9), hr.max()
    assert p999 <= HR_LEVEL * 1.0001 and top <= 3 * HR_LEVEL * 1.0001
    assert p999 == pytest.approx(HR_LEVEL, rel=1e-4) or top == pytest.approx(3 * HR_LEVEL, rel=1e-4)
    lr2, hr2 = simulate_pair(structure, size=96, scale=3, seed=5)
    assert np.array_equal(lr, lr2) and np.array_equal(hr, hr2)
    lr3, hr3 = simulate_pair(structure, size=96, scale=3, seed=6)
    assert not np.array_equal(hr, hr3)
    # LR is camera counts: baseline 100 + Poisson at a peak of ~200 e-
    assert 60 < np.median(lr) < 250 and lr.max() < 100 + 200 * 1.5


def test_lr_is_blurrier_and_noisier_than_hr():
    lr, hr, gt = simulate_pair("microtubules", size=128, scale=2, seed=1, photons=1e6, return_gt=True)

    # relative high-frequency energy: GT > HR (SIM PSF) > LR (widefield PSF)
    def hf(x):
        f = np.abs(np.fft.fft2(x - x.mean())) ** 2
        n = x.shape[0]
        k = np.hypot(*np.meshgrid(np.fft.fftfreq(n), np.fft.fftfreq(n)))
        return f[k > 0.15].sum() / f.sum()

    hr_small = hr.reshape(64, 2, 64, 2).mean(axis=(1, 3))
    assert hf(gt) > hf(hr) and hf(hr_small) > hf(lr)
    # with very many photons the LR is close to the noise-free widefield image: correlation with HR
    assert np.corrcoef(hr_small.ravel(), lr.ravel())[0, 1] > 0.8
    noisy, _ = simulate_pair("microtubules", size=128, scale=2, seed=1, photons=20)
    assert (
        np.corrcoef(hr_small.ravel(), noisy.ravel())[0, 1] < np.corrcoef(hr_small.ravel(), lr.ravel())[0, 1]
    )


def test_bad_arguments():
    with pytest.raises(ValueError, match="divisible"):
        simulate_pair("er", size=100, scale=3)
    with pytest.raises(ValueError, match="unknown structure"):
        simulate_pair("mitochondria", size=64)
    with pytest.raises(ValueError):
        render_ground_truth("nope", (10, 10), 15.0, np.random.default_rng(0))


def test_splat_conserves_mass_and_is_bilinear():
    img = splat(np.array([[2.25, 3.5], [-5, 1]]), np.array([4.0, 9.0]), (6, 6))
    assert img.sum() == pytest.approx(4.0)  # outside point dropped
    assert img[2, 3] == pytest.approx(4 * 0.75 * 0.5) and img[3, 4] == pytest.approx(4 * 0.25 * 0.5)


def test_random_walk_step_and_straightness():
    rng = np.random.default_rng(0)
    c = random_walks(rng, np.zeros((3, 2)), np.zeros(3), 400, 0.0, 50.0)
    assert np.allclose(np.diff(c, axis=1), [0.0, 0.5])  # zero curvature: straight along x
    c = random_walks(rng, np.zeros((3, 2)), np.zeros(3), 400, 0.01, 50.0)
    assert np.allclose(np.linalg.norm(np.diff(c, axis=1), axis=-1), 0.5)


def test_config_changes_optics():
    cfg = SimConfig(sim_fwhm_nm=60.0)
    _, sharp = simulate_pair("ccps", size=64, scale=2, seed=2, config=cfg)
    _, soft = simulate_pair("ccps", size=64, scale=2, seed=2)
    assert sharp.max() > soft.max()  # narrower PSF, same 99.9th-percentile scaling, brighter peaks


@pytest.mark.parametrize("structure", STRUCTURES)
def test_tiny_images_do_not_fail(structure):
    # small fields hold few structures (e.g. few Voronoi seeds for the ER): still valid pairs
    for seed in range(4):
        lr, hr = simulate_pair(structure, size=16, scale=4, seed=seed)
        assert lr.shape == (4, 4) and np.isfinite(hr).all() and hr.max() <= 3 * HR_LEVEL * 1.0001
