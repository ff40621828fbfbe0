"""Prediction normalisation: each image's own percentiles, or the training data's intensities."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from microsr.errors import InputError
from microsr.inference.predict import predict_path
from microsr.io import read_image, write_image
from microsr.modelcard import load_model_folder, save_model_folder
from microsr.models import create_model


def _folder(tmp_path, data):
    torch.manual_seed(0)
    model = create_model("srcnn", tiny=True)
    norm = {"kind": "percentile", "low": 2.0, "high": 99.8}
    return save_model_folder(
        tmp_path / "run", model, name="srcnn", scale=2, tiny=True, normalization=norm, data=data
    )


def test_training_mode_applies_the_recorded_range(tmp_path):
    run = _folder(tmp_path, {"lr_intensity": {"vmin": 10.0, "vmax": 110.0}})
    assert load_model_folder(run, device="cpu")[1].normalization["kind"] == "percentile"
    norm = load_model_folder(run, device="cpu", normalization="training")[1].normalization
    assert (norm["kind"], norm["vmin"], norm["vmax"]) == ("fixed", 10.0, 110.0)


@pytest.mark.parametrize(
    ("data", "mode", "message"),
    [
        ({}, "training", "does not record its training intensities"),
        ({"lr_intensity": {"vmin": 5.0, "vmax": 5.0}}, "training", "not a usable range"),
        ({"lr_intensity": {"vmin": 0.0, "vmax": 1.0}}, "percentile", "must be one of image, training"),
    ],
)
def test_refusals(tmp_path, data, mode, message):
    with pytest.raises(InputError, match=message):
        load_model_folder(_folder(tmp_path, data), device="cpu", normalization=mode)


def test_a_crop_predicts_as_inside_the_whole_image(tmp_path):
    """With the training intensities a field's prediction does not depend on what else is in the
    image: a crop of dim background predicts as the same region of the whole image (up to the
    network's border), whereas its own percentiles stretch it differently."""
    run = _folder(tmp_path, {"lr_intensity": {"vmin": 0.0, "vmax": 1000.0}})
    rng = np.random.default_rng(0)
    whole = rng.random((64, 64)).astype(np.float32) * 100
    whole[:, 32:] += 900  # bright right half: the whole image's percentiles differ from the crop's
    (tmp_path / "in").mkdir()
    write_image(tmp_path / "in" / "whole.tif", whole)
    write_image(tmp_path / "in" / "crop.tif", whole[:, :24])
    out = {}
    for mode in ("training", "image"):
        predict_path(run, tmp_path / "in", tmp_path / mode, progress=False, normalization=mode, device="cpu")
        w, c = (read_image(tmp_path / mode / f"{n}.tif").array for n in ("whole", "crop"))
        out[mode] = float(np.abs(w[16:-16, 8:32] - c[16:-16, 8:32]).max())
    assert out["training"] < 1e-3 < 1e-2 < out["image"], out  # float32 sums differ by ~1e-4
