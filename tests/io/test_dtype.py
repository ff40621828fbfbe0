"""to_dtype / to_output_dtype: explicit, rounded, clipped conversion back to the input bit depth."""

from __future__ import annotations

import numpy as np
import pytest

from microsr.io import storable_dtype, to_dtype, to_output_dtype
from tests.real_images import load_real


def test_to_dtype_rounds_half_to_even_and_clips():
    x = np.array([-0.6, 0.5, 1.5, 2.5, 254.5, 255.4, 300.0])
    np.testing.assert_array_equal(to_dtype(x, "uint8"), [0, 0, 2, 2, 254, 255, 255])
    assert to_dtype(x, np.uint16).dtype == np.uint16
    with pytest.raises(ValueError, match="do not fit uint8"):
        to_dtype(x, "uint8", clip=False)
    with pytest.raises(ValueError, match="NaN"):
        to_dtype(np.array([np.nan]), "uint16")
    with pytest.raises(ValueError, match="supports uint8, uint16 and float32"):
        to_dtype(x, "int32")


def test_to_output_dtype_undoes_mapping_exactly_for_real_uint16():
    img = load_real("nuclei2d").astype(np.uint16) * np.uint16(300)
    offset, scale = float(img.min()), float(img.max() - img.min())
    normalised = (img - offset) / scale
    back = to_output_dtype(normalised, img.dtype, {"offset": offset, "scale": scale})
    assert back.dtype == np.uint16
    np.testing.assert_array_equal(back, img)

    class Params:  # attribute access works too (e.g. the data layer's NormParams)
        pass

    p = Params()
    p.offset, p.scale = offset, scale
    np.testing.assert_array_equal(to_output_dtype(normalised, np.uint16, p), img)
    # float inputs and other integer types come back as float32, never 8 bit
    assert to_output_dtype(normalised, np.float32).dtype == np.float32
    assert to_output_dtype(normalised, np.int16).dtype == np.float32


def test_storable_dtype_is_lossless():
    assert storable_dtype(np.array([[True, False]])).dtype == np.uint8
    assert storable_dtype(np.array([[70000, 1]], np.int32)).dtype == np.float32
    with pytest.raises(ValueError):
        storable_dtype(np.array([[2**25 + 1]], np.int64))
