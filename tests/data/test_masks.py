"""Parsing maps: label or 3-channel binary files -> one-hot (3, H, W); clear errors naming the file."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from PIL import Image

from microsr.data.masks import match_masks, read_mask, require_masks
from microsr.errors import InputError

H, W = 8, 10


@pytest.fixture
def labels(rng) -> np.ndarray:
    lab = rng.integers(0, 3, (H, W)).astype(np.uint8)
    lab[0, :3] = [0, 1, 2]  # every class present
    return lab


def _expected(lab: np.ndarray) -> np.ndarray:
    return np.stack([(lab == k) for k in range(3)]).astype(np.float32)


def test_label_tiff_to_onehot(tmp_path, labels):
    p = tmp_path / "cell.tif"
    tifffile.imwrite(p, labels)
    m = read_mask(p, (H, W))
    assert m.dtype == np.float32 and m.shape == (3, H, W)
    np.testing.assert_array_equal(m, _expected(labels))
    np.testing.assert_array_equal(m.sum(0), 1)


def test_float_labels_and_singleton_axes(tmp_path, labels):
    p = tmp_path / "cell.tif"
    tifffile.imwrite(p, labels.astype(np.float32)[None], photometric="minisblack")
    np.testing.assert_array_equal(read_mask(p, (3, H, W)), _expected(labels))


def test_three_channel_binary_png_and_tiff(tmp_path, labels):
    onehot = _expected(labels)
    png = tmp_path / "rgb.png"  # colour-last, 0/255, channels (background, cytoplasm, nucleus)
    Image.fromarray((np.moveaxis(onehot, 0, -1) * 255).astype(np.uint8)).save(png)
    np.testing.assert_array_equal(read_mask(png, (H, W)), onehot)
    tif = tmp_path / "planes.tif"  # channel-first 0/1 planes
    tifffile.imwrite(tif, onehot.astype(np.uint8), photometric="minisblack")
    np.testing.assert_array_equal(read_mask(tif, (H, W)), onehot)


def test_label_values_outside_0_1_2(tmp_path, labels):
    p = tmp_path / "bad.tif"
    tifffile.imwrite(p, labels * 100)
    with pytest.raises(InputError, match="0 \\(background\\), 1 \\(cytoplasm\\) or 2") as info:
        read_mask(p, (H, W))
    assert info.value.path == str(p) and "100" in info.value.problem


def test_shape_mismatch_names_both_sizes(tmp_path, labels):
    p = tmp_path / "small.tif"
    tifffile.imwrite(p, labels)
    with pytest.raises(InputError, match="mask is 8x10 .* HR image is 16x20") as info:
        read_mask(p, (16, 20))
    assert info.value.path == str(p)


def test_channels_not_summing_to_one(tmp_path, labels):
    onehot = _expected(labels).astype(np.uint8)
    onehot[:, 2, 3] = 0  # one pixel in no class
    onehot[1:, 4, 4] = 1  # one pixel in two or three classes
    p = tmp_path / "overlap.tif"
    tifffile.imwrite(p, onehot, photometric="minisblack")
    with pytest.raises(InputError, match="do not sum to one at 2 of 80 pixels"):
        read_mask(p, (H, W))


def test_non_binary_channel_and_wrong_channel_count(tmp_path, labels):
    stack = _expected(labels).astype(np.uint8)
    stack[2, 0, 0] = 7
    p = tmp_path / "gray.tif"
    tifffile.imwrite(p, stack, photometric="minisblack")
    with pytest.raises(InputError, match="channel 2 \\(nucleus\\) is not binary"):
        read_mask(p, (H, W))
    q = tmp_path / "four.tif"
    tifffile.imwrite(q, np.zeros((4, H, W), np.uint8), photometric="minisblack")
    with pytest.raises(InputError, match="exactly 3 channels"):
        read_mask(q, (H, W))


def test_require_masks_explains_that_maps_are_not_invented(tmp_path):
    with pytest.raises(InputError, match="does not invent parsing maps") as info:
        require_masks(None, "geometry-prior")
    assert "geometry-prior" in info.value.problem and "noprior" in info.value.problem
    with pytest.raises(InputError, match="mask folder not found") as info:
        require_masks(tmp_path / "nope", "sftgan")
    assert info.value.path == str(tmp_path / "nope")
    with pytest.raises(InputError, match="no images found.*needs a parsing map"):
        require_masks(tmp_path, "sftgan")
    tifffile.imwrite(tmp_path / "a.tif", np.zeros((4, 4), np.uint8))
    assert require_masks(tmp_path, "sftgan") == tmp_path


def test_match_masks_by_stem(tmp_path):
    masks = tmp_path / "masks"
    masks.mkdir()
    for name in ("a.tif", "b.png"):
        Image.fromarray(np.zeros((4, 4), np.uint8)).save(masks / name)
    assert match_masks([tmp_path / "hr" / "a.tif", "b.tif"], masks) == [masks / "a.tif", masks / "b.png"]
    with pytest.raises(InputError, match="1 image\\(s\\): c.tif"):
        match_masks(["a.tif", "c.tif"], masks)
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(masks / "a.png")
    with pytest.raises(InputError, match="several masks for a.tif"):
        match_masks(["a.tif"], masks)
