"""bfloat16 inference: opt-in, close to float32, refused where the hardware would emulate it."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
import torch

from microsr.errors import InputError
from microsr.inference import precision as prec
from microsr.inference.predict import predict_path
from microsr.inference.tiling import predict_tiled
from microsr.io import read_image
from microsr.modelcard import save_model_folder
from microsr.models import create_model, get_spec, list_models

native = pytest.mark.skipif(
    not prec.bf16_supported(torch.device("cpu")), reason="this CPU has no native bfloat16 (AVX512-BF16/AMX)"
)
MODELS = [m for m in list_models() if get_spec(m).trainable and not get_spec(m).needs_mask]


@native
@pytest.mark.parametrize("name", MODELS)
def test_bf16_is_close_to_fp32_and_really_bf16(name, rng):
    torch.manual_seed(0)
    model = create_model(name, tiny=True)
    x = rng.random((48, 48), dtype=np.float32)
    ref = predict_tiled(model, x, 2, tile=32, overlap=8)
    out = predict_tiled(model, x, 2, tile=32, overlap=8, precision="bf16")
    assert out.dtype == np.float32 and out.shape == ref.shape == (96, 96)
    rel = np.abs(out - ref).max() / max(np.ptp(ref), 1e-6)
    # bfloat16 keeps 8 mantissa bits (relative step 2^-8 = 0.4 %); a few layers of rounding stay
    # within a few percent of the output range, and exact equality would mean no bf16 ran at all
    assert rel < 0.05, f"{name}: bf16 differs by {rel:.3%} of the range"
    assert not np.array_equal(out, ref)


def test_unknown_precision_is_refused():
    with pytest.raises(ValueError, match="unknown precision 'fp8'.*fp32, bf16"):
        prec.check_precision("fp8", torch.device("cpu"))


def test_bf16_refused_without_native_support(monkeypatch, tmp_path, rng):
    monkeypatch.setattr(prec.torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: False)
    with pytest.raises(ValueError, match="bf16 needs native bfloat16 support.*CPU lacks"):
        prec.check_precision("bf16", torch.device("cpu"))
    run = tmp_path / "run"
    save_model_folder(
        run,
        create_model("srcnn", tiny=True),
        name="srcnn",
        scale=2,
        tiny=True,
        normalization={"kind": "percentile", "low": 2.0, "high": 99.8},
    )
    tifffile.imwrite(tmp_path / "a.tif", rng.random((20, 20), dtype=np.float32))
    with pytest.raises(InputError, match="--precision: bf16 needs native"):
        predict_path(run, tmp_path / "a.tif", tmp_path / "out", precision="bf16", progress=False)
    assert not (tmp_path / "out").exists()


@native
def test_cli_precision_flag_is_recorded(tmp_path, rng):
    from typer.testing import CliRunner

    from microsr.cli.main import app

    run = tmp_path / "run"
    torch.manual_seed(0)
    save_model_folder(
        run,
        create_model("edsr-baseline", tiny=True),
        name="edsr-baseline",
        scale=2,
        tiny=True,
        normalization={"kind": "percentile", "low": 2.0, "high": 99.8},
    )
    tifffile.imwrite(tmp_path / "a.tif", rng.random((40, 40), dtype=np.float32))
    res = CliRunner().invoke(
        app,
        [
            "predict",
            "--model",
            str(run),
            "--input",
            str(tmp_path / "a.tif"),
            "--output",
            str(tmp_path / "out"),
            "--precision",
            "bf16",
        ],
    )
    assert res.exit_code == 0, res.output
    assert read_image(tmp_path / "out" / "a.tif").metadata["microsr"]["precision"] == "bf16"
