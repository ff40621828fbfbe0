"""Model folders with untrained (seeded) tiny networks and a small 16-bit test image."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from microsr.io import write_image
from microsr.modelcard import save_model_folder
from microsr.models import create_model

pytest.importorskip("bioimageio.core")
pytest.importorskip("onnxruntime")

NORM = {"kind": "percentile", "low": 2.0, "high": 99.8}


def blobs(shape=(64, 64), seed=0) -> np.ndarray:
    """Smooth positive 16-bit image (sum of Gaussians plus noise), like a fluorescence field."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    img = np.zeros(shape)
    for cy, cx in rng.uniform(0, shape[0], (12, 2)):
        img += np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 18.0)
    return (200 + 3000 * img + rng.normal(0, 20, shape)).clip(0, 65535).astype(np.uint16)


def make_run(folder, name="srcnn", pixel_size=0.1, seed=0):
    """A model folder for ``name``'s tiny preset plus ``folder/lr/img.tif`` (recorded as training data)."""
    torch.manual_seed(seed)
    model = create_model(name, tiny=True)
    lr_dir = folder / "lr"
    lr_dir.mkdir(parents=True, exist_ok=True)
    write_image(lr_dir / "img.tif", blobs(seed=seed), pixel_size=pixel_size)
    run = folder / f"run-{name}"
    save_model_folder(
        run,
        model,
        name=name,
        scale=2,
        tiny=True,
        normalization=NORM,
        pixel_size=pixel_size,
        data={"lr_dir": str(lr_dir), "train_images": 1, "val_images": 1, "patch_size": 32},
        validation={"psnr": 31.5, "ssim": 0.81, "step": 10},
    )
    return run


@pytest.fixture(scope="module")
def srcnn_package(tmp_path_factory):
    """srcnn exported with all three weight formats (module-wide: export takes seconds)."""
    from microsr.export.package import ExportOptions, export_package

    root = tmp_path_factory.mktemp("pkg")
    run = make_run(root, "srcnn")
    result = export_package(run, root / "srcnn.zip", ExportOptions(crop=40))
    return run, result
