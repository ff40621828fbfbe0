"""Simulated microtubule LR/HR pairs written as TIFFs with pixel sizes (shared by API and napari tests)."""

from __future__ import annotations

from pathlib import Path

from microsr.data.simulate import simulate_pair
from microsr.io import write_image


def write_pairs(root: Path, count: int = 4, size: int = 64) -> Path:
    """``root/lr/{i}.tif`` (size/2 px, 62.6 nm) and ``root/hr/{i}.tif`` (size px, 31.3 nm), seeds 0..count-1."""
    for i in range(count):
        lr, hr = simulate_pair("microtubules", size=size, scale=2, seed=i)
        write_image(root / "lr" / f"{i}.tif", lr, pixel_size=0.0626)
        write_image(root / "hr" / f"{i}.tif", hr, pixel_size=0.0313)
    return root
