"""Build BasicSR 1.4.2's RCAN and EDSR for one grey channel, beside torch 2.13 (benchmarks only).

BasicSR's ``torchvision`` requirement does not import with torch 2.13, but its architecture files
only need torch: a stand-in ``torchvision`` module is registered in ``sys.modules`` before the import.
Importing ``basicsr`` itself would pull in its data, metric and model packages (OpenCV, lmdb, ...),
so only ``basicsr/utils/registry.py``, ``basicsr/archs/arch_util.py`` and the two architecture files
are loaded, by path, under stand-in parent packages. Their hard-coded RGB ``mean`` (1, 3, 1, 1) is
replaced with a (1, 1, 1, 1) tensor for one channel.

Install (once): ``python -m venv --system-site-packages benchmarks/.venvs/basicsr &&
benchmarks/.venvs/basicsr/bin/pip install basicsr==1.4.2 --no-deps``.
"""

from __future__ import annotations

import functools
import importlib.util
import sys
import types
from pathlib import Path

import torch


def _stub(name: str, path: Path | None = None, **attrs) -> types.ModuleType:
    mod = types.ModuleType(name)
    if path is not None:
        mod.__path__ = [str(path)]
    mod.__dict__.update(attrs)
    sys.modules[name] = mod
    return mod


def _load(name: str, file: Path) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(name, file)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


@functools.lru_cache(maxsize=1)
def _import_archs():
    spec = importlib.util.find_spec("basicsr")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("basicsr is not installed (see this module's docstring)")
    root = Path(list(spec.submodule_search_locations)[0])
    tv = _stub("torchvision", __version__="0.0-stand-in")
    tv.ops = _stub("torchvision.ops")
    tv.ops.deform_conv2d = None  # only used by DCN layers, which RCAN/EDSR do not have
    _stub("basicsr", root)
    utils = _stub("basicsr.utils", root / "utils", get_root_logger=lambda *a, **k: None)
    utils.registry = _load("basicsr.utils.registry", root / "utils" / "registry.py")
    _stub("basicsr.ops", root / "ops")
    _stub(
        "basicsr.ops.dcn",
        root / "ops" / "dcn",
        ModulatedDeformConvPack=torch.nn.Module,
        modulated_deform_conv=None,
    )
    _stub("basicsr.archs", root / "archs")
    _load("basicsr.archs.arch_util", root / "archs" / "arch_util.py")
    rcan = _load("basicsr.archs.rcan_arch", root / "archs" / "rcan_arch.py")
    edsr = _load("basicsr.archs.edsr_arch", root / "archs" / "edsr_arch.py")
    return rcan.RCAN, edsr.EDSR


# microsr registry name -> (BasicSR class name, keyword arguments giving the same architecture)
EQUIVALENT = {
    "rcan": ("RCAN", dict(num_feat=64, num_group=10, num_block=20, squeeze_factor=16, res_scale=1)),
    "edsr": ("EDSR", dict(num_feat=256, num_block=32, res_scale=0.1)),
    "edsr-baseline": ("EDSR", dict(num_feat=64, num_block=16, res_scale=1)),
}


def create_basicsr(name: str, scale: int = 2) -> torch.nn.Module:
    """BasicSR's version of microsr model ``name`` (a key of :data:`EQUIVALENT`), 1 channel in/out."""
    RCAN, EDSR = _import_archs()
    cls_name, kw = EQUIVALENT[name]
    cls = RCAN if cls_name == "RCAN" else EDSR
    model = cls(num_in_ch=1, num_out_ch=1, upscale=scale, **kw)
    model.mean = torch.zeros(1, 1, 1, 1)
    return model
