"""The ONNX Runtime inference backend: same predictions as PyTorch within float32 rounding, exported
once and loaded from the cache the second time, refusals in one line."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from microsr.cli.main import app
from microsr.errors import InputError
from microsr.export import backends
from microsr.io import read_image
from microsr.modelcard import load_model_folder

from .conftest import make_run


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MICROSR_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / "onnx"


def test_onnx_backend_predicts_as_torch_and_reuses_its_export(tmp_path, cache, monkeypatch):
    """dfcan: convolutions and the Fourier attention (rfft2, the gather index) at sizes the export
    never saw (the srcnn CLI test below covers a plain convolutional model)."""
    name = "dfcan"
    from microsr.inference.tiling import predict_tiled

    net, info = load_model_folder(make_run(tmp_path, name), device="cpu")
    x = np.random.default_rng(0).random((40, 52), dtype=np.float32)  # non-square, not the export size
    ref = predict_tiled(net, x, 2, tile=32, overlap=8)
    fast = backends.with_backend(net, info, "onnx")
    files = list(cache.glob("*.onnx"))
    assert len(files) == 1 and files[0].name.startswith(name)
    out = predict_tiled(fast, x, 2, tile=32, overlap=8)
    assert out.shape == ref.shape
    assert np.abs(out - ref).max() <= 1e-5 * (ref.max() - ref.min())  # float32 rounding only

    def no_export(*args, **kwargs):
        raise AssertionError("exported again although the cached file matches")

    monkeypatch.setattr("microsr.export.weights.save_onnx", no_export)
    again = backends.with_backend(net, info, "onnx")
    np.testing.assert_array_equal(predict_tiled(again, x, 2, tile=32, overlap=8), out)


def test_cache_key_follows_weights_and_options(tmp_path):
    net, info = load_model_folder(make_run(tmp_path, "srcnn"), device="cpu")
    key = backends.cache_key(net, info)
    assert backends.cache_key(net, info) == key
    with torch.no_grad():
        next(net.parameters()).add_(1e-3)
    assert backends.cache_key(net, info) != key
    info.options = {"gamma": 0.5}  # an option need not change the weights' shapes
    assert len({key, backends.cache_key(net, info)}) == 2


def test_torch_backend_is_the_model_itself(tmp_path):
    net, info = load_model_folder(make_run(tmp_path, "srcnn"), device="cpu")
    assert backends.with_backend(net, info, "torch") is net


def test_refusals_are_one_line(tmp_path, cache):
    net, info = load_model_folder(make_run(tmp_path, "srcnn"), device="cpu")
    cases = [
        (dict(backend="tensorrt"), "--backend must be one of torch, onnx, not 'tensorrt'"),
        (dict(backend="onnx", precision="bf16"), "--backend onnx computes in float32"),
    ]
    for kwargs, message in cases:
        with pytest.raises(InputError, match=message) as info_:
            backends.with_backend(net, info, **kwargs)
        assert "\n" not in str(info_.value)
    info.needs_mask = True
    with pytest.raises(InputError, match="takes a parsing map; use torch"):
        backends.with_backend(net, info, "onnx")
    assert not cache.exists()  # nothing exported for a refused call


def test_cli_backend_onnx_matches_torch(tmp_path, cache):
    run = make_run(tmp_path, "srcnn")
    runner = CliRunner()
    outs = {}
    for backend in ("torch", "onnx", "onnx"):
        out = tmp_path / f"out-{backend}"
        res = runner.invoke(
            app,
            ["predict", "--model", str(run), "--input", str(tmp_path / "lr"), "--out", str(out)]
            + ["--backend", backend, "--tile", "32", "--overlap", "8"],
        )
        assert res.exit_code == 0, res.output
        exported = "exporting srcnn to ONNX once" in res.output
        assert exported == (backend == "onnx" and backend not in outs)  # the first onnx run only
        outs[backend] = read_image(out / "img.tif").array
    ref = outs["torch"]
    assert np.abs(outs["onnx"] - ref).max() <= 1e-5 * (ref.max() - ref.min())


def test_cli_refuses_onnx_for_ome_zarr_output(tmp_path, cache, capsys):
    from microsr.cli.main import main

    run = make_run(tmp_path, "srcnn")
    argv = ["predict", "--model", str(run), "--input", str(tmp_path / "lr" / "img.tif")]
    assert main([*argv, "--out", str(tmp_path / "o.ome.zarr"), "--backend", "onnx"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "--backend onnx is for a training run folder" in err
    assert not (tmp_path / "o.ome.zarr").exists() and not cache.exists()
