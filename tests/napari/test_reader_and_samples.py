"""Reader and sample data: layers with physical scale, opened through napari's own machinery."""

from __future__ import annotations

import subprocess
import sys

import mrcfile
import numpy as np
import pytest

from microsr.io import write_image
from microsr.napari._layers import upsampled_placement
from microsr.napari._reader import get_reader


def test_upsampled_placement_puts_pixel_centres_on_the_input_field():
    # reference: OME-Zarr convention (SPEC 5): scale / s, translation -(s-1)/(2s) input pixels
    scale, translate = upsampled_placement((1.0, 0.1, 0.2), (5.0, 1.0, 2.0), 2)
    assert scale == (1.0, 0.05, 0.1)
    assert translate == pytest.approx((5.0, 1.0 - 0.025, 2.0 - 0.05))
    # the outer pixel edges coincide: input covers [t - p/2, t + (n - 1/2) p]
    n, p, s = 10, 0.2, 4
    (q,), (u,) = upsampled_placement((p,), (0.0,), s)[0][-1:], upsampled_placement((p,), (0.0,), s)[1][-1:]
    assert u - q / 2 == pytest.approx(-p / 2) and u + (n * s - 0.5) * q == pytest.approx((n - 0.5) * p)


def test_reader_gives_physical_scale_for_tiff_and_mrc(make_napari_viewer_proxy, tmp_path):
    tif, mrc = tmp_path / "a.tif", tmp_path / "b.mrc"
    write_image(tif, np.arange(48, dtype=np.uint16).reshape(6, 8), pixel_size=0.065)
    with mrcfile.new(mrc) as fh:
        fh.set_data(np.ones((2, 5, 7), dtype=np.float32))
        fh.voxel_size = 12.5  # Angstrom -> 1.25 nm
    assert get_reader(str(tmp_path / "c.png")) is None
    viewer = make_napari_viewer_proxy()
    viewer.open([str(tif)], plugin="microsr")
    viewer.open([str(mrc)], plugin="microsr")
    a, b = viewer.layers["a"], viewer.layers["b"]
    assert a.data.dtype == np.uint16 and a.data.shape == (6, 8)  # bit depth kept
    assert tuple(a.scale) == pytest.approx((0.065, 0.065)) and str(a.units[-1]) == "micrometer"
    assert b.data.shape == (2, 5, 7) and tuple(b.scale) == pytest.approx((1.0, 0.00125, 0.00125))


def test_sample_data_pairs_overlay(make_napari_viewer_proxy):
    viewer = make_napari_viewer_proxy()
    viewer.open_sample("microsr", "ccps")
    lr, hr = viewer.layers["ccps LR"], viewer.layers["ccps HR"]
    assert lr.data.shape == (128, 128) and hr.data.shape == (256, 256)
    assert tuple(hr.scale) == pytest.approx(tuple(np.asarray(lr.scale) / 2))
    # same field of view: first and last pixel edges coincide in world coordinates
    lo = lambda layer: layer.translate - layer.scale / 2  # noqa: E731
    hi = lambda layer: layer.translate + (np.array(layer.data.shape) - 0.5) * layer.scale  # noqa: E731
    np.testing.assert_allclose(lo(lr), lo(hr))
    np.testing.assert_allclose(hi(lr), hi(hr))


def test_npe2_validate_passes():
    """``npe2 validate microsr`` as a plugin author runs it (imports every command's python_name)."""
    out = subprocess.run(
        [sys.executable, "-m", "npe2", "validate", "microsr"], capture_output=True, text=True
    )
    assert out.returncode == 0 and "valid!" in out.stdout, out.stdout + out.stderr


def test_manifest_names_the_widgets():
    from npe2 import PluginManifest

    manifest = PluginManifest.from_distribution("microsr")
    manifest.validate_imports()
    assert {w.display_name for w in manifest.contributions.widgets} == {"Super-resolve", "Train", "Quality"}
