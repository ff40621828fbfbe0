"""Batch norm folded into the convolution before it at prediction (inference/fusion.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from microsr.inference import cluster, fusion
from microsr.inference.fusion import conv_bn_pairs, fold_batch_norm
from microsr.inference.predict import predict_path
from microsr.inference.tiling import predict_tiled
from microsr.io import write_image
from microsr.modelcard import save_model_folder
from microsr.models import create_model


def _with_statistics(model: nn.Module) -> nn.Module:
    """Running statistics of data (a few training-mode passes), far from the initial 0 and 1."""
    model.train()
    with torch.no_grad():
        for _ in range(3):
            model(torch.rand(4, 1, 24, 24) * 3 + 1)
    return model.eval()


def _count(model: nn.Module, kind: type) -> int:
    return sum(isinstance(m, kind) for m in model.modules())


# (model, batch norms that do not follow a convolution): DenseED's dense layers are
# BN -> ReLU -> conv (nothing to fold into), its transitions conv -> BN
@pytest.mark.parametrize(
    "name, unfolded", [("dncnn", 0), ("srresnet", 0), ("unet-n2n", 0), ("denseed-1-1-1", 6)]
)
def test_folded_model_computes_the_same_function(name, unfolded):
    torch.manual_seed(0)
    model = _with_statistics(create_model(name, 1, 1, 2, tiny=True))
    n_bn, keys = _count(model, nn.BatchNorm2d), set(model.state_dict())
    fused = fold_batch_norm(model)
    assert fused is not model and n_bn > unfolded
    assert _count(fused, nn.BatchNorm2d) == unfolded and len(conv_bn_pairs(model)) == n_bn - unfolded
    # the caller's model keeps its layers and state dict (it can still train and export)
    assert _count(model, nn.BatchNorm2d) == n_bn and set(model.state_dict()) == keys
    x = torch.rand(2, 1, 24, 24)
    with torch.inference_mode():
        want, got = model(x), fused(x)
    assert torch.allclose(got, want, atol=1e-5, rtol=1e-5)


def test_models_without_batch_norm_are_used_as_they_are():
    model = create_model("care-unet-k3", 1, 1, 2, tiny=True)
    assert fold_batch_norm(model) is model


def test_tiled_prediction_folds_a_copy_and_matches_the_model():
    torch.manual_seed(1)
    model = _with_statistics(create_model("dncnn", 1, 1, 2, tiny=True))
    image = np.random.default_rng(0).random((40, 40), dtype=np.float32)
    out = predict_tiled(model, image, 2, tile=48, overlap=8, channels_last=False)
    assert _count(model, nn.BatchNorm2d) > 0  # not changed in place
    with torch.inference_mode():
        want = model(torch.from_numpy(image)[None, None])[0, 0].numpy()
    np.testing.assert_allclose(out, want, atol=1e-5)


def test_a_stack_folds_once_for_all_its_planes(tmp_path, monkeypatch):
    torch.manual_seed(2)
    model = _with_statistics(create_model("dncnn", 1, 1, 2, tiny=True))
    run = save_model_folder(
        tmp_path / "run", model, name="dncnn", scale=2, tiny=True, normalization={"kind": "percentile"}
    )
    src = tmp_path / "stack.tif"
    write_image(src, np.random.default_rng(0).random((3, 24, 24), dtype=np.float32), "ZYX")
    folds = []
    monkeypatch.setattr(fusion, "fuse_conv_bn_eval", lambda c, b: folds.append(1) or fuse_conv_bn_eval(c, b))
    predict_path(run, src, tmp_path / "out.tif", tile=16, overlap=8)
    assert len(folds) == len(conv_bn_pairs(model)) > 0  # once, not once per plane


def test_block_wise_workers_keep_one_folded_model(monkeypatch):
    monkeypatch.setattr(cluster, "_MODELS", {})  # this process's cache, emptied again afterwards
    model = _with_statistics(create_model("dncnn", 1, 1, 2, tiny=True))
    ref = cluster.ModelRef("somewhere")
    cluster.remember(ref, model, "info")
    kept, info = cluster.worker_model(ref)
    assert info == "info" and conv_bn_pairs(kept) == [] and cluster.worker_model(ref)[0] is kept
    assert _count(model, nn.BatchNorm2d) > 0  # the caller's model is not changed
