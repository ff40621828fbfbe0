"""Bad input files become one clear InputError naming the file."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import tifffile

from microsr.errors import InputError
from microsr.io import check_finite, list_images, read_image, write_image
from microsr.io.image import check_array
from tests.real_images import load_real, real_path


def _truncated(src, dst, fraction):
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * fraction)])
    return dst


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="file not found") as err:
        read_image(tmp_path / "nope.tif")
    assert err.value.path == str(tmp_path / "nope.tif")


def test_unsupported_extension(tmp_path):
    p = tmp_path / "x.bmp"
    p.write_bytes(b"BM....")
    with pytest.raises(InputError, match="unsupported file type '.bmp'"):
        read_image(p)


@pytest.mark.parametrize("name, fraction", [("nuclei2d", 0.5), ("neuron3d", 0.6), ("neuron3d", 0.02)])
def test_truncated_real_tiff(tmp_path, name, fraction):
    # single page with missing pixel data; multi-page stack with missing pages; cut inside the IFDs
    p = _truncated(real_path(name), tmp_path / "cut.tif", fraction)
    with pytest.raises(InputError, match="corrupt or truncated") as err:
        read_image(p)
    assert err.value.path == str(p)
    assert "\n" not in str(err.value)


def test_truncated_png_and_garbage(tmp_path):
    p = _truncated(real_path("nuclei2d_u8"), tmp_path / "cut.png", 0.5)
    with pytest.raises(InputError, match="corrupt or truncated"):
        read_image(p)
    g = tmp_path / "garbage.tif"
    g.write_bytes(b"this is not a tiff file at all" * 10)
    with pytest.raises(InputError, match="cannot read TIFF"):
        read_image(g)
    m = tmp_path / "garbage.mrc"
    m.write_bytes(b"\x00" * 100)
    with pytest.raises(InputError, match="MRC"):
        read_image(m)


def test_empty_file_and_empty_image(tmp_path):
    p = tmp_path / "empty.tif"
    p.write_bytes(b"")
    with pytest.raises(InputError, match="empty file"):
        read_image(p)
    with pytest.raises(InputError, match="empty image"):
        check_array(np.zeros((0, 5), np.uint16), "x.tif")
    with pytest.raises(InputError, match="empty image"):
        write_image(tmp_path / "e.tif", np.zeros((4, 0), np.float32))


def test_nan_and_inf_rejected_on_read_unless_allowed(tmp_path):
    img = load_real("celegans").copy()
    img[3, 4] = np.nan
    img[5, 6] = np.inf
    p = tmp_path / "nan.tif"
    tifffile.imwrite(p, img)
    with pytest.raises(InputError, match="1 NaN and 1 infinite") as err:
        read_image(p)
    assert err.value.path == str(p)
    assert np.isnan(read_image(p, allow_nonfinite=True).array[3, 4])
    with pytest.raises(InputError, match="NaN"):
        check_finite(img, "pred.tif")
    check_finite(load_real("nuclei2d"), "ok.tif")  # integers pass
    with pytest.raises(InputError, match="NaN"):
        write_image(tmp_path / "out.tif", img)
    assert not (tmp_path / "out.tif").exists()


def test_unsupported_dimensions(tmp_path):
    p = tmp_path / "5d.tif"
    tifffile.imwrite(p, np.zeros((2, 2, 2, 8, 8), np.uint16))  # plain TIFF: axes unknown beyond ZYX
    with pytest.raises(InputError, match="3 unnamed stack dimensions .* ImageJ hyperstack or OME-TIFF"):
        read_image(p)
    with pytest.raises(InputError, match="do not match a 2-D image"):
        write_image(tmp_path / "x.tif", load_real("nuclei2d"), "ZYX")
    with pytest.raises(InputError, match="PNG can hold only"):
        write_image(tmp_path / "x.png", load_real("celegans"))
    with pytest.raises(InputError, match="JPEG is lossy"):
        write_image(tmp_path / "x.jpg", load_real("nuclei2d_u8"))
    with pytest.raises(InputError, match="cannot be stored losslessly"):
        write_image(tmp_path / "x.tif", np.array([[0, 2**31 - 1]], np.int64).repeat(2, 0))
    assert list(tmp_path.iterdir()) == [p]


def test_list_images(tmp_path):
    with pytest.raises(InputError, match="folder not found"):
        list_images(tmp_path / "missing")
    with pytest.raises(InputError, match="no images found"):
        list_images(tmp_path)
    for name in ["b.TIF", "a.png", ".a.tmp.tif", "notes.txt", "c.mrc"]:
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "sub.tif").mkdir()
    assert [p.name for p in list_images(tmp_path)] == ["a.png", "b.TIF", "c.mrc"]
    shutil.rmtree(tmp_path / "sub.tif")


@pytest.mark.parametrize(
    "message, corrupt",
    [
        ("<tifffile.read_tags> coercing invalid ASCII to bytes", False),  # vendor metadata only
        ("invalid LSM ScanInfo structure", False),
        ("<tifffile.TiffPages @8> invalid page offset 12688", True),
        ("failed to read 8192 bytes, got 4744. Missing data are zeroed", True),
    ],
)
def test_tifffile_warnings_about_metadata_do_not_reject_pixels(monkeypatch, message, corrupt):
    original = tifffile.TiffPageSeries.asarray

    def noisy(self, *args, **kwargs):
        import logging

        logging.getLogger("tifffile").warning(message)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(tifffile.TiffPageSeries, "asarray", noisy)
    if corrupt:
        with pytest.raises(InputError, match="corrupt or truncated"):
            read_image(real_path("nuclei2d"))
    else:
        np.testing.assert_array_equal(read_image(real_path("nuclei2d")).array, load_real("nuclei2d"))


def test_input_error_message_is_one_line_when_the_problem_holds_a_line_break():
    # found by the Hypothesis fuzz of model.json: a weights key "\n" was echoed by pydantic's message
    from microsr.errors import InputError

    err = InputError("/runs/a", "weights.\n.[key]: Input should be 'best' or 'last'")
    assert "\n" not in str(err) and str(err).startswith("/runs/a: weights.")
    assert "\n" not in str(InputError(None, "two\nlines"))
