"""Train CSBDeep's CARE on bicubic-upsampled LR -> HR pairs and predict a held-out set.

Runs inside the CSBDeep virtual environment (never imported by microsr)::

    python -m venv benchmarks/.venvs/csbdeep
    benchmarks/.venvs/csbdeep/bin/pip install csbdeep==0.8.2 tensorflow-cpu==2.21.0
    benchmarks/.venvs/csbdeep/bin/python benchmarks/care_helper.py --data DATA --out OUT --steps 300

``DATA/train/{up,hr}`` and ``DATA/test/up`` hold TIFFs (``up`` = LR bicubic-upsampled to the HR
grid by the caller with microsr's bicubic, so CARE and microsr see the same pairs). Images are
percentile-normalised (1, 99.8) like CSBDeep's examples; ``--patch`` x ``--patch`` HR-grid patches
are sampled at random (about ``steps * batch`` of them, so that CARE, like microsr's sampler, sees
mostly fresh patches; 16 more for validation, from ``DATA/val/{up,hr}`` when that exists, else from the
training images); the upsampling-free CARE U-Net (depth 2, 32 first filters, kernel 5: the
CSBDeep defaults) trains for ``--steps`` steps of ``--batch`` patches; the held-out images are
predicted with ``predict(..., n_tiles=(1, 1))`` and written as float32 TIFFs to ``OUT/pred``. A
JSON line with parameters and training time is printed last.

``--predict-only`` skips training and predicts ``DATA/test/up`` with the network already in
``OUT/care`` (its best weights); ``--train-norm`` then normalises the test images with the training
images' 1st and 99.8th percentiles (median over images) instead of their own, as ``microsr predict
--normalization training`` does; ``--tta`` averages the predictions of the 8 rotations and mirrors
of each input (undone before averaging), as ``microsr predict --tta all`` does (``--tta flips``: the
4 mirrors, as ``microsr predict --tta flips``), and writes to
``OUT/pred_tta`` (``--pred-name`` chooses another folder).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tifffile  # noqa: E402


def percentile_norm(x, lo=1.0, hi=99.8):
    a, b = np.percentile(x, [lo, hi])
    return ((x - a) / max(b - a, 1e-12)).astype(np.float32)


def dihedral(x, k):
    """Transform ``k`` of 8 (0 = identity): rotate by k % 4 quarter turns, then mirror if k >= 4."""
    x = np.rot90(x, k % 4)
    return x[:, ::-1] if k >= 4 else x


def undo_dihedral(y, k):
    y = y[:, ::-1] if k >= 4 else y
    return np.rot90(y, -(k % 4))


def training_range(src: Path, lo=1.0, hi=99.8) -> tuple[float, float]:
    """Median over the training images of their ``lo`` and ``hi`` percentiles (raw units)."""
    ps = [np.percentile(tifffile.imread(f).astype(np.float32), [lo, hi]) for f in sorted(src.glob("*.tif"))]
    return float(np.median([p[0] for p in ps])), float(np.median([p[1] for p in ps]))


TTA_GROUPS = {None: (0,), "flips": (0, 2, 4, 6), "all": tuple(range(8))}  # as microsr's tta.py


def predict_folder(
    model, src: Path, dst: Path, tta: str | None, fixed: tuple[float, float] | None = None
) -> None:
    """Percentile-normalise each TIFF of ``src``, predict it whole and write float32 to ``dst``.

    ``fixed`` = (value mapped to 0, value mapped to 1): the training images' range instead of each
    image's own percentiles, and no re-normalisation inside ``CARE.predict``.
    """
    dst.mkdir(parents=True, exist_ok=True)
    for f in sorted(src.glob("*.tif")):
        raw = tifffile.imread(f).astype(np.float32)
        x = (
            percentile_norm(raw)
            if fixed is None
            else ((raw - fixed[0]) / (fixed[1] - fixed[0])).astype(np.float32)
        )
        ks = TTA_GROUPS[tta]
        extra = {} if fixed is None else {"normalizer": None}
        ys = [
            undo_dihedral(
                model.predict(np.ascontiguousarray(dihedral(x, k)), "YX", n_tiles=(1, 1), **extra), k
            )
            for k in ks
        ]
        tifffile.imwrite(dst / f.name, np.mean(ys, axis=0).astype(np.float32))


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--patch", type=int, default=64)
    p.add_argument("--lr", type=float, default=4e-4, help="Adam learning rate (CSBDeep's default 4e-4)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0, help="seed of TensorFlow and of the patch draw")
    p.add_argument("--predict-only", action="store_true", help="no training: predict with OUT/care")
    p.add_argument(
        "--tta", nargs="?", const="all", default=None, choices=["flips", "all"],
        help="average over the 8 rotations/mirrors (all, the default) or the 4 mirrors (flips)",
    )  # fmt: skip
    p.add_argument("--pred-name", default=None, help="output folder name in OUT (default pred, or pred_tta)")
    p.add_argument(
        "--train-norm", action="store_true", help="normalise test images with the training images' range"
    )
    a = p.parse_args()

    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(a.threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    tf.keras.utils.set_random_seed(a.seed)
    from csbdeep.models import CARE, Config

    data, out = Path(a.data), Path(a.out)

    def load(split):
        names = sorted(f.name for f in (data / split / "up").glob("*.tif"))
        return (
            [percentile_norm(tifffile.imread(data / split / "up" / n).astype(np.float32)) for n in names],
            [percentile_norm(tifffile.imread(data / split / "hr" / n).astype(np.float32)) for n in names],
        )

    def patches(xs, ys, n, rng):
        X, Y = [], []
        for _ in range(n):
            k = rng.integers(len(xs))
            h, w = xs[k].shape
            i, j = rng.integers(0, h - a.patch + 1), rng.integers(0, w - a.patch + 1)
            X.append(xs[k][i : i + a.patch, j : j + a.patch])
            Y.append(ys[k][i : i + a.patch, j : j + a.patch])
        return np.stack(X)[..., None], np.stack(Y)[..., None]

    pred_dir = out / (a.pred_name or ("pred_tta" if a.tta else "pred"))
    if a.predict_only:
        model = CARE(None, "care", basedir=str(out))
        t1 = time.perf_counter()
        fixed = training_range(data / "train" / "up") if a.train_norm else None
        predict_folder(model, data / "test" / "up", pred_dir, a.tta, fixed)
        print(
            json.dumps(
                {
                    "params": int(model.keras_model.count_params()),
                    "predict_s": time.perf_counter() - t1,
                    "tta": a.tta,
                }
            )
        )
        return

    rng = np.random.default_rng(a.seed)
    n_val = max(a.batch, 16)
    n_train = max(a.steps * a.batch, 128)  # about one fresh patch per training sample
    if (data / "val" / "up").is_dir():  # separate validation images: every training image trains
        X, Y = patches(*load("train"), n_train, rng)
        X_val, Y_val = patches(*load("val"), n_val, rng)
    else:  # validation patches drawn from the training images
        X, Y = patches(*load("train"), n_train + n_val, rng)
        (X_val, X), (Y_val, Y) = (X[:n_val], X[n_val:]), (Y[:n_val], Y[n_val:])
    config = Config(
        "YXC",
        n_channel_in=1,
        n_channel_out=1,
        train_steps_per_epoch=a.steps,
        train_epochs=1,
        train_batch_size=a.batch,
        train_learning_rate=a.lr,
        train_tensorboard=False,
    )
    model = CARE(config, "care", basedir=str(out))
    params = int(model.keras_model.count_params())
    t0 = time.perf_counter()
    model.train(X, Y, validation_data=(X_val, Y_val))
    train_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    predict_folder(model, data / "test" / "up", pred_dir, a.tta)
    print(
        json.dumps(
            {
                "params": params,
                "train_s": train_s,
                "predict_s": time.perf_counter() - t1,
                "steps": a.steps,
                "batch": a.batch,
                "patch_hr": a.patch,
                "lr": a.lr,
                "seed": a.seed,
                "train_patches": int(len(X)),
                "val_patches": int(len(X_val)),
            }
        )
    )


if __name__ == "__main__":
    main()
