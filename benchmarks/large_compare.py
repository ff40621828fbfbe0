"""microsr's block-wise prediction beside bioimageio.core's and CSBDeep CARE's, at one image size, one run.

All three run one after the other as subprocesses on the same machine; each one's peak is the
largest sum of the resident memory of its process and all its children, sampled every 0.1 s
(:func:`large_data.run_measured`); time is wall time of the whole command (start-up included).

* ``microsr``: ``microsr predict --input LR.ome.zarr --output OUT.ome.zarr`` (in-process Dask,
  blocks = the 1024 px input chunks), a tiny ``--model`` network with random weights, x2;
* ``bioimageio.core``: the same model exported by ``microsr export`` (its ``pytorch_state_dict``
  weights), predicted by ``bioimageio.core.predict(..., blocksize_parameter=N)`` (its block-wise
  mode: blocks with the package's halo, stitched in memory), on the same pixels read from a
  ``.npy`` (it takes in-memory arrays); the output is saved to ``.npy``. Blocks are ``--bio-block``
  px, or the image size when that is smaller: bioimageio.core 0.11 refuses an image smaller than
  its block shape (``split_shape_into_blocks``: "shape ... is smaller than block shape"), which is
  what made ``--size 128 --smoke`` fail with the default 1024 px blocks;
* ``csbdeep``: CSBDeep 0.8.2 CARE ``predict(..., n_tiles=...)`` in its own virtual environment
  (``--care-python``), on an image of the *output* size (CARE does not up-sample), its default
  U-Net with 48 first-level filters (about 2 M parameters), random weights, via
  ``benchmarks/care_large.py``. A different network: compare memory scaling, not speed per FLOP.

Usage::

    python benchmarks/large_compare.py --size 2048            # writes results/large_compare.json
    python benchmarks/large_compare.py --size 128 --smoke     # quick check, writes nothing
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from _common import machine, print_table, write_json
from large_data import make_input, make_model, predict_cmd, run_measured

HERE = Path(__file__).resolve().parent


def bioimageio_child(package: str, src: str, dst: str, block_px: int) -> None:
    """Run bioimageio.core's block-wise prediction of ``src`` (.npy, 2-D) into ``dst`` (.npy), with
    the ``blocksize_parameter`` that makes input blocks of about ``block_px`` px (y size min + n step)."""
    import numpy as np
    from bioimageio.core import load_model_description, predict

    model = load_model_description(package)
    tensor = model.inputs[0]
    y = next(ax for ax in tensor.axes if str(ax.id) == "y")
    block = max(0, (block_px - y.size.min) // y.size.step)
    image = np.load(src).astype(np.float32)[None, None]  # (batch, channel, y, x)
    t0 = time.perf_counter()
    sample = predict(model=model, inputs={tensor.id: image}, blocksize_parameter=block)
    out = next(iter(sample.members.values())).data.values
    np.save(dst, out)
    print(json.dumps({"predict_s": round(time.perf_counter() - t0, 1), "output_shape": list(out.shape)}))


def export_run(work: Path, model: str) -> Path:
    """``work/model`` (a tiny random model folder) exported as a bioimage.io package."""
    import numpy as np

    from microsr.export.package import ExportOptions, export_package
    from microsr.io import write_image

    make_model(work / "model", model)
    test = work / "test.tif"  # the package's test image (random, like the benchmark input)
    write_image(test, np.random.default_rng(1).integers(0, 4000, (64, 64), dtype=np.uint16))
    opts = ExportOptions(formats=("pytorch_state_dict",), test_image=test)
    return export_package(work / "model", work / "package.zip", opts).path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=2048, help="LR edge (px); output is 2x")
    ap.add_argument("--model", default="edsr")
    ap.add_argument("--chunk", type=int, default=1024)
    ap.add_argument("--bio-block", type=int, default=1024, help="bioimageio.core input block edge, px")
    ap.add_argument("--care-python", default="/work/venvs/csbdeep/bin/python")
    ap.add_argument("--care-tile", type=int, default=512, help="CARE tile edge on the output grid")
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        bioimageio_child(a.child[0], a.child[1], a.child[2], int(a.child[3]))
        return
    import numpy as np
    import zarr

    work = Path(tempfile.mkdtemp(prefix="microsr-compare-"))
    try:
        package = export_run(work, a.model)
        src = work / "lr.ome.zarr"
        make_input(src, a.size, min(a.chunk, a.size))
        np.save(work / "lr.npy", zarr.open_array(str(src / "s0"), mode="r")[:])
        rows = []
        r = run_measured(predict_cmd(work / "model", src, work / "out.ome.zarr", []))
        rows.append({"tool": "microsr (block-wise, in-process)", "input": f"{a.size}^2 LR", **r})
        print(json.dumps(rows[-1]), flush=True)
        cmd = [sys.executable, __file__, "--child", str(package), str(work / "lr.npy"), str(work / "bio.npy")]
        r = run_measured([*cmd, str(min(a.bio_block, a.size))])  # a block larger than the image is refused
        rows.append(
            {"tool": "bioimageio.core 0.11 predict(blocksize_parameter)", "input": f"{a.size}^2 LR", **r}
        )
        print(json.dumps(rows[-1]), flush=True)
        if Path(a.care_python).is_file():
            care = [a.care_python, str(HERE / "care_large.py"), "--size", str(2 * a.size)]
            care += ["--tile", str(min(a.care_tile, 2 * a.size)), "--basedir", str(work / "care")]
            r = run_measured(care)
            rows.append(
                {"tool": "CSBDeep 0.8.2 CARE predict(n_tiles)", "input": f"{2 * a.size}^2 HR grid", **r}
            )
            print(json.dumps(rows[-1]), flush=True)
        out = zarr.open_array(str(work / "out.ome.zarr" / "s0"), mode="r")[:]
        bio = np.load(work / "bio.npy").reshape(out.shape)
        top = max(float(np.abs(out).max()), 1e-12)
        diff = float(np.abs(out - bio).max() / top)
        inner = float(np.abs(out - bio)[32:-32, 32:-32].max() / top)  # away from the image border
        print_table(rows, ["tool", "input", "seconds", "peak_mib_all_processes"])
        print(
            f"microsr vs bioimageio.core: max |difference| / max |output| = {diff:.2e} ({inner:.2e} inside)"
        )
        payload = {"machine": machine(), "model": f"{a.model} (tiny, random weights)", "lr_size": a.size,
                   "rows": rows, "microsr_vs_bioimageio_max_rel_diff": diff,
                   "microsr_vs_bioimageio_max_rel_diff_inside_32px": inner,
                   "loadavg_end": os.getloadavg()}  # fmt: skip
        if not a.smoke:
            write_json("large_compare", payload)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
