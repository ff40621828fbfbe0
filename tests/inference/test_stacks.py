"""Stacks are predicted plane by plane straight into their TIFF: same file, bounded memory."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import tifffile
import torch

from microsr.data.normalize import NormConfig, normalize
from microsr.inference import stacks
from microsr.inference.predict import predict_image, predict_path
from microsr.inference.stacks import predict_stack_file
from microsr.inference.tiling import predict_tiled
from microsr.io import ImageData, read_image, to_output_dtype, write_image
from microsr.modelcard import load_model_folder, save_model_folder
from microsr.models import create_model

NORM = {"kind": "percentile", "low": 2.0, "high": 99.8}
KW = dict(tile=16, overlap=8)


def _run_folder(path, name="srcnn", channels=1):
    torch.manual_seed(0)
    model = create_model(name, in_channels=channels, out_channels=channels, tiny=True)
    save_model_folder(
        path,
        model,
        name=name,
        scale=2,
        in_channels=channels,
        out_channels=channels,
        tiny=True,
        normalization=NORM,
    )
    return path


@pytest.fixture
def run(tmp_path):
    return _run_folder(tmp_path / "run")


def _description(path):
    with tifffile.TiffFile(path) as tif:
        return tif.pages[0].description


def _whole_array_file(run, src, dst, keep_range):
    """What predict_path wrote before stacks were streamed: predict_image, then write_image."""
    model, info = load_model_folder(run, device="cpu")
    image = read_image(src)
    out, meta = predict_image(model, info, image, keep_range=keep_range, **KW)
    meta["source"] = src.name
    return write_image(dst, out, image.axes, image.pixel_size / 2, metadata=meta)


@pytest.mark.parametrize(
    "axes, shape, dtype, keep_range",
    [
        ("ZYX", (3, 20, 18), np.float32, False),
        ("TZYX", (2, 3, 20, 18), np.uint16, True),
    ],
)
def test_streamed_stack_equals_whole_array_output(tmp_path, run, rng, axes, shape, dtype, keep_range):
    lr = (rng.random(shape) * 3000 + 100).astype(dtype)
    src = write_image(tmp_path / "in" / "s.tif", lr, axes, pixel_size=0.1)
    (out,) = predict_path(run, src, tmp_path / "out", keep_range=keep_range, progress=False, **KW)
    got = read_image(out)
    assert got.axes == axes and got.array.dtype == dtype and got.pixel_size == pytest.approx(0.05)
    model, _ = load_model_folder(run, device="cpu")
    planes = lr.reshape(-1, *shape[-2:])
    expect = []
    for plane in planes:  # the expected planes, from predict_tiled directly
        x, params = normalize(plane, NormConfig(**NORM))
        y = predict_tiled(model, x, 2, **KW)
        expect.append(to_output_dtype(y, dtype, params) if keep_range else y)
    np.testing.assert_array_equal(got.array, np.stack(expect).reshape(got.array.shape))
    # the reader sees the same file as the whole-array path wrote: metadata, ImageJ description
    old = _whole_array_file(run, src, tmp_path / "old" / "s.tif", keep_range)
    ref = read_image(old)
    np.testing.assert_array_equal(got.array, ref.array)
    assert got.metadata == ref.metadata and len(got.metadata["microsr"]["norm_params"]) == len(planes)
    assert got.metadata["microsr"]["source"] == "s.tif"
    assert _description(out) == _description(old)
    with tifffile.TiffFile(out) as tif:  # kept in place, as files over 4 GB need
        assert tif.pages[0].tags["ImageDescription"].valueoffset < tif.pages[0].dataoffsets[0]


def test_axes_out_of_imagej_order_keep_plane_order_of_metadata(tmp_path, run, rng):
    image = ImageData(rng.random((2, 3, 20, 18), dtype=np.float32), "CZYX", 0.1, tmp_path / "c.tif")
    model, info = load_model_folder(run, device="cpu")
    out, meta = predict_image(model, info, image, **KW)
    path = predict_stack_file(model, info, image, tmp_path / "o.tif", pixel_size=0.05, **KW)
    got = read_image(path)
    assert got.axes == "ZCYX"  # written in ImageJ order, as write_image does
    np.testing.assert_array_equal(got.array, np.transpose(out, (1, 0, 2, 3)))
    assert got.metadata["microsr"]["norm_params"] == meta["norm_params"]  # input (C, Z) order


def test_multichannel_model_takes_c_whole(tmp_path, rng):
    run = _run_folder(tmp_path / "run2", channels=2)
    lr = rng.integers(0, 999, (3, 2, 20, 18), dtype=np.uint16)
    src = write_image(tmp_path / "in" / "m.tif", lr, "ZCYX", 0.1)
    (path,) = predict_path(run, src, tmp_path / "out", keep_range=True, progress=False, **KW)
    model, info = load_model_folder(run, device="cpu")
    out, meta = predict_image(model, info, read_image(src), keep_range=True, **KW)
    got = read_image(path)
    assert got.axes == "ZCYX" and got.array.dtype == np.uint16 and len(meta["norm_params"]) == 3
    np.testing.assert_array_equal(got.array, out)


def test_error_on_a_plane_leaves_no_file(tmp_path, run, rng, monkeypatch):
    src = write_image(tmp_path / "in" / "s.tif", rng.integers(0, 999, (5, 20, 18), dtype=np.uint16), "ZYX")
    calls = []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("boom on plane 3")
        return predict_tiled(*args, **kwargs)

    monkeypatch.setattr(stacks, "predict_tiled", failing)
    with pytest.raises(RuntimeError, match="boom on plane 3"):
        predict_path(run, src, tmp_path / "out", progress=False, **KW)
    assert len(calls) == 3
    assert list((tmp_path / "out").iterdir()) == []  # neither s.tif nor its hidden temporary file


def test_peak_memory_does_not_grow_with_the_number_of_planes(tmp_path, run, rng):
    h = w = 128  # LR plane; the x2 float32 output plane is 256 KiB, the uint16 input plane 32 KiB
    out_plane, in_plane = 4 * (2 * h) * (2 * w), 2 * h * w
    for n in (2, 8):
        write_image(tmp_path / f"in{n}" / "s.tif", rng.integers(0, 4000, (n, h, w), dtype=np.uint16), "ZYX")
    predict_path(run, tmp_path / "in2", tmp_path / "warm", progress=False)  # lazy imports, caches
    peaks = {}
    for n in (2, 8):
        tracemalloc.start()  # numpy reports its buffers to tracemalloc (torch's CPU tensors do not)
        try:
            predict_path(run, tmp_path / f"in{n}", tmp_path / f"out{n}", progress=False)
            peaks[n] = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert read_image(tmp_path / "out8" / "s.tif").array.shape == (8, 2 * h, 2 * w)
    assert peaks[2] > 2 * out_plane  # the planes' numpy buffers are seen, so the test means something
    # Streaming: peak(n) = per-plane working set (output, tile weights, normalised plane...) + the
    # n input planes, so 6 more planes add 6 * 32 KiB (measured 1.57 -> 1.77 MB). Holding the
    # output stack adds 6 * 256 KiB more (whole-array path measured 2.08 -> 3.85 MB, x1.85).
    # Allow less than one extra output plane of growth.
    assert peaks[8] - peaks[2] < 6 * in_plane + out_plane, peaks
    assert peaks[8] < 1.5 * peaks[2], peaks  # far below the 4x of an output that scales with n
