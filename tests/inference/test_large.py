"""Block-wise prediction of OME-Zarr / TIFF input into an OME-Zarr pyramid on Dask."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
import torch
from torch import nn

pytest.importorskip("ome_zarr")
pytest.importorskip("distributed")

import zarr  # noqa: E402
from ome_zarr.format import FormatV04, FormatV05  # noqa: E402
from ome_zarr.io import parse_url  # noqa: E402
from ome_zarr.reader import Reader  # noqa: E402
from ome_zarr.writer import write_image  # noqa: E402

from microsr.errors import InputError
from microsr.inference import large  # noqa: E402
from microsr.inference.blockwise import axis_chunks, receptive_radius, shift_period  # noqa: E402
from microsr.inference.large import predict_large  # noqa: E402
from microsr.inference.model_io import load_model_folder, save_model_folder  # noqa: E402
from microsr.inference.predict import predict_image  # noqa: E402
from microsr.io import ImageData  # noqa: E402
from microsr.models import create_model  # noqa: E402

KW = dict(tile=256, overlap=32, progress=False)


def write_ome(path, array, axes, version="0.5", chunks=None, pixel=0.1):
    """An OME-Zarr image as another tool would write it (ome-zarr-py), with a pixel size in µm."""
    fmt = FormatV04() if version == "0.4" else FormatV05()
    group = zarr.open_group(str(path), mode="w", zarr_format=2 if version == "0.4" else 3)
    spatial = {a: pixel for a in axes.lower() if a in "yx"}
    write_image(
        array,
        group,
        axes=axes.lower(),
        fmt=fmt,
        scale_factors=(2,),
        storage_options={"chunks": chunks or array.shape},
        scale={a: spatial.get(a, 1.0) for a in axes.lower()},
        axes_units={a: "micrometer" for a in axes.lower() if a in "zyx"},
    )
    return path


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("model") / "run"
    model = create_model("srcnn", tiny=True)
    save_model_folder(folder, model, name="srcnn", scale=2, tiny=True, normalization={"kind": "percentile"})
    return folder


def in_process(run, array, axes, **kw):
    model, info = load_model_folder(run)
    out, _ = predict_image(model, info, ImageData(np.asarray(array), axes), tile=256, overlap=32, **kw)
    return out


@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_ome_zarr_in_out_equals_in_process(run, tmp_path, rng, version):
    img = rng.integers(0, 60000, (2, 90, 100), dtype=np.uint16)
    src = write_ome(tmp_path / "in.ome.zarr", img, "ZYX", version, chunks=(1, 40, 48))
    out = predict_large(run, src, tmp_path / "out.ome.zarr", **KW)
    got = zarr.open_array(str(out / "s0"), mode="r")
    assert got.chunks == (1, 80, 96)  # s times the input chunks
    np.testing.assert_allclose(got[...], in_process(run, img, "ZYX"), rtol=0, atol=1e-6)
    # ome-zarr-py reads it back: same NGFF version, axes, units, geometry, a display window
    loc = parse_url(str(out))
    assert loc.fmt.version == version
    node = next(iter(Reader(loc)()))
    meta = node.metadata
    assert [a["name"] for a in meta["axes"]] == ["z", "y", "x"]
    assert meta["axes"][-1]["unit"] == "micrometer"
    (sc, tr) = meta["coordinateTransformations"][0]
    assert sc["scale"] == pytest.approx([1.0, 0.05, 0.05])
    assert tr["translation"] == pytest.approx([0.0, -0.025, -0.025])  # -(s-1)/(2s) input pixels
    (sc1, tr1) = meta["coordinateTransformations"][1]
    assert sc1["scale"] == pytest.approx([1.0, 0.1, 0.1]) and tr1["translation"][1] == pytest.approx(0.0)
    assert node.data[1].shape == (2, 90, 100)
    attrs = dict(zarr.open_group(str(out), mode="r").attrs)
    ome = attrs.get("ome", attrs)
    window = ome["omero"]["channels"][0]["window"]
    assert window["min"] <= window["start"] < window["end"] <= window["max"]
    models = pytest.importorskip(f"ome_zarr_models.v0{version[-1]}.image")  # the NGFF schema, in pydantic
    assert models.Image.from_zarr(zarr.open_group(str(out), mode="r")).attributes
    prov = attrs["microsr"]
    assert prov["model"] == "srcnn" and len(prov["weights_sha256"]) == 64 and prov["version"]


def test_tiff_input_read_through_zarr_keep_range(run, tmp_path, rng):
    img = rng.integers(0, 4000, (70, 60), dtype=np.uint16)
    src = tmp_path / "big.tif"
    tifffile.imwrite(src, img, tile=(32, 32), resolution=(10.0, 10.0), metadata={"unit": "um"}, imagej=False)
    out = predict_large(run, src, tmp_path / "out.ome.zarr", keep_range=True, **KW)
    got = zarr.open_array(str(out / "s0"), mode="r")[...]
    assert got.dtype == np.uint16
    np.testing.assert_array_equal(got, in_process(run, img, "YX", keep_range=True))


def test_untiled_tiff_input_read_in_memory_mapped_blocks(run, tmp_path, rng, monkeypatch):
    from microsr.io import lazy, lazy_tiff

    monkeypatch.setattr(lazy_tiff, "MAPPED_BLOCK", 32)  # 70 x 60 px in 3 x 2 blocks (not one chunk)
    img = rng.integers(0, 4000, (70, 60), dtype=np.uint16)
    src = tmp_path / "plain.tif"
    tifffile.imwrite(src, img)  # uncompressed, one strip: tifffile's Zarr view has a single chunk
    assert lazy.open_lazy(src).array.chunks == ((32, 32, 6), (32, 28))
    out = predict_large(run, src, tmp_path / "out.ome.zarr", keep_range=True, **KW)
    got = zarr.open_array(str(out / "s0"), mode="r")[...]
    np.testing.assert_array_equal(got, in_process(run, img, "YX", keep_range=True))


def test_two_worker_local_cluster_equals_in_process(run, tmp_path, rng):
    img = rng.integers(0, 60000, (2, 64, 72), dtype=np.uint16)
    src = write_ome(tmp_path / "in.ome.zarr", img, "CYX", chunks=(1, 32, 32))
    out = predict_large(run, src, tmp_path / "out.ome.zarr", workers=2, **KW)
    np.testing.assert_allclose(
        zarr.open_array(str(out / "s0"), mode="r")[...], in_process(run, img, "CYX"), rtol=0, atol=1e-6
    )


def test_resume_computes_only_missing_blocks(run, tmp_path, rng, monkeypatch):
    img = rng.integers(0, 60000, (64, 96), dtype=np.uint16)
    src = write_ome(tmp_path / "in.ome.zarr", img, "YX", chunks=(32, 32))  # 2 x 3 blocks
    whole = predict_large(run, src, tmp_path / "whole.ome.zarr", **KW)
    calls = []
    real = large._store_block

    def flaky(*args):
        if len(calls) == 4:
            raise KeyboardInterrupt
        calls.append(args[2])
        return real(*args)

    monkeypatch.setattr(large, "_store_block", flaky)
    with pytest.raises(KeyboardInterrupt):
        predict_large(run, src, tmp_path / "out.ome.zarr", **KW)
    assert not (tmp_path / "out.ome.zarr").exists() and (tmp_path / ".out.ome.zarr.partial").exists()
    calls.clear()
    monkeypatch.setattr(large, "_store_block", lambda *a: (calls.append(a[2]), real(*a))[1])
    out = predict_large(run, src, tmp_path / "out.ome.zarr", resume=True, **KW)
    assert len(calls) == 2  # the 6 - 4 blocks that were missing
    for level in ("s0", "s1"):
        np.testing.assert_array_equal(
            zarr.open_array(str(out / level), mode="r")[...],
            zarr.open_array(str(whole / level), mode="r")[...],
        )
    assert not (tmp_path / ".out.ome.zarr.partial").exists()
    # an interrupted prediction does not resume with another normalisation (its stored statistics)
    other = save_model_folder(
        tmp_path / "run2", create_model("srcnn", tiny=True), name="srcnn", scale=2, tiny=True,
        normalization={"kind": "percentile"}, data={"lr_intensity": {"vmin": 0.0, "vmax": 60000.0}},
    )  # fmt: skip
    monkeypatch.setattr(large, "_store_block", flaky)
    calls.clear()
    with pytest.raises(KeyboardInterrupt):
        predict_large(other, src, tmp_path / "again.ome.zarr", **KW)
    with pytest.raises(InputError, match="cannot resume: it was started with another"):
        predict_large(other, src, tmp_path / "again.ome.zarr", resume=True, normalization="training", **KW)


def test_axis_chunks_merges_a_last_chunk_smaller_than_the_halo():
    assert axis_chunks(100, 32, 8) == (32, 32, 36)  # 4 < 8 joins the chunk before
    assert axis_chunks(100, 30, 8) == (30, 30, 30, 10)
    assert axis_chunks(20, 32, 8) == (20,)


def test_receptive_radius_of_known_networks():
    conv = nn.Sequential(
        nn.Conv2d(1, 1, 5, padding=2), nn.Conv2d(1, 1, 3, padding=1), nn.Upsample(scale_factor=2)
    )
    assert receptive_radius(conv, 1, 2) == 3  # 2 + 1 pixels

    class Global(nn.Module):  # adds the image mean: every output pixel depends on every input
        def forward(self, x):
            return nn.functional.interpolate(x + x.mean(dim=(2, 3), keepdim=True), scale_factor=2)

    assert receptive_radius(Global(), 1, 2) is None


def test_shift_period_of_pooling_and_plain_networks():
    torch.manual_seed(0)

    def period(name):
        model = create_model(name, tiny=True).eval()
        return shift_period(model, 1, 2, receptive_radius(model, 1, 2))

    assert period("srcnn") == 1
    # two 2x2 poolings on the bicubic (x2) grid: a period of 4 HR px = 2 LR px
    assert period("care-unet-k3") == 2
    # Fourier channel attention: no shift reproduces the output, so there is nothing to align to
    assert period("dfcan") == 1


@pytest.mark.parametrize("name", ["care-unet-k3", "denseed"])
def test_pooling_networks_blockwise_equal_one_whole_image_pass(name, tmp_path, rng):
    # blocks of 100 px and an odd receptive field (13 and 9 px): before the halo and the blocks
    # were put on the pooling grid, blocks differed from the whole image by up to 6 % (care-unet-k3)
    # and 100 % (denseed) of the output range
    torch.manual_seed(0)
    folder = tmp_path / "run"
    save_model_folder(folder, create_model(name, tiny=True), name=name, scale=2, tiny=True)
    img = rng.random((300, 300)).astype(np.float32)
    src = tmp_path / "in.tif"
    tifffile.imwrite(src, img, tile=(64, 64))
    out = predict_large(
        folder, src, tmp_path / "out.ome.zarr", tile=320, overlap=32, block=100, progress=False
    )
    got = zarr.open_array(str(out / "s0"), mode="r")[...]
    model, info = load_model_folder(folder)
    whole, _ = predict_image(model, info, ImageData(img, "YX"), tile=320, overlap=32)  # one tile
    np.testing.assert_allclose(got, whole, atol=1e-4 * np.abs(whole).max())


@pytest.mark.parametrize("q", [(2.0, 99.8), (0.0, 100.0), (13.7, 50.0)])
def test_percentiles_from_histogram_equal_numpy(rng, q):
    from microsr.inference.norm_stats import _from_hist, _hist

    values = rng.integers(0, 3000, 10_001, dtype=np.uint16)  # reference: np.percentile (linear)
    got = _from_hist(_hist(values, 0, 65536), 0, q)
    np.testing.assert_allclose(got, np.percentile(values.astype(np.float64), q), rtol=0, atol=1e-9)


def test_napari_reader_opens_the_output_with_pixel_size(run, tmp_path, rng):
    reader_plugin = pytest.importorskip("napari_ome_zarr")  # napari's OME-Zarr reader, no viewer needed
    img = rng.integers(0, 60000, (48, 40), dtype=np.uint16)
    out = predict_large(
        run, write_ome(tmp_path / "in.ome.zarr", img, "YX", pixel=0.2), tmp_path / "o.ome.zarr", **KW
    )
    layers = reader_plugin.napari_get_reader(str(out))(str(out))
    data, kwargs, kind = layers[0]
    assert kind == "image" and data[0].shape == (96, 80)
    assert kwargs["scale"] == pytest.approx([0.1, 0.1])  # the input's 0.2 µm divided by the scale
    lo, hi = kwargs["contrast_limits"]  # the display window written to omero
    assert lo < hi
