"""MRC files (cryo-EM/BioSR) via mrcfile.

A 2-D MRC is ``"YX"``; a volume (space group 1 or other non-zero) is ``"ZYX"``; an image stack (space
group 0, mrcfile's ``is_image_stack``, e.g. BioSR's raw SIM frames) is ``"TYX"``; a volume stack is
``"TZYX"``. The voxel size is stored in Ångström; ``pixel_size`` is its X value divided by 10,000
(micrometres), or ``None`` when the header says 0. Headers that mrcfile finds invalid are retried in
permissive mode (several microscope exporters write slightly non-standard headers); the file is
rejected only if no data can be read. MRC has no unsigned 8-bit mode, so uint8 data are written as
uint16 (mode 6) with the same values.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import mrcfile
import numpy as np

from microsr.errors import InputError
from microsr.io.guard import check_pixels
from microsr.io.types import ImageData, one_line

_MRC_DTYPES = (np.int8, np.int16, np.uint16, np.float32, np.uint8)


def read_mrc(path: Path) -> ImageData:
    """Read an MRC file (see module docstring)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _check_header(path)
            try:
                mrc = mrcfile.open(path, mode="r", permissive=False)
            except ValueError:
                mrc = mrcfile.open(path, mode="r", permissive=True)
            with mrc:
                if mrc.data is None:
                    raise InputError(path, "MRC header is invalid and no data could be read")
                array = np.array(mrc.data)
                voxel = float(mrc.voxel_size.x)
                if array.ndim == 4:
                    axes = "TZYX"
                elif array.ndim == 3:
                    axes = "TYX" if mrc.is_image_stack() else "ZYX"
                else:
                    axes = "YX"[-array.ndim :] if array.ndim <= 2 else "?" * array.ndim
    except InputError:
        raise
    except Exception as exc:  # mrcfile raises ValueError/OSError/EOFError on bad files
        raise InputError(path, f"cannot read MRC: corrupt or truncated file ({one_line(exc)})") from exc
    pixel_size = voxel / 1e4 if voxel > 0 else None
    return ImageData(array, axes, pixel_size, path, {"format": "mrc", "voxel_size_angstrom": voxel})


def _check_header(path: Path) -> None:
    """The declared size (NX x NY x NZ, mode) against the pixel limit, before the data are read."""
    with mrcfile.open(path, mode="r", permissive=True, header_only=True) as mrc:
        h = mrc.header
        if h is None:
            return  # mrcfile could not read a header at all; the full open reports it
        try:
            dtype = mrcfile.utils.dtype_from_mode(int(h.mode))
        except ValueError:
            dtype = np.dtype(np.float32)
        check_pixels(path, (int(h.nz), int(h.ny), int(h.nx)), dtype)


def write_mrc(tmp: Path, array: np.ndarray, axes: str, pixel_size: float | None, metadata=None) -> None:
    """Write an MRC file; ``"TYX"`` becomes an image stack, ``"ZYX"`` a volume (no metadata).

    Raises
    ------
    InputError
        For axes or dtypes MRC cannot hold (channels, 5-D, float64, ...).
    """
    name = tmp.name.split(".tmp")[0].lstrip(".") + tmp.suffix
    if axes not in ("YX", "ZYX", "TYX", "TZYX") or array.dtype.type not in _MRC_DTYPES:
        raise InputError(name, f"MRC cannot hold {axes} {array.dtype}; write a .tif instead")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with mrcfile.new(tmp, overwrite=True) as mrc:
            data = array.astype(np.uint16) if array.dtype == np.uint8 else array
            mrc.set_data(np.ascontiguousarray(data))
            if axes == "TYX":
                mrc.set_image_stack()
            elif axes == "TZYX":
                mrc.set_volume()
            if pixel_size is not None:
                mrc.voxel_size = pixel_size * 1e4
