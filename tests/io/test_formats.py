"""The format table: every writable format round-trips through read_image/write_image by extension."""

from __future__ import annotations

import numpy as np
import pytest

from microsr.errors import InputError
from microsr.io import FORMATS, SUPPORTED_EXTENSIONS, read_image, write_image
from microsr.io.formats import format_of


@pytest.mark.parametrize("name", [n for n, f in FORMATS.items() if f.writer is not None])
def test_every_writable_format_round_trips(tmp_path, name):
    fmt = FORMATS.get(name)
    image = (np.arange(12 * 10, dtype=np.uint16).reshape(12, 10) * 37) % 4000
    for ext in fmt.extensions:
        path = write_image(tmp_path / f"a{ext.upper()}", image)  # extensions are case-insensitive
        back = read_image(path)
        assert back.axes == "YX" and np.array_equal(back.array, image), (name, ext)


def test_table_lists_every_supported_extension():
    assert set(SUPPORTED_EXTENSIONS) == {".tif", ".tiff", ".png", ".jpg", ".jpeg", ".mrc"}
    assert format_of(__import__("pathlib").Path("x.TIFF")).name == "tiff"


def test_unknown_and_read_only_formats_are_one_line(tmp_path):
    with pytest.raises(InputError, match=r"unsupported file type '\.bmp'; use .*\.tif"):
        format_of(tmp_path / "a.bmp")
    with pytest.raises(
        InputError, match=r"cannot write '\.jpg' files \(JPEG is lossy\); use \.mrc, \.png, \.tif"
    ):
        write_image(tmp_path / "a.jpg", np.zeros((4, 4), np.uint8))
    with pytest.raises(InputError, match=r"cannot write '\.bmp' files; use"):
        write_image(tmp_path / "a.bmp", np.zeros((4, 4), np.uint8))
    assert not list(tmp_path.iterdir())


def test_int16_kept_only_by_formats_that_hold_it(tmp_path):
    image = np.array([[-5, 3], [7, -1]], dtype=np.int16).repeat(4, 0).repeat(4, 1)
    assert read_image(write_image(tmp_path / "a.mrc", image)).array.dtype == np.int16
    assert read_image(write_image(tmp_path / "a.tif", image)).array.dtype != np.int16
