"""Lossless write -> read round trips for every format and bit depth, on real images."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile
from PIL import Image

from microsr.io import read_image, write_image
from tests.real_images import CELEGANS_PIXEL_SIZE_UM, load_real

PIXEL_SIZE = 0.0325  # um; 1/0.0325 is not a short rational, so the TIFF tag alone rounds it


def _real(dtype: str) -> np.ndarray:
    if dtype == "uint8":
        return load_real("nuclei2d_u8")
    if dtype == "uint16":
        return load_real("nuclei2d") * np.uint16(400)  # real structure, values up to 51200
    return load_real("celegans")


def _stack(img: np.ndarray, axes: str) -> np.ndarray:
    """Build an N-D stack of real 64x64 tiles with shape given by the leading axes."""
    sizes = {"T": 2, "Z": 3, "C": 2}
    lead = [sizes[a] for a in axes[:-2]]
    n = int(np.prod(lead)) if lead else 1
    tiles = [img[(i % 4) * 64 : (i % 4) * 64 + 64, (i // 4) * 64 : (i // 4) * 64 + 64] for i in range(n)]
    return np.stack(tiles).reshape(*lead, 64, 64) if lead else tiles[0]


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "float32"])
@pytest.mark.parametrize("axes", ["YX", "ZYX", "TYX", "CYX", "TZYX", "ZCYX", "TZCYX"])
def test_tiff_roundtrip_lossless_with_pixel_size(tmp_path, dtype, axes):
    data = _stack(_real(dtype), axes)
    path = write_image(tmp_path / "out.tif", data, axes, PIXEL_SIZE)
    back = read_image(path)
    assert back.array.dtype == np.dtype(dtype)
    assert back.axes == axes
    np.testing.assert_array_equal(back.array, data)
    assert back.pixel_size == PIXEL_SIZE  # exact value from the microsr entry
    # The file itself is a valid ImageJ hyperstack with the resolution tag in micrometres.
    with tifffile.TiffFile(path) as tif:
        assert tif.is_imagej
        assert tif.series[0].axes == axes
        assert tif.imagej_metadata["unit"] == "um"
        num, den = tif.pages[0].tags["XResolution"].value
        assert den / num == pytest.approx(PIXEL_SIZE, rel=1e-6)


def test_pixel_size_from_imagej_tag_alone(tmp_path):
    # celegans_airyscan.tif was written by tifffile (not microsr): unit=micron, 23.466652 px/um.
    img = read_image("tests/data/real/celegans_airyscan.tif")
    assert img.pixel_size == pytest.approx(CELEGANS_PIXEL_SIZE_UM, rel=1e-9)
    assert img.axes == "YX" and img.array.dtype == np.float32
    np.testing.assert_array_equal(img.array, load_real("celegans"))
    # nanometre unit in the ImageJ description
    p = tmp_path / "nm.tif"
    tifffile.imwrite(
        p,
        load_real("nuclei2d"),
        imagej=True,
        resolution=(1 / 65.0, 1 / 65.0),
        metadata={"unit": "nm", "axes": "YX"},
    )
    assert read_image(p).pixel_size == pytest.approx(0.065, rel=1e-6)


def test_ome_tiff_axes_and_physical_size(tmp_path):
    data = _stack(load_real("nuclei2d"), "CYX")
    p = tmp_path / "x.ome.tif"
    tifffile.imwrite(
        p, data, ome=True, metadata={"axes": "CYX", "PhysicalSizeX": 108.0, "PhysicalSizeXUnit": "nm"}
    )
    img = read_image(p)
    assert img.axes == "CYX" and img.metadata.get("ome")
    assert img.pixel_size == pytest.approx(0.108)
    np.testing.assert_array_equal(img.array, data)


def test_plain_3d_tiff_is_zyx_and_real_stack_matches():
    img = read_image("tests/data/real/neuron3d.tif")
    assert img.axes == "ZYX" and img.pixel_size is None
    np.testing.assert_array_equal(img.array, load_real("neuron3d"))


def test_rgb_tiff_and_axis_reordering(tmp_path):
    rgb = load_real("histo_rgb")
    back = read_image(write_image(tmp_path / "rgb.tif", rgb, "YXC"))
    assert back.axes == "YXC"
    np.testing.assert_array_equal(back.array, rgb)
    # float "YXC" is not RGB: stored channel-first as ImageJ expects
    f = rgb.astype(np.float32)[..., :2]
    back = read_image(write_image(tmp_path / "f.tif", f, "YXC"))
    assert back.axes == "CYX"
    np.testing.assert_array_equal(back.array, np.moveaxis(f, -1, 0))
    # non-canonical order ZTYX is written in ImageJ order TZYX
    zt = _stack(load_real("nuclei2d"), "TZYX").transpose(1, 0, 2, 3)
    back = read_image(write_image(tmp_path / "zt.tif", zt, "ZTYX"))
    assert back.axes == "TZYX"
    np.testing.assert_array_equal(back.array, zt.transpose(1, 0, 2, 3))


def test_intensity_mapping_metadata_roundtrip(tmp_path):
    mapping = {"intensity_mapping": {"offset": 12.5, "scale": 6020.0, "from": "percentile 2/99.8"}}
    p = write_image(tmp_path / "m.tif", load_real("nuclei2d"), metadata=mapping, pixel_size=0.1)
    assert read_image(p).metadata["microsr"]["intensity_mapping"] == mapping["intensity_mapping"]
    with tifffile.TiffFile(p) as tif:  # stored as JSON inside the ImageJ description
        assert json.loads(tif.imagej_metadata["microsr"])["intensity_mapping"]["scale"] == 6020.0


@pytest.mark.parametrize("name", ["nuclei2d_u8", "nuclei2d", "histo_rgb"])
def test_png_roundtrip(tmp_path, name):
    data = load_real(name) if name != "nuclei2d" else load_real(name) * np.uint16(500)
    axes = "YXC" if data.ndim == 3 else "YX"
    back = read_image(write_image(tmp_path / "x.png", data, axes))
    assert back.array.dtype == data.dtype and back.axes == axes and back.pixel_size is None
    np.testing.assert_array_equal(back.array, data)


def test_png_rgba_keeps_alpha_only_when_used(tmp_path):
    rgb = load_real("histo_rgb")
    alpha = np.full(rgb.shape[:2], 255, np.uint8)
    alpha[:10] = 7
    rgba = np.dstack([rgb, alpha])
    np.testing.assert_array_equal(read_image(write_image(tmp_path / "a.png", rgba, "YXC")).array, rgba)
    Image.fromarray(np.dstack([rgb, np.full_like(alpha, 255)])).save(tmp_path / "opaque.png")
    np.testing.assert_array_equal(read_image(tmp_path / "opaque.png").array, rgb)


def test_jpeg_read_matches_pillow():
    img = read_image("tests/data/real/histo.jpg")
    assert img.axes == "YXC" and img.array.shape == (300, 500, 3) and img.array.dtype == np.uint8
    np.testing.assert_array_equal(img.array, load_real("histo_jpeg"))


@pytest.mark.parametrize("dtype", ["uint16", "float32", "int16"])
@pytest.mark.parametrize("axes", ["YX", "ZYX", "TYX"])
def test_mrc_roundtrip_with_voxel_size(tmp_path, dtype, axes):
    base = load_real("neuron3d") if axes != "YX" else load_real("celegans")
    data = base.astype(dtype)
    p = write_image(tmp_path / "x.mrc", data, axes, PIXEL_SIZE)
    back = read_image(p)
    assert back.axes == axes and back.array.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(back.array, data)
    assert back.pixel_size == pytest.approx(PIXEL_SIZE, rel=1e-6)  # stored as 325 Angstrom (float32)
    assert back.metadata["voxel_size_angstrom"] == pytest.approx(325.0)


def test_mrc_uint8_is_stored_as_uint16_with_same_values(tmp_path):
    data = load_real("nuclei2d_u8")
    back = read_image(write_image(tmp_path / "x.mrc", data))
    assert back.array.dtype == np.uint16
    np.testing.assert_array_equal(back.array, data)


def test_lossless_dtype_choice_without_dtype(tmp_path):
    nuclei = load_real("nuclei2d")
    signed = nuclei.astype(np.int16) - 50  # negative values: float32 holds them exactly
    back = read_image(write_image(tmp_path / "s.tif", signed))
    assert back.array.dtype == np.float32
    np.testing.assert_array_equal(back.array, signed)
    wide = nuclei.astype(np.uint32)  # fits 16 bit
    assert read_image(write_image(tmp_path / "w.tif", wide)).array.dtype == np.uint16
    f64 = load_real("celegans").astype(np.float64)
    back = read_image(write_image(tmp_path / "d.tif", f64))
    assert back.array.dtype == np.float32
    np.testing.assert_array_equal(back.array, f64)


def test_requested_dtype_rounds_and_clips(tmp_path):
    pred = np.array([[-3.0, 1.5, 2.5, 70000.2], [0.49, 0.51, 65534.6, 9.0]])
    back = read_image(write_image(tmp_path / "u16.tif", pred, dtype="uint16")).array
    np.testing.assert_array_equal(back, [[0, 2, 2, 65535], [0, 1, 65535, 9]])
    assert back.dtype == np.uint16


def test_numpy_values_in_metadata_are_stored_as_plain_json(tmp_path):
    meta = {
        "norm": {"offset": np.float32(1.5), "scale": np.float64(2.0)},
        "hist": np.arange(3),
        "source": tmp_path / "in.tif",
    }
    back = read_image(write_image(tmp_path / "m.tif", load_real("nuclei2d"), metadata=meta)).metadata[
        "microsr"
    ]
    assert back == {
        "norm": {"offset": 1.5, "scale": 2.0},
        "hist": [0, 1, 2],
        "source": str(tmp_path / "in.tif"),
    }
    with pytest.raises(TypeError, match="not JSON-serialisable"):
        write_image(tmp_path / "bad.tif", load_real("nuclei2d"), metadata={"x": object()})
    assert not (tmp_path / "bad.tif").exists()


def test_16bit_rgb_png_is_not_reduced_to_8bit(tmp_path):
    # Pillow alone would return 8-bit values for this file.
    rgb16 = load_real("histo_rgb").astype(np.uint16) * np.uint16(257) + np.uint16(3)
    back = read_image(write_image(tmp_path / "rgb16.png", rgb16, "YXC"))
    assert back.array.dtype == np.uint16 and back.axes == "YXC"
    np.testing.assert_array_equal(back.array, rgb16)
    with Image.open(tmp_path / "rgb16.png") as im:  # a standard 16-bit PNG that other tools open
        assert im.size == (128, 128)
