"""Tiled prediction: equality with whole-image runs, edge tiles, OOM fallback, TTA, batching."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from microsr.inference.tile_grid import choose_tile, edge_weight, fft_friendly, tile_starts
from microsr.inference.tiling import is_oom, predict_tiled
from microsr.models import SROutput, create_model


class TinyConv(nn.Module):
    """Two 3x3 convs + PixelShuffle x2: receptive-field radius 2 LR px."""

    def __init__(self, out_channels: int = 1):
        super().__init__()
        self.a = nn.Conv2d(1, 8, 3, padding=1)
        self.b = nn.Conv2d(8, 4 * out_channels, 3, padding=1)
        self.ps = nn.PixelShuffle(2)

    def forward(self, x):
        return self.ps(self.b(torch.relu(self.a(x))))


def _whole(model, img: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        y = model(torch.from_numpy(img)[None, None])
    y = y.final if isinstance(y, SROutput) else y
    return y[0].numpy().squeeze(0)


@pytest.mark.parametrize("shape,tile,overlap", [((70, 53), 32, 8), ((40, 100), 16, 8), ((20, 12), 64, 16)])
def test_tiled_equals_whole_image_for_small_receptive_field(rng, shape, tile, overlap):
    torch.manual_seed(0)
    model = TinyConv().eval()
    img = rng.random(shape, dtype=np.float32)
    out = predict_tiled(model, img, 2, tile=tile, overlap=overlap, channels_last=False)
    assert out.shape == (2 * shape[0], 2 * shape[1]) and out.dtype == np.float32
    # radius 2 <= overlap // 4: equal everywhere (image borders are padded the same way)
    np.testing.assert_allclose(out, _whole(model, img), atol=1e-5)


@pytest.mark.parametrize("name", ["srcnn", "edsr-baseline"])
def test_registered_models_tiled_equal_whole_on_interior(rng, name):
    torch.manual_seed(1)
    model = create_model(name, tiny=True).eval()
    img = rng.random((100, 90), dtype=np.float32)
    full = _whole(model, img)
    out = predict_tiled(model, img, 2, tile=48, overlap=32, channels_last=False)
    b = 16  # HR px away from the image border
    assert np.abs(out - full)[b:-b, b:-b].max() < 1e-5


def test_channels_last_gives_same_result(rng):
    torch.manual_seed(2)
    model = create_model("edsr-baseline", tiny=True).eval()
    img = rng.random((40, 40), dtype=np.float32)
    a = predict_tiled(model, img, 2, tile=32, overlap=16, channels_last=False)
    b = predict_tiled(model, img, 2, tile=32, overlap=16, channels_last=True)
    np.testing.assert_allclose(a, b, atol=1e-5)


def test_tile_starts_cover_and_shift_last_tile_inward():
    for length, tile, ov in [(100, 32, 8), (33, 32, 8), (32, 32, 8), (10, 32, 8), (1000, 256, 32)]:
        starts = tile_starts(length, tile, ov)
        size = min(tile, length)
        assert starts[0] == 0 and starts[-1] + size == length
        assert all(0 < b - a <= tile - ov for a, b in zip(starts, starts[1:]))
        assert all(s >= 0 for s in starts)


def test_blend_weights_positive_where_needed():
    w = edge_weight(32, True, True, 16)
    assert w[:4].max() == 0 and w[-4:].max() == 0  # dead margin overlap // 4
    assert w[16] == 1 and (np.diff(w[:16]) >= 0).all()
    # summed weights of a row of tiles never vanish
    for length in (100, 77, 250):
        total = np.zeros(length)
        starts = tile_starts(length, 32, 16)
        for i, s in enumerate(starts):
            total[s : s + 32] += edge_weight(32, i > 0, i < len(starts) - 1, 16)
        assert total.min() > 0.1


def test_tile_sizes_are_fft_friendly():
    def largest_prime(n):
        p, big = 2, 1
        while n > 1:
            while n % p == 0:
                n //= p
                big = p
            p += 1
        return big

    assert fft_friendly(251) == 250 and fft_friendly(7) == 6
    for req in (16, 17, 100, 250, 251, 502, 777, 1000):
        t = choose_tile(req)
        assert 16 <= t <= max(req, 16) and t % 16 == 0 and largest_prime(t) <= 5
    assert choose_tile(502) == 480 and choose_tile(3) == 16


class OOMAbove(nn.Module):
    """Nearest x2 upsampling that raises an out-of-memory error for inputs larger than ``limit``."""

    def __init__(self, limit: int, exc: type[BaseException] = RuntimeError):
        super().__init__()
        self.limit, self.exc, self.sizes = limit, exc, []

    def forward(self, x):
        self.sizes.append(tuple(x.shape))
        if x.shape[-1] > self.limit or x.shape[-2] > self.limit:
            if self.exc is MemoryError:
                raise MemoryError
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return F.interpolate(x, scale_factor=2, mode="nearest")


@pytest.mark.parametrize("exc", [RuntimeError, MemoryError])
def test_oom_halves_the_tile_and_retries(rng, caplog, exc):
    model = OOMAbove(40, exc)
    img = rng.random((100, 100), dtype=np.float32)
    with caplog.at_level(logging.WARNING, logger="microsr.inference"):
        out = predict_tiled(model, img, 2, tile=128, overlap=8)
    np.testing.assert_allclose(out, np.kron(img, np.ones((2, 2))), atol=1e-6)
    assert "retrying with 32 px tiles" in caplog.text
    assert max(s[-1] for s in model.sizes[-5:]) <= 40


def test_oom_below_minimum_tile_is_raised(rng):
    with pytest.raises(RuntimeError, match="out of memory"):
        predict_tiled(OOMAbove(8), rng.random((50, 50), dtype=np.float32), 2, tile=64)


def test_other_errors_are_not_retried(rng):
    class Broken(nn.Module):
        calls = 0

        def forward(self, x):
            Broken.calls += 1
            raise RuntimeError("mat1 and mat2 shapes cannot be multiplied")

    with pytest.raises(RuntimeError, match="shapes"):
        predict_tiled(Broken(), rng.random((50, 50), dtype=np.float32), 2, tile=32)
    assert Broken.calls == 1
    assert is_oom(MemoryError()) and not is_oom(ValueError("out of memory"))


class SymmetricUp(nn.Module):
    """Rotation/mirror-equivariant by construction: nearest x2 then a D4-symmetric 3x3 kernel."""

    def __init__(self):
        super().__init__()
        a, b, c = 0.05, 0.1, 0.4
        self.register_buffer("k", torch.tensor([[a, b, a], [b, c, b], [a, b, a]])[None, None])

    def forward(self, x):
        return F.conv2d(F.interpolate(x, scale_factor=2, mode="nearest"), self.k, padding=1)


def test_tta_on_equivariant_model_equals_plain(rng):
    img = rng.random((40, 56), dtype=np.float32)
    plain = predict_tiled(SymmetricUp(), img, 2, tile=32, overlap=8)
    tta = predict_tiled(SymmetricUp(), img, 2, tile=32, overlap=8, tta=True)
    np.testing.assert_allclose(tta, plain, atol=1e-6)


def test_tta_on_generic_model_differs_with_right_shape(rng):
    torch.manual_seed(3)
    model = TinyConv().eval()
    img = rng.random((30, 44), dtype=np.float32)
    plain = predict_tiled(model, img, 2, tile=32, overlap=8)
    tta = predict_tiled(model, img, 2, tile=32, overlap=8, tta=True)
    assert tta.shape == plain.shape == (60, 88)
    assert np.abs(tta - plain).max() > 1e-3


def test_tiles_are_processed_in_small_batches(rng):
    model = OOMAbove(10_000)
    calls = []
    out = predict_tiled(
        model,
        rng.random((100, 100), dtype=np.float32),
        2,
        tile=32,
        overlap=8,
        batch_size=2,
        on_tile=lambda done, total: calls.append((done, total)),
    )
    assert out.shape == (200, 200)
    assert max(s[0] for s in model.sizes) <= 2 and all(s[-2:] == (32, 32) for s in model.sizes)
    n_tiles = len(tile_starts(100, 32, 8)) ** 2
    assert calls[-1] == (n_tiles, n_tiles) and len(calls) == (n_tiles + 1) // 2


def test_multi_output_uses_final_and_channel_input(rng):
    class Multi(nn.Module):
        def forward(self, x):
            up = F.interpolate(x, scale_factor=2, mode="nearest")
            return SROutput(final=up * 2, aux={"other": up})

    img = rng.random((2, 20, 20), dtype=np.float32)
    out = predict_tiled(Multi(), img, 2, tile=16, overlap=4)
    assert out.shape == (2, 40, 40)
    np.testing.assert_allclose(out[1], 2 * np.kron(img[1], np.ones((2, 2))), atol=1e-6)


def test_conditioning_map_is_cropped_with_each_tile(rng):
    class Masked(nn.Module):
        def forward(self, x, mask):
            return F.interpolate(x, scale_factor=2, mode="nearest") * mask[:, :1]

    img = rng.random((50, 40), dtype=np.float32)
    mask = rng.random((3, 100, 80), dtype=np.float32)
    out = predict_tiled(Masked(), img, 2, tile=16, overlap=8, cond=mask, tta=True)
    np.testing.assert_allclose(out, np.kron(img, np.ones((2, 2))) * mask[0], atol=1e-6)


def test_wrong_output_size_is_reported(rng):
    class Same(nn.Module):
        def forward(self, x):
            return x

    with pytest.raises(ValueError, match="expected scale 2"):
        predict_tiled(Same(), rng.random((20, 20), dtype=np.float32), 2, tile=16)


def test_output_that_does_not_fit_is_not_retried(rng, monkeypatch):
    import microsr.inference.tiling as tiling

    real_empty = np.empty

    def fake_empty(shape, dtype=None):
        if tuple(shape) == (1, 64, 64):
            raise MemoryError
        return real_empty(shape, dtype=dtype)

    monkeypatch.setattr(tiling.np, "empty", fake_empty)
    model = OOMAbove(10_000)
    with pytest.raises(tiling.OutputMemoryError, match="smaller tiles cannot help"):
        predict_tiled(model, rng.random((32, 32), dtype=np.float32), 2, tile=16, overlap=4)
    assert len(model.sizes) == 1  # no retry
