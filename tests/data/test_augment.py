import numpy as np
import pytest
import torch

from microsr.data.augment import dihedral, inverse_dihedral


def test_inverse_and_distinct_numpy(rng):
    x = rng.random((3, 6, 6))
    outs = []
    for k in range(8):
        y = dihedral(x, k)
        assert np.array_equal(inverse_dihedral(y, k), x)
        outs.append(y)
    for i in range(8):
        for j in range(i + 1, 8):
            assert not np.array_equal(outs[i], outs[j]), (i, j)
    assert np.array_equal(outs[0], x)


def test_non_square_and_torch_match_numpy(rng):
    x = rng.random((2, 1, 4, 7)).astype(np.float32)
    t = torch.from_numpy(x)
    for k in range(8):
        y = dihedral(x, k)
        assert y.shape[-2:] == ((4, 7) if k % 2 == 0 else (7, 4))
        assert np.array_equal(dihedral(t, k).numpy(), y)
        assert torch.equal(inverse_dihedral(dihedral(t, k), k), t)


def test_same_transform_keeps_lr_hr_aligned(rng):
    lr = rng.random((5, 5))
    hr = np.kron(lr, np.ones((2, 2)))  # nearest-neighbour x2 of the LR
    mask = np.stack([hr > 0.5, hr <= 0.5, np.zeros_like(hr, bool)])
    for k in range(8):
        a, b, m = (dihedral(x, k) for x in (lr, hr, mask))
        assert np.array_equal(np.kron(a, np.ones((2, 2))), b)
        assert np.array_equal(m[0], b > 0.5)


def test_bad_index():
    with pytest.raises(ValueError):
        dihedral(np.zeros((2, 2)), 8)
