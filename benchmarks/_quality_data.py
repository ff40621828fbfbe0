"""Data sets of ``benchmarks/quality.py``: simulated structures, simulated leukocytes, real crops.

Each data set is a folder with ``train/{lr,hr}``, ``test/{lr,hr}`` (+ ``mask`` for leukocytes) and,
with ``val=True``, ``val/{lr,hr}``: validation pairs that neither side trains on (microsr chooses
its best checkpoint on them; CARE draws its validation patches from them). Without ``val`` microsr
keeps one ``train`` image for validation (``val_fraction`` 0.1) while CARE trains on all of them.
Training, validation and held-out images never share a simulator seed or a source crop.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
STRUCTURES = ["ccps", "microtubules", "er", "f-actin"]
VAL_SEED = 50_000
TEST_SEED = 100_000
REAL_VAL_CROP = "nuclei2d_1"  # the crop that val_fraction 0.1 with seed 0 holds out of the 6 training crops


def _splits(b: dict, val: bool, test_only: bool = False) -> list[tuple[str, int, int]]:
    out = [("test", b["n_test"], TEST_SEED)]
    if test_only:
        return out
    return out + [("train", b["n_train"], 0)] + ([("val", b["n_val"], VAL_SEED)] if val else [])


def make_sim(
    folder: Path, structure: str, photons: float, b: dict, val: bool, test_only: bool = False
) -> None:
    from microsr.data.simulate import SimConfig, simulate_pair
    from microsr.io import write_image

    px = SimConfig().hr_pixel_nm / 1000.0
    for split, n, seed in _splits(b, val, test_only):
        for i in range(n):
            lr, hr = simulate_pair(structure, size=b["size"], scale=2, photons=photons, seed=seed + i)
            write_image(folder / split / "lr" / f"{i:04d}.tif", lr, "YX", 2 * px, dtype="uint16")
            write_image(folder / split / "hr" / f"{i:04d}.tif", hr, "YX", px, dtype="uint16")


def make_cells(folder: Path, photons: float, b: dict, val: bool, test_only: bool = False) -> None:
    from microsr.data.cells import simulate_cell_pair
    from microsr.io import write_image

    for split, n, seed in _splits(b, val, test_only):
        for i in range(n):
            lr, hr, mask = simulate_cell_pair(size=b["size"], scale=2, photons=photons, seed=seed + i)
            write_image(folder / split / "lr" / f"{i:04d}.tif", lr, "YX", dtype="uint16")
            write_image(folder / split / "hr" / f"{i:04d}.tif", hr, "YX", dtype="uint16")
            write_image(folder / split / "mask" / f"{i:04d}.tif", mask, "YX", dtype="uint8")


def make_real(folder: Path, val: bool) -> None:
    """128 px crops of tests/data/real, degraded with ``microsr degrade``; crop 0 of each is test."""
    import tifffile

    from microsr.io import write_image

    hr_only = folder / "hr_only"
    for name in ("nuclei2d.tif", "celegans_airyscan.tif"):
        img = tifffile.imread(ROOT / "tests" / "data" / "real" / name).astype(np.float32)
        for k, (i, j) in enumerate([(0, 0), (0, 128), (128, 0), (128, 128)]):
            write_image(
                hr_only / f"{Path(name).stem}_{k}.tif", img[i : i + 128, j : j + 128], "YX", dtype="float32"
            )
    subprocess.run(
        [
            "microsr",
            "degrade",
            "--hr",
            str(hr_only),
            "--scale",
            "2",
            "--photons",
            "200",
            "--out",
            str(folder / "all"),
            "--quiet",
        ],
        check=True,
    )
    for f in sorted((folder / "all" / "lr").glob("*.tif")):
        split = "test" if f.stem.endswith("_0") else "val" if val and f.stem == REAL_VAL_CROP else "train"
        for kind in ("lr", "hr"):
            (folder / split / kind).mkdir(parents=True, exist_ok=True)
            shutil.copy(folder / "all" / kind / f.name, folder / split / kind / f.name)


def make_dataset(folder: Path, name: str, b: dict, val: bool = False, test_only: bool = False) -> None:
    """Write data set ``name`` into ``folder`` unless it is there already.

    ``test_only``: only the held-out ``test`` split, ``b["n_test"]`` images from the same first seed
    (a larger test set whose first images are the usual ones); not for ``real``, which has no more
    source images.
    """
    if (folder / "test" / "hr").exists():
        return
    if name == "real":
        if test_only:
            raise ValueError("the real data set has no further images for a larger test set")
        make_real(folder, val)
    elif name.startswith("sim-leukocytes-p"):
        make_cells(folder, float(name[len("sim-leukocytes-p") :]), b, val, test_only)
    else:
        structure, photons = name[len("sim-") : name.rindex("-p")], float(name[name.rindex("-p") + 2 :])
        make_sim(folder, structure, photons, b, val, test_only)
