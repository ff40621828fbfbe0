"""Small real microscopy images for tests (see tests/data/real/PROVENANCE.md).

Usage from any test: ``from tests.real_images import REAL_IMAGES, load_real``.
The images are read with tifffile / Pillow directly (not with ``microsr.io``), so that tests of
``microsr.io`` can compare against an independent reader.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

DATA_DIR = Path(__file__).parent / "data" / "real"

# name -> (file, axes, dtype, description)
_CATALOGUE = {
    "nuclei2d": ("nuclei2d.tif", "YX", "uint16", "fluorescent nuclei, 2018 Data Science Bowl (stardist)"),
    "nuclei2d_u8": ("nuclei2d_u8.png", "YX", "uint8", "same crop as nuclei2d as an 8-bit PNG"),
    "celegans": (
        "celegans_airyscan.tif",
        "YX",
        "float32",
        "C. elegans intestine, Airyscan (sdeconv), 0.0426 um/px",
    ),
    "neuron3d": ("neuron3d.tif", "ZYX", "float32", "Purkinje neuron widefield z-stack (flowdec)"),
    "histo_rgb": ("histo_rgb.png", "YXC", "uint8", "H&E RGB crop (stardist)"),
    "histo_jpeg": ("histo.jpg", "YXC", "uint8", "H&E RGB JPEG, unmodified (stardist)"),
}
REAL_IMAGES = list(_CATALOGUE)
# Pixel size recorded in celegans_airyscan.tif: ImageJ XResolution 23.466652 px/micron.
CELEGANS_PIXEL_SIZE_UM = 1 / 23.466652


def real_path(name: str) -> Path:
    """Path of the real test image ``name`` (one of :data:`REAL_IMAGES`)."""
    if name not in _CATALOGUE:
        raise KeyError(f"unknown real image {name!r}; choose from {REAL_IMAGES}")
    return DATA_DIR / _CATALOGUE[name][0]


def real_axes(name: str) -> str:
    """Axes of the real test image ``name`` (e.g. ``"YX"``, ``"ZYX"``, ``"YXC"``)."""
    real_path(name)
    return _CATALOGUE[name][1]


def load_real(name: str) -> np.ndarray:
    """The pixel values of real test image ``name`` in their stored dtype.

    Shapes: nuclei2d / nuclei2d_u8 / celegans (256, 256); neuron3d (8, 64, 64);
    histo_rgb (128, 128, 3); histo_jpeg (300, 500, 3).
    """
    path = real_path(name)
    if path.suffix == ".tif":
        import tifffile

        array = tifffile.imread(path)
    else:
        from PIL import Image

        with Image.open(path) as im:
            array = np.array(im)
    expected = np.dtype(_CATALOGUE[name][2])
    assert array.dtype == expected, f"{path} changed: dtype {array.dtype}, expected {expected}"
    return array
