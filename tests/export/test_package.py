"""A microsr package: what it holds, `bioimageio test`, and predictions equal to the run folder's."""

from __future__ import annotations

import subprocess
import sys
import zipfile

import numpy as np
import pytest
import yaml
from PIL import Image

from microsr.cli.main import main
from microsr.io import read_image, write_image
from tests.export.conftest import blobs


def test_bioimageio_test_passes(srcnn_package):
    from bioimageio.core import test_model

    _, result = srcnn_package
    summary = test_model(result.path)
    failed = [(d.name, [e.msg for e in d.errors]) for d in summary.details if d.status == "failed"]
    assert summary.status == "passed", failed
    tested = {d.name for d in summary.details}
    for fmt in ("pytorch_state_dict", "torchscript", "onnx"):
        assert any(fmt in name for name in tested)


def test_package_contents(srcnn_package):
    _, result = srcnn_package
    with zipfile.ZipFile(result.path) as zf:
        names = set(zf.namelist())
        doc = yaml.safe_load(zf.read("rdf.yaml"))
        readme = zf.read("README.md").decode()
        with zf.open("cover.png") as fh:
            cover = Image.open(fh).size
    assert {"architecture.py", "weights.pt", "weights_torchscript.pt", "weights.onnx"} <= names
    assert "# Validation" in readme and "31.5" in readme and "output units" in readme
    assert cover[0] == 2 * cover[1]
    x_in, x_out = doc["inputs"][0]["axes"][3], doc["outputs"][0]["axes"][3]
    assert (x_in["unit"], x_in["scale"]) == ("micrometer", 0.1)
    assert x_out["scale"] == pytest.approx(0.05) and x_out["halo"] >= 2
    assert x_out["size"] == {"tensor_id": "raw", "axis_id": "x"}
    pre = next(p for p in doc["inputs"][0]["preprocessing"] if p["id"] == "scale_range")
    assert pre["kwargs"]["min_percentile"] == 2.0 and pre["kwargs"]["max_percentile"] == 99.8
    assert doc["weights"]["onnx"]["opset_version"] == 18
    assert any("arxiv.org/abs/1501.00092" in c.get("url", "") for c in doc["cite"])
    assert max(result.errors.values()) <= 1e-4


def test_standalone_architecture_runs_without_microsr(srcnn_package, tmp_path):
    """architecture.py + weights.pt reproduce the test output in a Python where microsr cannot import."""
    _, result = srcnn_package
    with zipfile.ZipFile(result.path) as zf:
        zf.extractall(tmp_path)
    kwargs = yaml.safe_load((tmp_path / "rdf.yaml").read_text())["weights"]["pytorch_state_dict"]
    code = f"""
import sys, importlib.abc, numpy as np, torch
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "microsr" or name.startswith("microsr."):
            raise ImportError("microsr is blocked")
sys.meta_path.insert(0, Block())
sys.path.insert(0, {str(tmp_path)!r})
import architecture
net = architecture.MicrosrNetwork(**{kwargs["architecture"]["kwargs"]!r}).eval()
net.load_state_dict(torch.load({str(tmp_path / "weights.pt")!r}, weights_only=True))
x = np.load({str(tmp_path / "test_input.npy")!r}).astype(np.float64)
lo, hi = np.percentile(x, [2.0, 99.8])
y = net(torch.from_numpy(((x - lo) / (hi - lo)).astype(np.float32))).detach().numpy()
ref = np.load({str(tmp_path / "test_output.npy")!r})
print(float(np.abs(y - ref).max() / (ref.max() - ref.min())))
"""
    out = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert float(out.stdout.strip().splitlines()[-1]) < 1e-5


@pytest.mark.parametrize("fmt", ["pytorch_state_dict", "torchscript", "onnx"])
def test_predict_through_package_equals_run_folder(srcnn_package, tmp_path, fmt):
    run, result = srcnn_package
    write_image(tmp_path / "in" / "a.tif", blobs((52, 60), seed=3))
    for tile in ("256", "32"):  # whole image, and tiles of 32 LR pixels
        args = ["--input", str(tmp_path / "in"), "--tile", tile, "--overlap", "8", "--device", "cpu"]
        assert main(["predict", "--model", str(run), "--output", str(tmp_path / f"r{tile}"), *args]) == 0
        pkg = [
            "predict",
            "--model",
            str(result.path),
            "--weight-format",
            fmt,
            "--output",
            str(tmp_path / f"p{tile}"),
        ]
        assert main([*pkg, *args]) == 0
        ref = read_image(tmp_path / f"r{tile}" / "a.tif").array
        got = read_image(tmp_path / f"p{tile}" / "a.tif").array
        assert got.shape == ref.shape == (104, 120)
        assert np.abs(got - ref).max() <= 1e-4 * (ref.max() - ref.min())


def test_onnx_runs_with_onnxruntime_alone(srcnn_package, tmp_path):
    """The docs/sharing.md recipe, in a Python where torch and microsr cannot be imported."""
    _, result = srcnn_package
    write_image(tmp_path / "cell.tif", blobs((40, 48), seed=5))
    code = f"""
import sys, importlib.abc
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("torch", "microsr"):
            raise ImportError(name + " is blocked")
sys.meta_path.insert(0, Block())
import zipfile, numpy as np, onnxruntime as ort, tifffile
session = ort.InferenceSession(zipfile.ZipFile({str(result.path)!r}).read("weights.onnx"))
img = tifffile.imread({str(tmp_path / "cell.tif")!r}).astype(np.float32)
lo, hi = np.percentile(img, [2, 99.8])
x = ((img - lo) / (hi - lo)).astype(np.float32)[None, None]
y = session.run(None, {{"raw": x}})[0][0, 0]
np.save({str(tmp_path / "y.npy")!r}, y)
"""
    out = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    run, _ = srcnn_package
    assert (
        main(
            [
                "predict",
                "--model",
                str(run),
                "--input",
                str(tmp_path / "cell.tif"),
                "--output",
                str(tmp_path / "o"),
            ]
        )
        == 0
    )
    ref = read_image(tmp_path / "o" / "cell.tif").array
    assert np.abs(np.load(tmp_path / "y.npy") - ref).max() <= 1e-4 * (ref.max() - ref.min())


def test_training_intensity_range_travels_in_the_package(tmp_path):
    """``export --normalization training``: rdf.yaml states the run's training range as
    ``scale_linear``, ``bioimageio test`` passes, and the package predicts as the run folder does
    with ``--normalization training``."""
    import json

    from bioimageio.core import test_model

    from tests.export.conftest import make_run

    run = make_run(tmp_path, "srcnn")
    card = json.loads((run / "model.json").read_text())
    card["data"]["lr_intensity"] = {"vmin": 150.0, "vmax": 2650.0}
    (run / "model.json").write_text(json.dumps(card))
    out = tmp_path / "fixed.zip"
    export = ["export", "--model", str(run), "--out", str(out), "--formats", "pytorch_state_dict"]
    assert main([*export, "--normalization", "training"]) == 0
    with zipfile.ZipFile(out) as zf:
        rdf = yaml.safe_load(zf.read("rdf.yaml"))
    steps = {s["id"]: s.get("kwargs") for s in rdf["inputs"][0]["preprocessing"]}
    assert steps["scale_linear"] == pytest.approx({"gain": 1 / 2500, "offset": -150 / 2500})
    assert test_model(out).status == "passed"
    write_image(tmp_path / "in" / "a.tif", blobs((52, 60), seed=3))
    args = ["--input", str(tmp_path / "in"), "--device", "cpu"]
    assert (
        main(
            [
                "predict",
                "--model",
                str(run),
                "--output",
                str(tmp_path / "r"),
                "--normalization",
                "training",
                *args,
            ]
        )
        == 0
    )
    assert main(["predict", "--model", str(out), "--output", str(tmp_path / "p"), *args]) == 0
    ref, got = (read_image(tmp_path / d / "a.tif").array for d in ("r", "p"))
    assert np.abs(got - ref).max() <= 1e-4 * (ref.max() - ref.min())
