"""napari reader: MRC and TIFF files through microsr's reader, with their pixel size as the scale.

napari's built-in TIFF reader ignores ImageJ/OME pixel sizes and it has no MRC reader; here each
file becomes one image layer whose ``scale`` is the pixel size in micrometres (``units`` µm), so
layers from different files overlay in physical space. Colour files become RGB layers.
"""

from __future__ import annotations

from pathlib import Path

from microsr.io import read_image
from microsr.napari._layers import physical_kwargs

EXTENSIONS = (".mrc", ".tif", ".tiff")


def read_layers(path: str | list[str]) -> list[tuple]:
    """Layer data tuples for one file or a list of files."""
    layers = []
    for p in [path] if isinstance(path, str) else path:
        image = read_image(p)
        meta = {"path": str(p), "axes": image.axes, "pixel_size_um": image.pixel_size}
        kwargs = {"name": Path(p).stem, "metadata": meta, "rgb": image.axes.endswith("YXC")}
        if not kwargs["rgb"]:
            kwargs.update(physical_kwargs(image.pixel_size, image.array.ndim))
        layers.append((image.array, kwargs, "image"))
    return layers


def get_reader(path: str | list[str]):
    """npe2 reader hook: :func:`read_layers` for MRC/TIFF paths, ``None`` for anything else."""
    paths = [path] if isinstance(path, str) else list(path)
    if not paths or not all(str(p).lower().endswith(EXTENSIONS) for p in paths):
        return None
    return read_layers
