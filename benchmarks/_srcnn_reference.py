"""The plain reference SRCNN of ``benchmarks/real_data.py``: written in a few lines on purpose.

It is what a user would write without microsr: percentile-normalised images, bicubic-upsampled LR
input, SRCNN 9-5-5 (64/32 filters, 'same' padding), Adam at a constant 1e-3, MSE, uniformly drawn
patches (no background rejection, no augmentation), the last weights. It is a yardstick for
microsr's defaults, so it deliberately uses nothing of microsr but the bicubic of the scorer.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tifffile
import torch
from torch import nn


def _norm(x: np.ndarray) -> np.ndarray:
    lo, hi = np.percentile(x, [1.0, 99.8])
    return ((x - lo) / max(hi - lo, 1e-12)).astype(np.float32)


def _up(lr: np.ndarray) -> torch.Tensor:
    t = torch.from_numpy(lr)[None, None]
    return nn.functional.interpolate(t, scale_factor=2, mode="bicubic", align_corners=False)[0, 0]


def _planes(path: Path) -> list[np.ndarray]:
    a = tifffile.imread(path).astype(np.float32)
    return list(a) if a.ndim == 3 else [a]


def train_and_predict(data: Path, out: Path, *, steps: int, batch: int, patch: int, seed: int) -> None:
    """Train on ``data/train`` (HR patch ``patch`` px) and write predictions of ``data/test/lr`` to ``out``."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    ups, hrs = [], []
    for f in sorted((data / "train" / "lr").glob("*.tif")):
        for lr, hr in zip(_planes(f), _planes(data / "train" / "hr" / f.name)):
            ups.append(_up(_norm(lr)))
            hrs.append(torch.from_numpy(_norm(hr)))
    net = nn.Sequential(
        nn.Conv2d(1, 64, 9, padding=4), nn.ReLU(), nn.Conv2d(64, 32, 5, padding=2), nn.ReLU(),
        nn.Conv2d(32, 1, 5, padding=2),
    )  # fmt: skip
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    for _ in range(steps):
        xs, ys = [], []
        for _ in range(batch):
            i = rng.integers(len(ups))
            y0, x0 = (int(rng.integers(s - patch + 1)) for s in hrs[i].shape)
            xs.append(ups[i][y0 : y0 + patch, x0 : x0 + patch])
            ys.append(hrs[i][y0 : y0 + patch, x0 : x0 + patch])
        loss = nn.functional.mse_loss(net(torch.stack(xs)[:, None]), torch.stack(ys)[:, None])
        opt.zero_grad()
        loss.backward()
        opt.step()
    out.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        for f in sorted((data / "test" / "lr").glob("*.tif")):
            pred = net(_up(_norm(tifffile.imread(f).astype(np.float32)))[None, None])[0, 0]
            tifffile.imwrite(out / f.name, pred.numpy())
