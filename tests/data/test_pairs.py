import numpy as np
import pytest

from microsr.data.pairs import find_pairs, image_stem
from microsr.errors import InputError
from microsr.io import write_image


def _write(path, shape, dtype=np.uint16):
    write_image(path, np.ones(shape, dtype), axes="ZYX"[3 - len(shape) :])


def test_pairs_by_stem_with_different_extensions(tmp_path):
    for n in ("b", "a", "c"):
        _write(tmp_path / "lr" / f"{n}.tif", (8, 10))
        _write(tmp_path / "hr" / f"{n}.tiff", (16, 20))
    _write(tmp_path / "hr" / "x.ome.tif", (16, 20))
    _write(tmp_path / "lr" / "x.tif", (8, 10))
    pairs = find_pairs(tmp_path / "lr", tmp_path / "hr", scale=2)
    assert [p.name for p in pairs] == ["a", "b", "c", "x"]
    assert pairs[0].lr.name == "a.tif" and pairs[0].hr.name == "a.tiff" and pairs[0].mask is None
    assert image_stem(tmp_path / "x.OME.TIFF") == "x"


def test_unmatched_are_reported(tmp_path):
    _write(tmp_path / "lr" / "a.tif", (8, 8))
    _write(tmp_path / "lr" / "lonely.tif", (8, 8))
    _write(tmp_path / "hr" / "a.tif", (16, 16))
    _write(tmp_path / "hr" / "orphan.tif", (16, 16))
    with pytest.warns(UserWarning, match=r"lonely.*orphan"):
        pairs = find_pairs(tmp_path / "lr", tmp_path / "hr", scale=2)
    assert len(pairs) == 1
    _write(tmp_path / "hr2" / "zzz.tif", (16, 16))
    with pytest.raises(InputError, match=r"no LR file.*a, lonely.*zzz"):
        find_pairs(tmp_path / "lr", tmp_path / "hr2", scale=2)


def test_shape_mismatch_names_both_files(tmp_path):
    _write(tmp_path / "lr" / "cell.tif", (8, 10))
    _write(tmp_path / "hr" / "cell.tif", (16, 21))
    with pytest.raises(InputError, match=r"cell.tif \(LR\).*cell.tif \(HR\).*16x21.*8x10.*16x20"):
        find_pairs(tmp_path / "lr", tmp_path / "hr", scale=2)


def test_stacks_need_same_slices(tmp_path):
    _write(tmp_path / "lr" / "s.tif", (3, 8, 8))
    _write(tmp_path / "hr" / "s.tif", (4, 24, 24))
    with pytest.raises(InputError, match="3 Z planes but HR has 4"):
        find_pairs(tmp_path / "lr", tmp_path / "hr", scale=3)
    _write(tmp_path / "hr" / "s.tif", (3, 24, 24))
    assert len(find_pairs(tmp_path / "lr", tmp_path / "hr", scale=3)) == 1


def test_masks_and_ambiguity(tmp_path):
    _write(tmp_path / "lr" / "a.tif", (8, 8))
    _write(tmp_path / "hr" / "a.tif", (16, 16))
    _write(tmp_path / "m" / "a.png", (16, 16), np.uint8)
    (p,) = find_pairs(tmp_path / "lr", tmp_path / "hr", scale=2, mask_dir=tmp_path / "m")
    assert p.mask.name == "a.png"
    _write(tmp_path / "lr" / "b.tif", (8, 8))
    _write(tmp_path / "hr" / "b.tif", (16, 16))
    with pytest.raises(InputError, match="no mask for: b"):
        find_pairs(tmp_path / "lr", tmp_path / "hr", scale=2, mask_dir=tmp_path / "m")
    _write(tmp_path / "lr" / "a.png", (8, 8), np.uint8)
    with pytest.raises(InputError, match="two files share the name 'a'"):
        find_pairs(tmp_path / "lr", tmp_path / "hr", scale=2)


def test_missing_folder(tmp_path):
    (tmp_path / "hr").mkdir()
    with pytest.raises(InputError, match="not found"):
        find_pairs(tmp_path / "nope", tmp_path / "hr", scale=2)
    with pytest.raises(InputError, match="no images"):
        find_pairs(tmp_path / "hr", tmp_path / "hr", scale=2)
