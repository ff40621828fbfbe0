import numpy as np
import pytest

from microsr.data.loading import image_planes, load_pair_arrays
from microsr.data.normalize import NormConfig, denormalize
from microsr.data.pairs import find_pairs
from microsr.errors import InputError
from microsr.io import ImageData, write_image


def _pair(tmp_path, name, lr, hr, axes="YX"):
    write_image(tmp_path / "lr" / f"{name}.tif", lr, axes=axes, pixel_size=0.0626)
    write_image(tmp_path / "hr" / f"{name}.tif", hr, axes=axes)


def test_load_normalises_independently_and_records_params(tmp_path, rng):
    lr = rng.integers(100, 400, (12, 16)).astype(np.uint16)
    hr = rng.integers(0, 60000, (24, 32)).astype(np.uint16)
    _pair(tmp_path, "a", lr, hr)
    pairs = find_pairs(tmp_path / "lr", tmp_path / "hr", scale=2)
    (it,) = load_pair_arrays(pairs, NormConfig(kind="minmax"), scale=2)
    assert it.lr.dtype == it.hr.dtype == np.float32 and it.lr.shape == (12, 16)
    assert it.lr.min() == 0 and it.lr.max() == 1 and it.hr.min() == 0 and it.hr.max() == 1
    assert np.array_equal(np.rint(denormalize(it.hr, it.hr_params)), hr)
    assert it.lr_params.offset == lr.min() and it.hr_params.offset == hr.min()
    assert it.pixel_size == pytest.approx(0.0626) and it.mask is None


def test_stack_gives_one_item_per_plane_with_shared_params(tmp_path, rng):
    lr = rng.random((3, 8, 8)).astype(np.float32)
    hr = rng.random((3, 16, 16)).astype(np.float32) * 5
    _pair(tmp_path, "s", lr, hr, axes="ZYX")
    items = load_pair_arrays(find_pairs(tmp_path / "lr", tmp_path / "hr", scale=2), NormConfig(kind="minmax"))
    assert [i.name for i in items] == ["s[z=0]", "s[z=1]", "s[z=2]"]
    assert items[0].hr_params == items[2].hr_params
    assert np.allclose(denormalize(items[1].lr, items[1].lr_params), lr[1], atol=1e-6)


def test_random_percentiles_per_file(tmp_path, rng):
    lr = rng.random((8, 8))
    _pair(tmp_path, "a", lr, rng.random((16, 16)))
    pairs = find_pairs(tmp_path / "lr", tmp_path / "hr", scale=2)
    cfg = NormConfig(kind="percentile")
    fixed = load_pair_arrays(pairs, cfg)[0]
    assert fixed.lr_params.offset == pytest.approx(np.percentile(lr.astype(np.float32), 2))
    draw = np.random.default_rng(0)
    low, high = draw.uniform(1, 3), draw.uniform(99.5, 99.9)  # what random_percentiles draws first
    drawn = load_pair_arrays(pairs, cfg, percentile_rng=np.random.default_rng(0))[0]
    lo, hi = np.percentile(lr.astype(np.float32), [low, high])
    assert drawn.lr_params.offset == pytest.approx(lo) and drawn.lr_params.scale == pytest.approx(hi - lo)


def test_rgb_refused_or_luminance():
    rgb = np.zeros((6, 6, 3), np.uint8)
    rgb[..., 1] = 255
    img = ImageData(rgb, "YXC", path=None)
    with pytest.raises(InputError, match="YCbCr"):
        image_planes(img)
    planes, labels = image_planes(img, rgb="luminance")
    assert planes.shape == (1, 6, 6) and labels == [""]
    assert planes[0, 0, 0] == pytest.approx((16 + 128.553) / 255)
    with pytest.raises(InputError, match="2 channels"):
        image_planes(ImageData(np.zeros((2, 6, 6)), "CYX"))
    planes, labels = image_planes(ImageData(np.zeros((2, 1, 4, 5)), "TCYX"))
    assert planes.shape == (2, 4, 5) and labels == ["t=0", "t=1"]
