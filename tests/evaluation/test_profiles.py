"""Line profiles: coordinates, LR scaling and least-squares scaling to the ground truth."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from microsr.evaluation.profiles import line_profiles, parse_line, plot_profiles


def _ramp(h=64, w=64):
    y, x = np.mgrid[0:h, 0:w].astype(float)
    return 2.0 * x + 0.5 * y


def test_profile_of_linear_ramp_is_exact():
    gt = _ramp()
    dist, profs = line_profiles(gt, {"model": 3 * gt + 10}, (4, 10, 40, 10))
    assert dist[-1] == pytest.approx(36)
    np.testing.assert_allclose(profs[0].values, 2 * np.linspace(4, 40, dist.size) + 5, atol=1e-6)
    m = profs[1]
    assert (m.a, m.b) == (pytest.approx(1 / 3), pytest.approx(-10 / 3))
    assert m.mse < 1e-12


def test_lr_is_sampled_at_the_same_physical_positions():
    # LR = 2x2 block mean: LR pixel i is centred on GT position 2i + 0.5
    rng = np.random.default_rng(0)
    gt = gaussian_filter(rng.random((128, 128)), 2.5)
    lr = gt.reshape(64, 2, 64, 2).mean(axis=(1, 3))
    dist, profs = line_profiles(gt, {}, (10, 20, 110, 90), lr=lr)
    assert profs[1].name.startswith("LR (x2")
    assert np.corrcoef(profs[1].raw, profs[0].raw)[0, 1] > 0.98
    for dx in (-1, 1):  # the same line one GT pixel off matches worse
        off = line_profiles(gt, {}, (10 + dx, 20, 110 + dx, 90), lr=lr)[1][1].raw
        assert np.mean((off - profs[0].raw) ** 2) > 2 * np.mean((profs[1].raw - profs[0].raw) ** 2)


def test_parse_line_and_bad_input():
    assert parse_line("1, 2,3.5,4") == (1.0, 2.0, 3.5, 4.0)
    for bad in ["1,2,3", "a,b,c,d", "1,1,1,1"]:
        with pytest.raises(ValueError):
            parse_line(bad)
    with pytest.raises(ValueError, match="outside"):
        line_profiles(np.zeros((16, 16)), {}, (0, 0, 20, 5))


def test_plot_profiles_draws_every_profile():
    gt = _ramp()
    dist, profs = line_profiles(gt, {"a": gt + 1, "b": gt * 2}, (0, 0, 60, 60), lr=gt[::2, ::2])
    ax = plot_profiles(dist, profs, pixel_size=0.05)
    assert len(ax.lines) == 4
    assert "µm" in ax.get_xlabel()
