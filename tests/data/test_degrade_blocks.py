"""Block-wise degradation equals the whole-image one; large inputs are written tile by tile."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile

import microsr.data.degrade_blocks as blocks_mod
from microsr.data.degrade import AiryPSF, GaussianPSF, degrade
from microsr.data.degrade_blocks import PlaneDegrader
from microsr.data.degrade_folder import write_degraded
from microsr.errors import InputError
from microsr.io import read_image

pytest.importorskip("zarr")


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of 16 x 32 LR px, so that small images have many (and ragged) blocks."""
    monkeypatch.setattr(blocks_mod, "BAND", 16)
    monkeypatch.setattr(blocks_mod, "COLUMNS", 32)


def _image(shape=(150, 214), seed=0):
    rng = np.random.default_rng(seed)
    return (rng.random(shape) ** 6 * 60000).astype(np.uint16)


def _blockwise(hr, psf, scale, **kw):
    job = PlaneDegrader(lambda p, r: hr[r[0] : r[1], r[2] : r[3]], 1, hr.shape, scale=scale, psf=psf,
                        photons=kw.get("photons"), read_noise=2.0, seeds=[0, 0])  # fmt: skip
    h, w = job.lr_shape()
    out = np.zeros((h + 16, w + 16), np.float32)  # tiles come padded to 16 x 16 at the edges
    tiles = job.lr_tiles(lambda a: a)
    for _, _, (y0, _y1, x0, x1) in blocks_mod.blocks(h, w):
        for x in range(x0, x1, 16):
            t = next(tiles)
            out[y0 : y0 + t.shape[0], x : x + t.shape[1]] = t
    return out[:h, :w]


@pytest.mark.parametrize("scale", [2, 3])
def test_gaussian_blocks_equal_the_whole_image_bit_for_bit(small_blocks, scale):
    hr = _image()[: 150 - 150 % scale, : 214 - 214 % scale]
    psf = GaussianPSF(0.85 * scale)
    np.testing.assert_array_equal(_blockwise(hr, psf, scale), degrade(hr, scale=scale, psf=psf))


def test_airy_blocks_equal_the_whole_image_up_to_rounding(small_blocks):
    hr = _image()
    psf = AiryPSF(1.2, 520.0, 40.0)  # a kernel wider than a block's halo side (r = 24 HR px)
    ref = degrade(hr, scale=2, psf=psf)
    np.testing.assert_allclose(_blockwise(hr, psf, 2), ref, rtol=1e-5, atol=1e-3 * ref.max())


def test_noise_is_drawn_per_block_at_the_whole_plane_peak(small_blocks):
    hr = np.full((128, 128), 1000, np.uint16)
    a = _blockwise(hr, GaussianPSF(1.7), 2, photons=100.0)
    b = _blockwise(hr, GaussianPSF(1.7), 2, photons=100.0)
    np.testing.assert_array_equal(a, b)
    # 100 expected photo-electrons at the peak: relative std sqrt(100 + 2**2) / 100 ~ 0.102
    assert a.mean() == pytest.approx(1000, rel=0.01) and a.std() / a.mean() == pytest.approx(0.102, rel=0.1)
    assert not np.array_equal(a[:16, :32], a[16:32, :32])  # blocks draw their own noise


def test_degrade_command_reads_and_writes_large_inputs_block_by_block(tmp_path, small_blocks, monkeypatch):
    import zarr
    from ome_zarr.writer import write_image

    hr = _image((96, 130), seed=1)
    (tmp_path / "in").mkdir()
    tifffile.imwrite(tmp_path / "in" / "big.tif", hr, resolution=(1e4 / 0.05, 1e4 / 0.05), resolutionunit=3)
    group = zarr.open_group(str(tmp_path / "in" / "store.ome.zarr"), mode="w")
    write_image(hr, group, axes="yx", scale_factors=(), storage_options={"chunks": (32, 32)})
    write_degraded(tmp_path / "in", tmp_path / "whole", scale=2)  # both small: in memory
    monkeypatch.setattr(blocks_mod, "WHOLE_UP_TO", 64 * 64)
    write_degraded(tmp_path / "in", tmp_path / "blocks", scale=2)
    rec = json.loads((tmp_path / "blocks" / "degradation.json").read_text())
    assert [r.get("blockwise") for r in rec["images"]] == [True, True]
    ref = read_image(tmp_path / "whole" / "lr" / "big.tif")
    for name in ("big.tif", "store.ome.tif"):
        lr = read_image(tmp_path / "blocks" / "lr" / name)
        assert lr.array.dtype == np.uint16 and lr.shape == (48, 65)
        np.testing.assert_array_equal(lr.array, ref.array)
        np.testing.assert_array_equal(read_image(tmp_path / "blocks" / "hr" / name).array, hr)
    assert read_image(tmp_path / "blocks" / "lr" / "big.tif").pixel_size == pytest.approx(0.1)
    with tifffile.TiffFile(tmp_path / "blocks" / "lr" / "big.tif") as tif:
        assert tif.pages[0].is_tiled


def test_blockwise_refuses_nan(tmp_path, monkeypatch):
    hr = np.ones((40, 40), np.float32)
    hr[5, 7] = np.nan
    (tmp_path / "in").mkdir()
    tifffile.imwrite(tmp_path / "in" / "a.tif", hr)
    monkeypatch.setattr(blocks_mod, "WHOLE_UP_TO", 16)
    with pytest.raises(InputError, match="NaN"):
        write_degraded(tmp_path / "in", tmp_path / "out", scale=2)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("photons", [None, 50.0])
def test_progress_counts_every_block_it_computes(small_blocks, photons):
    hr = _image((70, 100))
    job = PlaneDegrader(lambda p, r: hr[r[0] : r[1], r[2] : r[3]], 1, hr.shape, scale=2, psf=GaussianPSF(1.7),
                        photons=photons, read_noise=2.0, seeds=[0, 0])  # fmt: skip
    done = []
    job.on_block = lambda: done.append(1)
    tiles = list(job.lr_tiles(lambda a: a))
    assert len(tiles) == 3 * 4  # 35 x 50 LR px in tiles of 16: 3 rows of 4
    assert (
        len(done) == job.block_count() == 3 * 2 * (1 if photons is None else 2)
    )  # 3 bands x 2 blocks of 32 columns
