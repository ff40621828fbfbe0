"""File > Open Sample: a simulated LR/HR pair of each structure (``microsr simulate``'s model).

The LR layer (x2 coarser pixels) and the HR layer overlay in physical space: the HR layer has half
the pixel size and the pixel-centre shift of :func:`microsr.napari._layers.upsampled_placement`.
"""

from __future__ import annotations

from microsr.data.simulate import SimConfig, simulate_pair
from microsr.napari._layers import upsampled_placement

SIZE, SCALE = 256, 2


def sample_pair(structure: str, *, size: int = SIZE, scale: int = SCALE, seed: int = 0) -> list[tuple]:
    """``[(lr, kwargs, "image"), (hr, kwargs, "image")]`` for one simulated pair."""
    lr, hr = simulate_pair(structure, size=size, scale=scale, seed=seed)
    hr_pixel = SimConfig().hr_pixel_nm / 1000.0
    lr_scale = (hr_pixel * scale,) * 2
    hr_scale, hr_translate = upsampled_placement(lr_scale, (0.0, 0.0), scale)
    meta = {"structure": structure, "simulated": True, "scale": scale, "seed": seed}
    return [
        (lr, {"name": f"{structure} LR", "scale": lr_scale, "units": "µm", "metadata": meta}, "image"),
        (
            hr,
            {
                "name": f"{structure} HR",
                "scale": hr_scale,
                "translate": hr_translate,
                "units": "µm",
                "metadata": meta,
            },
            "image",
        ),
    ]


def ccps() -> list[tuple]:
    return sample_pair("ccps")


def microtubules() -> list[tuple]:
    return sample_pair("microtubules")


def er() -> list[tuple]:
    return sample_pair("er")


def f_actin() -> list[tuple]:
    return sample_pair("f-actin")
