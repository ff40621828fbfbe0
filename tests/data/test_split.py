import pytest

from microsr.data.split import split_by_image
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
