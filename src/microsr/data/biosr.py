"""BioSR-style widefield images from raw SIM frames (the DFCAN pipeline's LR input).

A 2-D SIM acquisition records 9 raw frames (3 pattern angles x 3 phases); their average cancels
the illumination pattern and gives the widefield image (Qiao et al. 2021, BioSR). Accepted layouts:

* ``(9, Y, X)``           one plane -> widefield (Y, X);
* ``(Z*9, Y, X)``         Z planes, each plane's 9 frames consecutive (all angles/phases of plane z
                          before plane z+1, the order SIM microscopes write) -> (Z, Y, X);
* any stack whose leading axes multiply to a multiple of 9 (e.g. an MRC read as "TYX" or "TZYX")
  is treated as the flat frame sequence above.

The order of the 9 frames inside a group does not matter for the average.
"""

from __future__ import annotations

from os import PathLike

import numpy as np

from microsr.errors import InputError
from microsr.io import ImageData, read_image

SIM_FRAMES = 9


def widefield_from_sim(frames: np.ndarray, n_frames: int = SIM_FRAMES) -> np.ndarray:
    """Average groups of ``n_frames`` consecutive raw frames.

    Parameters
    ----------
    frames : np.ndarray
        (n_frames * Z, Y, X) raw SIM frames, any real dtype.
    n_frames : int
        Frames per plane (9 for 3 angles x 3 phases; 15 for 3 x 5).

    Returns
    -------
    np.ndarray
        float32 (Y, X) when Z == 1, else (Z, Y, X); values in the raw frames' units.
    """
    if frames.ndim != 3:
        raise ValueError(f"expected (frames, Y, X), got shape {frames.shape}")
    n = frames.shape[0]
    if n % n_frames or n == 0:
        raise ValueError(f"{n} frames is not a multiple of {n_frames}")
    grouped = frames.reshape(n // n_frames, n_frames, *frames.shape[1:])
    wf = grouped.mean(axis=1, dtype=np.float64).astype(np.float32)
    return wf[0] if wf.shape[0] == 1 else wf


def read_sim_widefield(path: str | PathLike[str], n_frames: int = SIM_FRAMES) -> ImageData:
    """Read raw SIM frames (.mrc or .tif) and return the widefield image.

    Returns
    -------
    ImageData
        array float32 (Y, X) with axes ``"YX"``, or (Z, Y, X) with ``"ZYX"``; the pixel size of
        the raw frames (micrometres, or None); ``metadata["sim_frames"] = n_frames``.

    Raises
    ------
    InputError
        Unreadable file, colour data, or a frame count that is not a multiple of ``n_frames``.
    """
    img = read_image(path)
    if img.axes.endswith("YXC") or "C" in img.axes:
        raise InputError(path, f"raw SIM frames must be single-channel, got axes {img.axes}")
    frames = img.array.reshape(-1, *img.array.shape[-2:])
    if frames.shape[0] % n_frames:
        raise InputError(
            path,
            f"{frames.shape[0]} raw frames is not a multiple of {n_frames} "
            f"(expected {n_frames} frames per plane: 3 angles x 3 phases)",
        )
    wf = widefield_from_sim(frames, n_frames)
    return ImageData(
        wf,
        "YX" if wf.ndim == 2 else "ZYX",
        img.pixel_size,
        img.path,
        {"source": str(img.path), "sim_frames": n_frames},
    )
