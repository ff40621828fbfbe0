"""write_tiff_stack: a stack written plane by plane reads back as write_image of the whole array."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from microsr.errors import InputError
from microsr.io import imagej_order, read_image, write_image, write_tiff_stack


def _description(path):
    with tifffile.TiffFile(path) as tif:
        return tif.pages[0].description, tif.pages[0].tags["XResolution"].value


@pytest.mark.parametrize(
    "axes, shape, dtype",
    [
        ("ZYX", (4, 10, 12), np.float32),
        ("TZYX", (2, 3, 10, 12), np.uint16),
        ("TCYX", (2, 2, 10, 12), np.uint8),
    ],
)
def test_same_file_as_write_image(tmp_path, rng, axes, shape, dtype):
    stack = (rng.random(shape) * 200).astype(dtype)
    meta = {"model": "x", "norm_params": [{"offset": 1.5, "scale": 2.0}] * 3, "source": "a.tif"}
    whole = write_image(tmp_path / "whole.tif", stack, axes, 0.0313, metadata=meta)
    planes = (p for p in stack.reshape(-1, *shape[-2:]))
    streamed = write_tiff_stack(
        tmp_path / "streamed.tif", planes, shape, axes, 0.0313, dtype=dtype, metadata=lambda: meta
    )
    a, b = read_image(whole), read_image(streamed)
    np.testing.assert_array_equal(b.array, stack)
    assert (b.axes, b.pixel_size, b.array.dtype) == (a.axes, a.pixel_size, a.array.dtype)
    assert b.metadata == a.metadata and b.metadata["microsr"]["source"] == "a.tif"
    assert _description(streamed) == _description(whole)  # ImageJ: same hyperstack, display range


def test_pieces_bigger_than_a_plane_and_no_metadata(tmp_path, rng):
    stack = rng.random((2, 3, 8, 8), dtype=np.float32)
    path = write_tiff_stack(tmp_path / "s.tiff", iter(stack), stack.shape, "TZYX", dtype="float32")
    img = read_image(path)
    np.testing.assert_array_equal(img.array, stack)
    assert img.pixel_size is None and "microsr" not in img.metadata


def _description_before_pixels(path):
    with tifffile.TiffFile(path) as tif:
        page = tif.pages[0]
        return page.tags["ImageDescription"].valueoffset < page.dataoffsets[0]


def test_room_for_late_metadata_is_reserved_before_the_pixels(tmp_path, rng):
    # ImageJ TIFFs stay classic TIFFs above 4 GB, where a description appended after the pixels
    # could not be addressed (checked by hand with a 4.4 GB stack: struct.error without reserve)
    stack = rng.random((3, 8, 8), dtype=np.float32)
    final = {"norm_params": [{"offset": 1 / 3 + i, "scale": 2 / 3 + i} for i in range(3)]}
    shape_only = {"norm_params": [{"offset": 0.0, "scale": 1.0}] * 3}
    kept = write_tiff_stack(
        tmp_path / "kept.tif",
        iter(stack),
        stack.shape,
        "ZYX",
        dtype=np.float32,
        metadata=lambda: final,
        reserve=shape_only,
    )
    assert _description_before_pixels(kept)
    assert read_image(kept).metadata["microsr"] == final
    late = write_tiff_stack(
        tmp_path / "late.tif", iter(stack), stack.shape, "ZYX", dtype=np.float32, metadata=lambda: final
    )
    assert not _description_before_pixels(late)  # appended: fine below 4 GB
    assert read_image(late).metadata["microsr"] == final


def test_imagej_order():
    assert imagej_order("CZYX") == [1, 0, 2, 3]
    assert imagej_order("TZCYX") == [0, 1, 2, 3, 4]


def _failing(planes, at):
    for i, p in enumerate(planes):
        if i == at:
            raise RuntimeError("plane failed")
        yield p


def test_errors_leave_no_file(tmp_path, rng):
    stack = rng.random((4, 8, 8), dtype=np.float32)
    out = tmp_path / "out"
    with pytest.raises(RuntimeError, match="plane failed"):
        write_tiff_stack(out / "s.tif", _failing(stack, 2), stack.shape, "ZYX", dtype=np.float32)
    bad = stack.copy()
    bad[3, 1, 1] = np.nan
    with pytest.raises(InputError, match="NaN"):
        write_tiff_stack(out / "s.tif", iter(bad), bad.shape, "ZYX", dtype=np.float32)
    with pytest.raises(ValueError, match="does not fit"):
        write_tiff_stack(out / "s.tif", iter(stack.astype(np.float64)), stack.shape, "ZYX", dtype=np.float32)
    with pytest.raises(ValueError, match="wrong number of bytes"):  # tifffile's own count check
        write_tiff_stack(out / "s.tif", iter(stack[:3]), stack.shape, "ZYX", dtype=np.float32)
    assert list(out.iterdir()) == []


def test_checked_before_writing(tmp_path, rng):
    stack = rng.random((2, 8, 8), dtype=np.float32)
    src = write_image(tmp_path / "in.tif", stack, "ZYX")
    before = src.read_bytes()
    with pytest.raises(InputError, match="overwrite an input"):
        write_tiff_stack(src, iter(stack), stack.shape, "ZYX", dtype=np.float32, protect=[src])
    assert src.read_bytes() == before
    with pytest.raises(InputError, match="TIFF"):
        write_tiff_stack(tmp_path / "s.png", iter(stack), stack.shape, "ZYX", dtype=np.float32)
    with pytest.raises(ValueError, match="ImageJ order"):
        write_tiff_stack(tmp_path / "s.tif", iter(stack), (1, 2, 8, 8), "CZYX", dtype=np.float32)
    with pytest.raises(InputError, match="pixel size"):
        write_tiff_stack(tmp_path / "s.tif", iter(stack), stack.shape, "ZYX", -1.0, dtype=np.float32)
    with pytest.raises(ValueError, match="uint8, uint16 or float32"):
        write_tiff_stack(tmp_path / "s.tif", iter(stack), stack.shape, "ZYX", dtype=np.float64)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.tif"]
