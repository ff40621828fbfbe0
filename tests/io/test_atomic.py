"""Writes are atomic and never overwrite protected inputs."""

from __future__ import annotations

import numpy as np
import pytest

import microsr.io.tiff as tiff_mod
from microsr.errors import InputError
from microsr.io import read_image, write_image, write_text_atomic
from tests.real_images import load_real


def test_failed_write_leaves_nothing_and_keeps_old_file(tmp_path, monkeypatch):
    target = tmp_path / "out.tif"
    old = load_real("nuclei2d")
    write_image(target, old)
    before = target.read_bytes()

    def broken(path, array, *args, **kwargs):
        path.write_bytes(b"II*\x00partial")  # half a file, then the disk "fills up"
        raise OSError("No space left on device")

    monkeypatch.setattr(tiff_mod.tifffile, "imwrite", broken)
    with pytest.raises(OSError, match="No space"):
        write_image(target, old * 2)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["out.tif"]
    with pytest.raises(OSError):
        write_image(tmp_path / "new.tif", old)
    assert [p.name for p in tmp_path.iterdir()] == ["out.tif"]


def test_protected_input_is_never_overwritten(tmp_path):
    src = tmp_path / "input.tif"
    write_image(src, load_real("nuclei2d"))
    before = src.read_bytes()
    with pytest.raises(InputError, match="refusing to overwrite an input file") as err:
        write_image(tmp_path / "sub" / ".." / "input.tif", load_real("nuclei2d") + 1, protect=[src])
    assert err.value.path.endswith("input.tif")
    assert src.read_bytes() == before
    with pytest.raises(InputError, match="refusing"):
        write_text_atomic(src, "x", protect=[src])
    # other paths are fine, and parents are created
    out = write_image(tmp_path / "a" / "b" / "pred.tif", load_real("nuclei2d"), protect=[src])
    np.testing.assert_array_equal(read_image(out).array, load_real("nuclei2d"))
