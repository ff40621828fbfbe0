"""Predicting files, folders and stacks: bit depth, range, axes, pixel size, never overwriting."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from microsr.data.normalize import NormConfig, denormalize, normalize
from microsr.errors import InputError
from microsr.inference.predict import predict_image, predict_path
from microsr.inference.tiling import predict_tiled
from microsr.io import ImageData, read_image, write_image
from microsr.modelcard import load_model_folder, save_model_folder
from microsr.models import create_model

NORM = {"kind": "percentile", "low": 2.0, "high": 99.8}


def _run_folder(path, name="edsr-baseline"):
    torch.manual_seed(0)
    model = create_model(name, tiny=True)
    save_model_folder(path, model, name=name, scale=2, tiny=True, normalization=NORM)
    return path


@pytest.fixture
def run(tmp_path):
    return _run_folder(tmp_path / "run")


def test_uint16_keep_range_stays_uint16_with_pixel_size(tmp_path, run, rng):
    lr = rng.integers(100, 40000, (30, 26), dtype=np.uint16)
    write_image(tmp_path / "in" / "cell.tif", lr, "YX", pixel_size=0.1)
    (f32,) = predict_path(run, tmp_path / "in" / "cell.tif", tmp_path / "f32", progress=False)
    (u16,) = predict_path(run, tmp_path / "in", tmp_path / "u16", keep_range=True, progress=False)
    a, b = read_image(f32), read_image(u16)
    assert a.array.dtype == np.float32 and b.array.dtype == np.uint16
    assert a.array.shape == b.array.shape == (60, 52) and a.axes == b.axes == "YX"
    assert a.pixel_size == pytest.approx(0.05) and b.pixel_size == pytest.approx(0.05)
    # keep-range output = normalised output mapped back with the LR's own percentiles
    _, params = normalize(lr, NormConfig(**NORM))
    expect = np.clip(np.rint(denormalize(a.array, params)), 0, 65535)
    assert np.abs(b.array.astype(np.float64) - expect).max() <= 1
    assert b.metadata["microsr"]["units"] == "input" and b.metadata["microsr"]["source"] == "cell.tif"


def test_stack_is_predicted_slice_by_slice(tmp_path, run, rng):
    stack = rng.random((3, 24, 20), dtype=np.float32) * 1000
    image = ImageData(stack, "ZYX", 0.2, tmp_path / "s.tif")
    model, info = load_model_folder(run, device="cpu")
    out, meta = predict_image(model, info, image, tile=16, overlap=8)
    assert out.shape == (3, 48, 40) and out.dtype == np.float32 and len(meta["norm_params"]) == 3
    x1, _ = normalize(stack[1], NormConfig(**NORM))
    np.testing.assert_allclose(out[1], predict_tiled(model, x1, 2, tile=16, overlap=8), atol=1e-6)
    for axes in ("TYX", "CYX"):
        arr = stack[:1] if axes == "CYX" else stack
        o, _ = predict_image(model, info, ImageData(arr, axes), tile=16, overlap=8)
        assert o.shape == (arr.shape[0], 48, 40)


def test_folder_with_stack_and_rgb(tmp_path, run, rng):
    write_image(tmp_path / "in" / "z.tif", rng.integers(0, 4000, (2, 20, 18), dtype=np.uint16), "ZYX", 0.1)
    write_image(tmp_path / "in" / "rgb.png", rng.integers(0, 255, (20, 22, 3), dtype=np.uint8), "YXC")
    outs = predict_path(
        run, tmp_path / "in", tmp_path / "out", keep_range=True, tile=16, overlap=8, progress=False
    )
    assert [p.name for p in outs] == ["rgb.tif", "z.tif"]
    rgb, z = read_image(outs[0]), read_image(outs[1])
    assert rgb.array.shape == (40, 44, 3) and rgb.array.dtype == np.uint8
    assert z.array.shape == (2, 40, 36) and z.array.dtype == np.uint16 and z.axes == "ZYX"


def test_never_overwrites_inputs_and_writes_nothing_on_error(tmp_path, run, rng):
    write_image(tmp_path / "in" / "a.tif", rng.integers(0, 99, (20, 20), dtype=np.uint16))
    write_image(tmp_path / "in" / "b.png", rng.integers(0, 99, (20, 20), dtype=np.uint8))
    write_image(tmp_path / "in" / "b.tif", rng.integers(0, 99, (20, 20), dtype=np.uint16))
    before = {p.name: p.read_bytes() for p in (tmp_path / "in").iterdir()}
    with pytest.raises(InputError, match="would overwrite an input"):
        predict_path(run, tmp_path / "in", tmp_path / "in", progress=False)
    with pytest.raises(InputError, match="would both be written to b.tif"):
        predict_path(run, tmp_path / "in", tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()
    assert {p.name: p.read_bytes() for p in (tmp_path / "in").iterdir()} == before


def test_bad_inputs_raise_input_error(tmp_path, run):
    with pytest.raises(InputError, match="input not found"):
        predict_path(run, tmp_path / "missing.tif", tmp_path / "out", progress=False)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no images found"):
        predict_path(run, tmp_path / "empty", tmp_path / "out", progress=False)
    (tmp_path / "bad.tif").write_bytes(b"II*\x00garbage")
    with pytest.raises(InputError) as err:
        predict_path(run, tmp_path / "bad.tif", tmp_path / "out", progress=False)
    assert "bad.tif" in str(err.value)
    with pytest.raises(InputError, match="--tile"):
        predict_path(run, tmp_path / "bad.tif", tmp_path / "out", tile=4, progress=False)
    assert not any((tmp_path / "out").glob("*")) if (tmp_path / "out").exists() else True


def test_mask_models_need_masks(tmp_path, rng):
    run = _run_folder(tmp_path / "sft", "sftgan")
    write_image(tmp_path / "in" / "c1.tif", rng.integers(0, 999, (16, 16), dtype=np.uint16))
    with pytest.raises(InputError, match="parsing map"):
        predict_path(run, tmp_path / "in", tmp_path / "out", progress=False)
    labels = rng.integers(0, 3, (32, 32)).astype(np.uint8)
    write_image(tmp_path / "masks" / "c1.png", labels)
    (out,) = predict_path(
        run, tmp_path / "in", tmp_path / "out", masks=tmp_path / "masks", tile=16, overlap=4, progress=False
    )
    assert read_image(out).array.shape == (32, 32)
    plain = _run_folder(tmp_path / "plain")
    with pytest.raises(InputError, match="does not use parsing maps"):
        predict_path(plain, tmp_path / "in", tmp_path / "o2", masks=tmp_path / "masks", progress=False)


def test_multi_output_model_writes_final_only(tmp_path, rng):
    run = _run_folder(tmp_path / "fb", "srfbn")
    write_image(tmp_path / "in" / "x.tif", rng.random((20, 20), dtype=np.float32))
    (out,) = predict_path(run, tmp_path / "in", tmp_path / "out", tta=True, progress=False)
    img = read_image(out)
    assert img.array.shape == (40, 40) and img.metadata["microsr"]["tta"] == "all"


def test_corrupt_file_in_folder_stops_before_anything_is_written(tmp_path, run, rng):
    write_image(tmp_path / "in" / "a_good.tif", rng.integers(0, 99, (20, 20), dtype=np.uint16))
    (tmp_path / "in" / "b_bad.tif").write_bytes(b"II*\x00" + bytes(40))
    with pytest.raises(InputError) as err:
        predict_path(run, tmp_path / "in", tmp_path / "out", progress=False)
    assert "b_bad.tif" in str(err.value) and not (tmp_path / "out").exists()


def test_rgba_and_wrong_channel_count_are_refused(tmp_path, run, rng):
    model, info = load_model_folder(run, device="cpu")
    with pytest.raises(InputError, match="exactly 3 channels"):
        predict_image(model, info, ImageData(rng.random((8, 8, 4), dtype=np.float32), "YXC"))
    info.in_channels = info.out_channels = 2
    with pytest.raises(InputError, match="takes 2 channels"):
        predict_image(model, info, ImageData(rng.random((3, 8, 8), dtype=np.float32), "ZYX"))


def test_png_and_jpeg_inputs_become_tiffs(tmp_path, run, rng):
    from PIL import Image

    src = tmp_path / "in"
    src.mkdir()
    lr = rng.integers(0, 255, (24, 20), dtype=np.uint8)
    Image.fromarray(lr).save(src / "a.png")
    Image.fromarray(lr).save(src / "b.jpg", quality=95)
    written = predict_path(run, src, tmp_path / "f32", progress=False)
    assert sorted(p.name for p in written) == ["a.tif", "b.tif"]
    kept = predict_path(run, src / "a.png", tmp_path / "u8", keep_range=True, progress=False)
    a, b = read_image(written[0]), read_image(kept[0])
    assert a.array.dtype == np.float32 and a.array.shape == (48, 40)
    assert b.array.dtype == np.uint8 and b.array.shape == (48, 40)
    assert b.metadata["microsr"]["source"] == "a.png"
