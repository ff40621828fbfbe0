import numpy as np
import pytest

from microsr.data.split import region_lengths, split_by_image, split_regions
from microsr.errors import InputError


def test_deterministic_disjoint_and_covering():
    items = [f"img{i}" for i in range(20)]
    a = split_by_image(items, val_fraction=0.2, seed=3)
    b = split_by_image(items, val_fraction=0.2, seed=3)
    c = split_by_image(items, val_fraction=0.2, seed=4)
    assert a == b and a != c
    train, val = a
    assert len(val) == 4 and len(train) == 16
    assert sorted(train + val) == sorted(items) and not set(train) & set(val)


@pytest.mark.parametrize("n,frac", [(2, 0.1), (2, 0.9), (3, 0.01), (10, 0.99)])
def test_at_least_one_each_side(n, frac):
    train, val = split_by_image(list(range(n)), val_fraction=frac, seed=0)
    assert len(train) >= 1 and len(val) >= 1


def test_one_image():
    with pytest.raises(InputError, match="at least 2"):
        split_by_image(["a"], val_fraction=0.1, seed=0)
    assert split_by_image(["a"], val_fraction=0.0, seed=0) == (["a"], [])
    with pytest.raises(InputError):
        split_by_image([], val_fraction=0.0, seed=0)
    with pytest.raises(InputError):
        split_by_image(["a", "b"], val_fraction=1.0, seed=0)


def _item(name, h, w, scale=2, mask=False):
    from microsr.data.loading import PairArrays

    lr = np.arange(h * w, dtype=np.float32).reshape(h, w)
    hr = np.kron(lr, np.ones((scale, scale), np.float32))  # HR pixel (y, x) holds LR pixel (y//2, x//2)
    m = np.stack([hr, hr, hr]) if mask else None
    return PairArrays(name=name, lr=lr, hr=hr, mask=m)


def test_region_split_holds_out_a_strip_with_a_margin():
    tr, va = split_regions(
        [_item("a", 40, 100, mask=True)], val_fraction=0.1, margin=7, min_train=16, min_val=5, scale=2
    )
    (t,), (v,) = tr, va
    # longer axis is X: val = ceil(100 * 0.1) = 10 columns at the end, 7 unused, 83 train
    assert t.lr.shape == (40, 83) and v.lr.shape == (40, 10)
    assert t.name == "a[train]" and v.name == "a[val]"
    assert t.lr[0, -1] == 82 and v.lr[0, 0] == 90  # LR columns 83..89 are the margin
    for part in (t, v):  # HR and mask are cut at the same place (x 2)
        assert part.hr.shape == (80, 2 * part.lr.shape[1]) and part.mask.shape == (3, *part.hr.shape)
        assert np.array_equal(part.hr[::2, ::2], part.lr) and np.array_equal(part.mask[1], part.hr)


def test_region_split_mixed_sizes_and_tall_images():
    items = [_item("tall", 100, 40), _item("small", 20, 20)]
    tr, va = split_regions(items, val_fraction=0.2, margin=4, min_train=16, min_val=8, scale=2)
    assert [it.name for it in tr] == ["tall[train]", "small"]  # too small to split: trains whole
    assert [it.name for it in va] == ["tall[val]"]
    assert tr[0].lr.shape == (76, 40) and va[0].lr.shape == (20, 40)  # split along Y


def test_region_split_too_small_names_the_fixes():
    with pytest.raises(InputError, match=r"too small to hold out a validation region.*--val-fraction 0"):
        split_regions([_item("a", 30, 30)], val_fraction=0.1, margin=6, min_train=16, min_val=16, scale=2)
    assert region_lengths(38, val_fraction=0.1, margin=6, min_train=16, min_val=16) == (16, 16)
    assert region_lengths(37, val_fraction=0.1, margin=6, min_train=16, min_val=16) is None
