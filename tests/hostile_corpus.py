"""Hostile input files built from scratch for the robustness tests (tiny files, made per test).

Each maker writes one file into ``folder`` and returns its path. The bombs are small valid files
whose headers were patched to declare far more pixels than they hold, as the adversarial review of
the command line used them: a TIFF declaring 100000 x 100000 uint16, a PNG beyond Pillow's
decompression-bomb limit, an MRC declaring 100000 x 100000 x 100000 float32.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import Any

import mrcfile
import numpy as np
import tifffile
from PIL import Image

HUGE = 100_000


def _patch_tiff_tags(path: Path, values: dict[str, int]) -> None:
    """Overwrite inline SHORT/LONG tag values of the first page in place."""
    with tifffile.TiffFile(path) as tif:
        tags = tif.pages.first.tags
        fmt = tif.byteorder + "I"
        spots = {name: (tags[name].valueoffset, tags[name].dtype) for name in values}
    with open(path, "r+b") as fh:
        for name, value in values.items():
            offset, dtype = spots[name]
            fh.seek(offset)
            fh.write(struct.pack(fmt if dtype == 4 else fmt.replace("I", "H"), value))


def tiff_bomb(folder: Path, name: str = "bomb.tif") -> Path:
    """A tiled, deflate-compressed TIFF that declares 100000 x 100000 uint16."""
    path = folder / name
    tifffile.imwrite(path, np.zeros((64, 64), np.uint16), tile=(16, 16), compression="zlib")
    _patch_tiff_tags(path, {"ImageWidth": HUGE, "ImageLength": HUGE})
    return path


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(
    folder: Path,
    name: str = "bomb.png",
    width: int = HUGE,
    height: int = HUGE,
    bits: int = 8,
    colour: int = 0,
) -> Path:
    """A PNG whose header declares ``width`` x ``height`` (data: a few rows). ``colour`` is the PNG
    colour type (0 grayscale, 2 RGB); 16-bit RGB is decoded by imagecodecs, the rest by Pillow."""
    path = folder / name
    ihdr = struct.pack(">IIBBBBB", width, height, bits, colour, 0, 0, 0)
    row = width * (3 if colour == 2 else 1) * bits // 8 + 1
    idat = zlib.compress(b"\x00" * row * 2, 9)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )
    return path


def png16_colour_bomb(folder: Path, name: str = "bomb16.png") -> Path:
    """A 16-bit RGB PNG declaring 100000 x 100000."""
    return png_bomb(folder, name, bits=16, colour=2)


def mrc_bomb(folder: Path, name: str = "bomb.mrc") -> Path:
    """An MRC whose header declares 100000^3 float32 values (holds 8 x 8)."""
    path = folder / name
    with mrcfile.new(path) as mrc:
        mrc.set_data(np.zeros((8, 8), np.float32))
    with open(path, "r+b") as fh:
        fh.write(struct.pack("<3i", HUGE, HUGE, HUGE))
    return path


def five_d_tiff(folder: Path, name: str = "five_d.tif") -> Path:
    """A plain (no ImageJ/OME metadata) 5-D TIFF: tifffile reports the axes as QQQYX."""
    path = folder / name
    tifffile.imwrite(path, np.zeros((2, 2, 2, 16, 16), np.uint16))
    return path


def float64_huge(folder: Path, name: str = "huge.tif", size: int = 32) -> Path:
    """A float64 image with values near 1e300 (finite, but overflowing float32 and squares)."""
    path = folder / name
    rng = np.random.default_rng(0)
    tifffile.imwrite(path, (1e300 * (0.5 + rng.random((size, size)))).astype(np.float64))
    return path


def small_png(folder: Path, name: str = "ok.png", size: int = 16) -> Path:
    path = folder / name
    Image.fromarray(np.arange(size * size, dtype=np.uint8).reshape(size, size)).save(path)
    return path


def all_nan_weights(model_dir: Path) -> Path:
    """Replace every weight of a model folder's ``best``/``last`` files with NaN."""
    from safetensors.numpy import load_file, save_file

    for kind in ("best", "last"):
        path = model_dir / "weights" / f"{kind}.safetensors"
        state = load_file(str(path))
        save_file({k: np.full_like(v, np.nan) for k, v in state.items()}, str(path))
    return model_dir


def symlink_loop(folder: Path, name: str = "loop") -> Path:
    """``folder/name`` -> ``folder/name.b`` -> ``folder/name``."""
    a, b = folder / name, folder / f"{name}.b"
    a.symlink_to(b)
    b.symlink_to(a)
    return a


def snapshot(root: Path) -> dict[str, str]:
    """Every entry under ``root`` (without following links): its kind and, for files, its bytes' hash."""
    import hashlib
    import os

    seen: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            rel = str(p.relative_to(root))
            if p.is_symlink():
                seen[rel] = "link:" + os.readlink(p)
            elif p.is_dir():
                seen[rel] = "dir"
            else:
                seen[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return seen


def _run(cases: list[dict], root: Path, limit: int) -> list[dict]:
    """Run ``microsr`` on each case in this process (under the address-space ``limit``)."""
    import contextlib
    import io
    import resource
    import traceback

    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    from microsr.cli.main import main

    results = []
    for case in cases:
        before = snapshot(root)
        out, err = io.StringIO(), io.StringIO()
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = main(case["argv"])
        except BaseException:  # noqa: BLE001 - the point is to report anything that escapes
            code = "raised"
            err.write(traceback.format_exc())
        after = snapshot(root)
        changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
        results.append({"id": case["id"], "code": code, "stderr": err.getvalue(), "changed": changed})
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return [dict(r, peak_rss=peak) for r in results]


if __name__ == "__main__":  # python hostile_corpus.py ROOT LIMIT_BYTES < cases.json > results.json
    import json
    import sys

    print(json.dumps(_run(json.load(sys.stdin), Path(sys.argv[1]), int(sys.argv[2]))))


def model_variants(model_dir: Path, root: Path) -> dict[str, tuple[Path, str]]:
    """Copies of a valid srcnn (tiny) model folder, each with one hostile change, and the reason
    (a regular expression) each must be refused with."""
    import json
    import shutil

    doc = json.loads((model_dir / "model.json").read_text())
    arch = doc["architecture"]
    outside = root / "outside.safetensors"
    shutil.copy(model_dir / "weights" / "best.safetensors", outside)
    changes: dict[str, tuple[Any, str]] = {
        "width-huge": (
            {"architecture": {**arch, "name": "edsr", "options": {"n_feats": 10**6}}},
            r"'n_feats' = 1000000 is out of range",
        ),
        "memory-huge": (
            {
                "architecture": {
                    **arch,
                    "name": "edsr",
                    "tiny": False,
                    "options": {"n_feats": 1024, "n_blocks": 256},
                }
            },
            r"the edsr model in .* \(4,8\d\d,\d{3},\d{3} parameters\) would need about \d+\.\d GiB of memory",
        ),
        "scale-inf": ({"architecture": {**arch, "scale": float("inf")}}, r"architecture.scale"),
        "scale-string": ({"architecture": {**arch, "scale": "two"}}, r"architecture.scale"),
        "channels-negative": ({"architecture": {**arch, "in_channels": -1}}, r"architecture.in_channels"),
        "channels-string": ({"architecture": {**arch, "out_channels": "one"}}, r"architecture.out_channels"),
        "options-list": ({"architecture": {**arch, "options": [1, 2]}}, r"architecture.options"),
        "option-object": (
            {"architecture": {**arch, "options": {"n_feats": {"a": 1}}}},
            r"'n_feats' must be a number",
        ),
        "option-nan": (
            {"architecture": {**arch, "name": "edsr", "options": {"res_scale": float("nan")}}},
            r"'res_scale' = nan is not a finite",
        ),
        "normalization-string": ({"normalization": "percentile"}, r"normalization"),
        "weights-string": ({"weights": "weights/best.safetensors"}, r"weights"),
        "weights-int": ({"weights": 5}, r"weights"),
        "weights-parent": (
            {"weights": {"best": "../../x.safetensors"}},
            r"must be relative and inside the model folder",
        ),
        "weights-absolute": (
            {"weights": {"best": str(outside)}},
            r"must be relative and inside the model folder",
        ),
        "not-tiny": (
            {"architecture": {**arch, "tiny": False}},
            r"weights do not match the srcnn architecture .* in the file but",
        ),
    }
    out = {}
    for key, (change, reason) in changes.items():
        folder = root / f"model-{key}"
        shutil.copytree(model_dir, folder)
        (folder / "model.json").write_text(json.dumps({**doc, **change}))
        out[key] = (folder, reason)
    deep = root / "model-nested-deep"
    shutil.copytree(model_dir, deep)
    (deep / "model.json").write_text(
        '{"format": "microsr-model", "architecture": ' + "[" * 100_000 + "]" * 100_000 + "}"
    )
    out["nested-deep"] = (deep, r"not readable JSON \(nested too deeply\)")
    link = root / "model-weights-symlink"
    shutil.copytree(model_dir, link)
    for kind in ("best", "last"):
        (link / "weights" / f"{kind}.safetensors").unlink()
        (link / "weights" / f"{kind}.safetensors").symlink_to(outside)
    out["weights-symlink"] = (link, r"weight file lies outside the model folder")
    return out
