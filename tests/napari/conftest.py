"""Fixtures for the napari plugin tests: a real viewer under Xvfb and a small trained model.

napari cannot draw image layers with ``QT_QPA_PLATFORM=offscreen`` (no OpenGL), so these tests
need an X display: the ``test`` extra installs pytest-xvfb, which starts Xvfb for the session
(``.ci/run`` installs the Debian packages). Without a display the tests are skipped, never crashed.
"""

from __future__ import annotations

import os

import pytest

from tests.simulated_pairs import write_pairs

SETTINGS = {
    "data.patch_size": 16,
    "data.batch_size": 2,
    "val_every": 2,
    "data.val_fraction": 0.25,
    "device": "cpu",
}


def _display_opens() -> bool:
    """Whether libX11 can connect to ``$DISPLAY`` (True when libX11 is not found: Qt decides)."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("X11")
    if name is None:
        return True
    x11 = ctypes.cdll.LoadLibrary(name)
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
    handle = x11.XOpenDisplay(None)
    if handle:
        x11.XCloseDisplay(handle)
    return bool(handle)


@pytest.fixture(scope="session", autouse=True)
def _display():
    """Skip (not crash) without a display; checked when tests run, after pytest-xvfb started."""
    # opencv-python (imported by nanopyx in the evaluation tests) points Qt at its own bundled
    # plugins through these variables; PyQt5's Qt then aborts the whole process when it starts
    for var in ("QT_QPA_PLATFORM_PLUGIN_PATH", "QT_QPA_FONTDIR"):
        if "cv2" in os.environ.get(var, ""):
            del os.environ[var]
    if not os.environ.get("DISPLAY"):
        pytest.skip("needs an X display (pytest-xvfb with Xvfb installed)")
    if not _display_opens():  # Qt would abort the whole process; fail these tests instead
        pytest.fail(f"cannot open the X display {os.environ['DISPLAY']}")
    pytest.importorskip("napari")
    pytest.importorskip("pytestqt")


@pytest.fixture(scope="session")
def pairs(tmp_path_factory):
    """Four simulated 32 -> 64 px microtubule pairs with pixel sizes (LR 62.6 nm, HR 31.3 nm)."""
    return write_pairs(tmp_path_factory.mktemp("napari_pairs"))


@pytest.fixture(scope="session")
def model_dir(pairs, tmp_path_factory):
    """A tiny SRCNN trained for 2 steps (a real model folder, quick to run)."""
    import microsr

    out = tmp_path_factory.mktemp("napari_model") / "run"
    return microsr.train(
        pairs / "lr", pairs / "hr", out, model="srcnn", tiny=True, steps=2, progress=False, settings=SETTINGS
    ).folder


@pytest.fixture(scope="session")
def package(model_dir, tmp_path_factory):
    """``model_dir`` exported as a bioimage.io package holding ONNX weights only, so that the
    widget runs it through onnxruntime rather than microsr's own network."""
    pytest.importorskip("bioimageio.core")
    pytest.importorskip("onnxruntime")
    from microsr.api import export

    out = tmp_path_factory.mktemp("napari_package") / "srcnn.zip"
    return export(model_dir, out, formats=["onnx"]).path
