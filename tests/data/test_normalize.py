import numpy as np
import pytest
from pydantic import ValidationError

from microsr.data.normalize import NormConfig, NormParams, denormalize, normalize, random_percentiles

KINDS = [
    NormConfig(kind="minmax"),
    NormConfig(kind="percentile"),
    NormConfig(kind="fixed", vmin=0, vmax=65535),
    NormConfig(kind="meanstd"),
    NormConfig(kind="none"),
]


@pytest.mark.parametrize("cfg", KINDS, ids=lambda c: c.kind)
def test_inverse_is_exact_for_uint16(cfg, rng):
    x = rng.integers(0, 65536, size=(40, 50)).astype(np.uint16)
    y, p = normalize(x, cfg)
    assert y.dtype == np.float32 and y.shape == x.shape
    back = denormalize(y, p)
    # float32 round trip: relative error of the float32 cast only
    np.testing.assert_allclose(back, x.astype(np.float64), rtol=1e-6, atol=1e-6 * 65535)
    assert np.array_equal(np.rint(back).astype(np.uint16), x)


def test_minmax_and_fixed_ranges(rng):
    x = rng.uniform(100, 900, size=(30, 30)).astype(np.float32)
    y, p = normalize(x, NormConfig(kind="minmax"))
    assert y.min() == 0.0 and y.max() == pytest.approx(1.0)
    assert p.offset == pytest.approx(float(x.min()))
    y, p = normalize(np.array([0, 32767.5, 65535.0]), NormConfig(kind="fixed", vmin=0, vmax=65535))
    np.testing.assert_allclose(y, [0, 0.5, 1])


def test_percentile_matches_numpy_and_clip(rng):
    x = rng.normal(size=(64, 64))
    y, p = normalize(x, NormConfig(kind="percentile", low=2, high=99.8))
    lo, hi = np.percentile(x, [2, 99.8])
    assert p.offset == pytest.approx(lo) and p.scale == pytest.approx(hi - lo)
    assert y.min() < 0 and y.max() > 1
    yc, _ = normalize(x, NormConfig(kind="percentile", clip=True))
    assert yc.min() == 0 and yc.max() == 1


def test_meanstd(rng):
    x = rng.normal(5, 3, size=(100, 100))
    y, _ = normalize(x, NormConfig(kind="meanstd"))
    assert abs(y.mean()) < 1e-5 and y.std() == pytest.approx(1, abs=1e-5)


@pytest.mark.parametrize("kind", ["minmax", "percentile", "meanstd"])
def test_constant_image_no_division_by_zero(kind):
    x = np.full((8, 8), 7, np.uint16)
    y, p = normalize(x, NormConfig(kind=kind))
    assert np.all(y == 0) and p.scale == 1.0 and p.offset == 7
    assert np.all(denormalize(y, p) == 7)


def test_bad_configs_and_nan():
    with pytest.raises(ValidationError):
        NormConfig(kind="fixed")
    with pytest.raises(ValidationError):
        NormConfig(kind="percentile", low=99, high=2)
    with pytest.raises(ValidationError):
        NormConfig(kind="minmax", bogus=1)
    with pytest.raises(ValueError, match="NaN"):
        normalize(np.array([1.0, np.nan]), NormConfig(kind="minmax"))


def test_random_percentiles_ranges():
    rng = np.random.default_rng(0)
    draws = np.array([random_percentiles(rng) for _ in range(200)])
    assert draws[:, 0].min() >= 1 and draws[:, 0].max() <= 3
    assert draws[:, 1].min() >= 99.5 and draws[:, 1].max() <= 99.9
    assert draws[:, 0].std() > 0.3


def test_params_roundtrip_json():
    p = NormParams(offset=3.5, scale=2.0)
    assert NormParams.model_validate_json(p.model_dump_json()) == p
    cfg = NormConfig.model_validate({"kind": "percentile", "low": 2.0, "high": 99.8, "clip": False})
    assert cfg.vmin is None
