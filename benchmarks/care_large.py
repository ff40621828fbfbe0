"""Time and peak memory of CSBDeep CARE's tiled ``predict(..., n_tiles=...)`` on one large image.

Runs inside ``benchmarks/.venvs/csbdeep`` (see ``care_helper.py``); called by ``large_images.py``.
CARE is upsampling-free, so the input is an image already on the HR grid (``--size`` px; random
values, since time and memory do not depend on them and a bicubic upsampling of the LR is not
timed). The network is CARE's U-Net with ``--n-first`` filters in the first level (48: about 2 M
parameters, comparable to DFCAN's 1.9 M), random weights. With ``--max-tiles N`` the run stops
after N tiles (the output buffer is allocated at the first tile, so the peak RSS is representative)
and the total time is extrapolated as set-up time (before the first tile: input checks, padding) +
per-tile time x number of tiles, labelled ``complete: false``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402


class _Stop(Exception):
    pass


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--size", type=int, required=True, help="HR-grid image edge (px)")
    p.add_argument("--tile", type=int, default=512, help="HR-grid tile edge; n_tiles = size / tile")
    p.add_argument("--n-first", type=int, default=48)
    p.add_argument("--max-tiles", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--basedir", default="/tmp/care_large")
    a = p.parse_args()

    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(a.threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    import csbdeep.internals.predict as cp
    from csbdeep.models import CARE, Config

    model = CARE(
        Config("YXC", n_channel_in=1, n_channel_out=1, unet_n_first=a.n_first),
        "care_large",
        basedir=a.basedir,
    )
    x = np.random.default_rng(0).random((a.size, a.size), dtype=np.float32)
    model.keras_model.predict(x[None, :64, :64, None], verbose=0)  # warm-up
    n = max(1, a.size // a.tile)
    seen = {"n": 0, "first": None}
    direct = cp.predict_direct

    def counting(*args, **kw):
        if a.max_tiles and seen["n"] >= a.max_tiles:
            raise _Stop
        if seen["first"] is None:
            seen["first"] = time.perf_counter()
        seen["n"] += 1
        return direct(*args, **kw)

    cp.predict_direct = counting
    t0 = time.perf_counter()
    try:
        model.predict(x, "YX", normalizer=None, n_tiles=(n, n))
        complete = True
    except _Stop:
        complete = False
    end = time.perf_counter()
    measured, setup = end - t0, seen["first"] - t0
    total = n * n
    per_tile = (end - seen["first"]) / seen["n"]
    print(
        json.dumps(
            {
                "params": int(model.keras_model.count_params()),
                "size_hr": a.size,
                "n_tiles": [n, n],
                "tiles_run": seen["n"],
                "tiles_total": total,
                "complete": complete,
                "measured_s": measured,
                "setup_s": setup,
                "per_tile_s": per_tile,
                "seconds": measured if complete else setup + per_tile * total,
                "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


if __name__ == "__main__":
    main()
