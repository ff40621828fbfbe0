"""Folders of ground truth, LR and predictions of three fake "models" built from real images.

Used by the report/CLI tests and to make docs/figures/report_screenshot.png. Models:
``sharp`` (ground truth blurred by sigma 0.6 px + noise), ``blurry`` (sigma 1.6 px + noise) and
``inventive`` (sigma 0.6 px + bright filaments that are not in the ground truth, on one side).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy.ndimage import gaussian_filter

from microsr.io import write_image
from tests.real_images import CELEGANS_PIXEL_SIZE_UM, load_real

MODELS = ("sharp", "blurry", "inventive")


def _ground_truths(size: int, n: int) -> list[np.ndarray]:
    cel = load_real("celegans").astype(np.float32)
    nuc = load_real("nuclei2d").astype(np.float32) * 40 + 500
    base = [cel, nuc]
    out = []
    for i in range(n):
        img = np.rot90(base[i % 2], k=i // 2)
        if i % 4 >= 2:
            img = img[:, ::-1]
        out.append(np.ascontiguousarray(img[:size, :size]))
    return out


def _filaments(shape: tuple[int, int], rng: np.random.Generator, amplitude: float) -> np.ndarray:
    h, w = shape
    canvas = np.zeros(shape, np.float32)
    for _ in range(4):
        y0, x0 = rng.uniform(0.1 * h, 0.9 * h), rng.uniform(0.55 * w, 0.95 * w)
        ang = rng.uniform(0, np.pi)
        t = np.linspace(-0.2 * w, 0.2 * w, 4 * w)
        ys, xs = (y0 + t * np.sin(ang)).astype(int), (x0 + t * np.cos(ang)).astype(int)
        ok = (ys >= 0) & (ys < h) & (xs >= w // 2) & (xs < w)
        canvas[ys[ok], xs[ok]] = 1.0
    return gaussian_filter(canvas, 0.8) / 0.2 * amplitude


def make_folders(root: Path, *, n: int = 6, size: int = 128, seed: int = 0) -> dict[str, Path]:
    """Write ``gt/``, ``lr/`` (x2 block mean + noise) and ``pred_<model>/`` folders under ``root``.

    Returns
    -------
    dict
        ``{"gt": ..., "lr": ..., "sharp": ..., "blurry": ..., "inventive": ...}`` folder paths.
    """
    rng = np.random.default_rng(seed)
    dirs = {"gt": root / "gt", "lr": root / "lr", **{m: root / f"pred_{m}" for m in MODELS}}
    for i, gt in enumerate(_ground_truths(size, n)):
        name = f"cell{i:02d}.tif"
        spread = float(gt.std())
        write_image(dirs["gt"] / name, gt, pixel_size=CELEGANS_PIXEL_SIZE_UM)
        lr = gt.reshape(size // 2, 2, size // 2, 2).mean(axis=(1, 3))
        write_image(
            dirs["lr"] / name,
            (lr + rng.normal(0, 0.05 * spread, lr.shape)).astype(np.float32),
            pixel_size=2 * CELEGANS_PIXEL_SIZE_UM,
        )
        noise = lambda gt=gt, spread=spread: rng.normal(0, 0.03 * spread, gt.shape)  # noqa: E731
        preds = {
            "sharp": gaussian_filter(gt, 0.6) + noise(),
            "blurry": gaussian_filter(gt, 1.6) + noise(),
            "inventive": gaussian_filter(gt, 0.6) + noise() + _filaments(gt.shape, rng, 1.5 * spread),
        }
        for m, p in preds.items():
            write_image(dirs[m] / name, p.astype(np.float32), pixel_size=CELEGANS_PIXEL_SIZE_UM)
    return dirs
