"""Training images read on demand give the batches training from memory gives."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import tifffile

from microsr.data.batches import PatchBatcher
from microsr.data.lazy_pairs import open_pairs_lazy, use_lazy
from microsr.data.lazy_planes import TILE, TileCache
from microsr.data.lazy_stats import Distribution
from microsr.data.loading import load_pair_arrays
from microsr.data.normalize import NormConfig, normalize
from microsr.data.pairs import ImagePair, find_pairs
from microsr.data.patches import Foreground
from microsr.errors import InputError

pytest.importorskip("zarr")


def _blobs(rng, shape, dtype):
    """Sparse bright blobs on a dim background: background rejection has something to reject."""
    img = rng.normal(300, 20, shape)
    for _ in range(6):
        y, x = rng.integers(0, shape[0]), rng.integers(0, shape[1])
        yy, xx = np.ogrid[: shape[0], : shape[1]]
        img += 3000 * np.exp(-((yy - y) ** 2 + (xx - x) ** 2) / (2 * 6.0**2))
    return np.clip(img, 0, None).astype(dtype)


def _write_pairs(tmp_path, dtype="uint16", n=2, size=96, tile=None):
    rng = np.random.default_rng(3)
    (tmp_path / "lr").mkdir(parents=True)
    (tmp_path / "hr").mkdir()
    for i in range(n):
        hr = _blobs(rng, (2 * size, 2 * size), dtype)
        lr = hr.reshape(size, 2, size, 2).mean(axis=(1, 3)).astype(dtype)
        kw = {"tile": (tile, tile)} if tile else {}
        tifffile.imwrite(tmp_path / "hr" / f"im{i}.tif", hr, **kw)
        tifffile.imwrite(tmp_path / "lr" / f"im{i}.tif", lr, **kw)
    return find_pairs(tmp_path / "lr", tmp_path / "hr", scale=2)


def _both(pairs, norm, cache_bytes=2**20, jitter=False):
    rng = (lambda: np.random.default_rng([0, 7])) if jitter else (lambda: None)
    memory = load_pair_arrays(pairs, norm, scale=2, percentile_rng=rng())
    lazy = open_pairs_lazy(pairs, norm, TileCache(cache_bytes), scale=2, percentile_rng=rng())
    return memory, lazy


@pytest.mark.parametrize(
    ("dtype", "norm", "jitter"),
    [
        ("uint16", NormConfig(), True),
        ("uint8", NormConfig(kind="minmax", clip=True), False),
        ("float32", NormConfig(), False),
        ("uint16", NormConfig(kind="fixed", vmin=0, vmax=4000), False),
    ],
)
def test_lazy_batches_equal_in_memory_batches(tmp_path, dtype, norm, jitter):
    pairs = _write_pairs(tmp_path, dtype, tile=32 if dtype == "uint16" else None)
    memory, lazy = _both(pairs, norm, cache_bytes=64 * 1024, jitter=jitter)  # a few tiles only
    for a, b in zip(memory, lazy):
        assert a.name == b.name and a.lr_params == b.lr_params and a.hr_params == b.hr_params
        np.testing.assert_array_equal(a.hr, np.asarray(b.hr))
    kw = dict(patch_size=16, scale=2, batch_size=4, seed=5, foreground=Foreground(threshold=0.3))
    mem_b, lazy_b = PatchBatcher(memory, **kw), PatchBatcher(lazy, **kw)
    assert mem_b.levels == lazy_b.levels  # foreground levels from block-wise percentiles, bit for bit
    for step in (0, 1, 7, 123):
        x, y = mem_b.batch(step), lazy_b.batch(step)
        for k in ("lr", "hr"):
            assert x[k].equal(y[k]), (step, k)


def test_cache_stays_within_its_bound_and_is_used(tmp_path):
    pairs = _write_pairs(tmp_path, n=1, size=96, tile=16)
    cache = TileCache(4 * 16 * 16 * 2 * (TILE // 16) ** 2)  # 4 full-size tiles of uint16
    (item,) = open_pairs_lazy(pairs, NormConfig(), cache, scale=2)
    batcher = PatchBatcher([item], patch_size=8, scale=2, batch_size=2, seed=0, foreground=None)
    for step in range(20):
        batcher.batch(step)
    info = cache.info()
    assert info.maxsize == 4 and info.currsize <= 4 and info.hits > 0
    copy = pickle.loads(pickle.dumps(batcher))  # as a spawned worker receives it: no tiles, no open files
    assert copy.items[0].hr.cache.info().currsize == 0 and copy.batch(3)["hr"].equal(batcher.batch(3)["hr"])


def test_region_split_of_a_lazy_plane_reads_only_its_window(tmp_path):
    pairs = _write_pairs(tmp_path, n=1)
    memory, lazy = _both(pairs, NormConfig())
    np.testing.assert_array_equal(memory[0].hr[10:50, 20:21], np.asarray(lazy[0].hr[10:50, 20:21]))
    np.testing.assert_array_equal(memory[0].lr[..., 5:9, :], np.asarray(lazy[0].lr[..., 5:9, :]))
    view = lazy[0].hr[30:, :40]
    assert view.shape == (162, 40)
    np.testing.assert_array_equal(
        np.percentile(memory[0].hr[30:, :40], [1, 99.9]), view.percentiles([1, 99.9])
    )


def test_distribution_matches_numpy_percentiles():
    rng = np.random.default_rng(0)
    for dtype in ("uint8", "uint16", "int16", "float32", "float64"):
        x = (rng.normal(1000, 300, (57, 83))).clip(0, 250 if dtype == "uint8" else None).astype(dtype)
        dist = Distribution(x.dtype, x.shape)
        for y in range(0, 57, 20):
            for xx in range(0, 83, 30):
                dist.add(x[y : y + 20, xx : xx + 30], (y, xx), moments=True)
        qs = [0.0, 2.0, 37.3, 99.8, 100.0]
        np.testing.assert_array_equal(dist.percentiles(qs), np.percentile(x.astype(np.float64), qs))
        assert (dist.lo, dist.hi) == (x.min(), x.max())
        assert dist.mean == pytest.approx(x.astype(np.float64).mean(), rel=1e-12)
        assert np.sqrt(dist.m2 / dist.count) == pytest.approx(x.astype(np.float64).std(), rel=1e-10)


def test_ome_zarr_pairs_train_lazily(tmp_path):
    import zarr
    from ome_zarr.writer import write_image

    rng = np.random.default_rng(1)
    hr = _blobs(rng, (128, 128), "uint16")
    lr = hr.reshape(64, 2, 64, 2).mean(axis=(1, 3)).astype("uint16")
    for name, img in (("lr", lr), ("hr", hr)):
        (tmp_path / name).mkdir()
        group = zarr.open_group(str(tmp_path / name / "cell.ome.zarr"), mode="w")
        write_image(img, group, axes="yx", scale_factors=(), storage_options={"chunks": (32, 32)})
    pairs = find_pairs(tmp_path / "lr", tmp_path / "hr", scale=2, check_shapes=False, stores=True)
    assert [p.name for p in pairs] == ["cell"] and use_lazy("auto", pairs)
    (item,) = open_pairs_lazy(pairs, NormConfig(), TileCache(2**20), scale=2)
    assert item.hr.shape == (128, 128) and item.lr.shape == (64, 64)
    np.testing.assert_array_equal(np.asarray(item.hr), normalize(hr, NormConfig())[0])


def test_lazy_refusals(tmp_path):
    pairs = _write_pairs(tmp_path, "float32", n=1)
    bad = tifffile.imread(pairs[0].hr)
    bad[3, 4] = np.nan
    tifffile.imwrite(pairs[0].hr, bad)
    with pytest.raises(InputError, match="NaN or infinite"):
        open_pairs_lazy(pairs, NormConfig(), TileCache(2**20), scale=2)
    with pytest.raises(InputError, match="HR is"):
        open_pairs_lazy(pairs, NormConfig(), TileCache(2**20), scale=3)
    assert not use_lazy("auto", pairs) and use_lazy("always", pairs) and not use_lazy("never", pairs)
    png = tmp_path / "lr" / "im0.png"
    png.write_bytes(b"")
    with pytest.raises(InputError, match="only TIFF and OME-Zarr are read on demand"):
        open_pairs_lazy([ImagePair("im0", png, pairs[0].hr)], NormConfig(), TileCache(2**20), scale=2)


def test_a_tiff_declaring_more_tiles_than_it_holds_is_refused_before_reading(tmp_path):
    from microsr.data.lazy_planes import open_source
    from tests import hostile_corpus as hc

    bomb = hc.tiff_bomb(tmp_path)  # declares 100000 x 100000 px in 16 tiles
    with pytest.raises(InputError, match="declares .* in 39062500 tiles or strips but the file holds 16"):
        open_source(bomb)


def test_the_cache_bound_follows_the_widest_dtype_registered(tmp_path):
    small = _write_pairs(tmp_path / "a", "uint8", n=1)
    wide = _write_pairs(tmp_path / "b", "float32", n=1)
    cache = TileCache(16 * TILE * TILE)
    open_pairs_lazy(small, NormConfig(), cache, scale=2)
    assert cache.info().maxsize == 16  # 1-byte tiles
    open_pairs_lazy(wide, NormConfig(), cache, scale=2)
    assert cache.info().maxsize == 4  # 4-byte tiles: the same bytes


def test_stacks_and_uncompressed_tiffs_are_read_by_region(tmp_path):
    from microsr.data.lazy_planes import open_source
    from microsr.io.lazy_tiff import MappedPixels

    rng = np.random.default_rng(5)
    for name in ("lr", "hr"):
        (tmp_path / name).mkdir()
    hr = _blobs(rng, (3 * 80, 80), "uint16").reshape(3, 80, 80)
    lr = hr.reshape(3, 40, 2, 40, 2).mean(axis=(2, 4)).astype("uint16")
    tifffile.imwrite(tmp_path / "hr" / "s.tif", hr, imagej=True, metadata={"axes": "ZYX"})
    tifffile.imwrite(tmp_path / "lr" / "s.tif", lr, imagej=True, metadata={"axes": "ZYX"})
    tifffile.imwrite(tmp_path / "zlib.tif", hr[0], compression="zlib")

    def mapped(path):
        return any(isinstance(v, MappedPixels) for v in dict(open_source(path)[1].__dask_graph__()).values())

    assert mapped(tmp_path / "hr" / "s.tif")  # memory-mapped per read
    assert not mapped(tmp_path / "zlib.tif")  # tifffile's Zarr view
    pairs = find_pairs(tmp_path / "lr", tmp_path / "hr", scale=2)
    memory, lazy = _both(pairs, NormConfig())
    assert [it.name for it in memory] == [it.name for it in lazy] == ["s[z=0]", "s[z=1]", "s[z=2]"]
    for a, b in zip(memory, lazy):
        np.testing.assert_array_equal(a.hr, np.asarray(b.hr))
        np.testing.assert_array_equal(a.lr[3:17, 20:], np.asarray(b.lr[3:17, 20:]))
