"""The notebook API (microsr.train / resume / load_model / predict / evaluate, microsr.api.export)
and its displays."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import microsr
from microsr.errors import InputError
from microsr.evaluation.evaluate import bicubic_baseline, evaluate_pair
from microsr.io import read_image
from tests.simulated_pairs import write_pairs

SETTINGS = {
    "data.patch_size": 16,
    "data.batch_size": 2,
    "val_every": 3,
    "data.val_fraction": 0.25,
    "device": "cpu",
}


@pytest.fixture(scope="module")
def pairs(tmp_path_factory):
    return write_pairs(tmp_path_factory.mktemp("pairs"))


def test_import_is_light_and_names_resolve():
    code = "import sys, microsr; assert 'torch' not in sys.modules; print(microsr.train.__module__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "microsr.api.training"
    with pytest.raises(AttributeError):
        microsr.no_such_thing  # noqa: B018


def test_train_stop_resume_predict_evaluate(pairs, tmp_path):
    seen = []
    with pytest.raises(KeyboardInterrupt):  # the callback asks to stop after step 4
        microsr.train(
            pairs / "lr",
            pairs / "hr",
            tmp_path / "run",
            model="srcnn",
            steps=6,
            tiny=True,
            progress=False,
            settings=SETTINGS,
            callback=lambda e: seen.append(e.step) or e.step == 4,
        )
    assert seen == [1, 2, 3, 4]
    run = microsr.resume(tmp_path / "run", progress=False)
    assert run.validation["step"] == 6
    assert [r["step"] for r in run.log if r["phase"] == "val"] == ["3", "6"]
    assert "srcnn" in repr(run) and "<table>" in run._repr_html_() and "last validation" in run._repr_html_()
    assert run.plot_losses().axes  # a Figure with axes

    sr = microsr.predict(run, pairs / "lr" / "0.tif")
    assert sr.image.shape == (64, 64) and sr.scale == 2 and sr.pixel_size == pytest.approx(0.0313)
    saved = read_image(sr.save(tmp_path / "sr.tif"))
    np.testing.assert_array_equal(saved.array, sr.image)
    assert saved.pixel_size == pytest.approx(0.0313, rel=1e-4)
    assert sr._repr_html_().count("<img") == 2
    recorded = json.loads((run.folder / "model.json").read_text())["data"]["lr_intensity"]
    fixed = microsr.predict(run, pairs / "lr" / "0.tif", normalization="training").metadata["normalization"]
    assert (fixed["kind"], fixed["vmin"], fixed["vmax"]) == ("fixed", recorded["vmin"], recorded["vmax"])

    gt = read_image(pairs / "hr" / "0.tif").array
    ev = microsr.evaluate(sr, pairs / "hr" / "0.tif", lr=pairs / "lr" / "0.tif")
    # reference: the same scores computed directly with microsr.evaluation.evaluate_pair
    assert ev["model"]["psnr"] == pytest.approx(evaluate_pair(gt, sr.image, fit="affine")["psnr"])
    lr = read_image(pairs / "lr" / "0.tif").array
    assert ev["bicubic"]["ssim"] == pytest.approx(
        evaluate_pair(gt, bicubic_baseline(lr, 2), fit="affine")["ssim"]
    )
    assert ev.ssim_map.shape == ev.error_map.shape == (64, 64)
    assert "bicubic" in ev._repr_html_() and "PSNR" in repr(ev)


def test_array_input_and_bad_input(pairs, tmp_path):
    with pytest.raises(InputError, match="not a training run folder"):
        microsr.resume(tmp_path)
    with pytest.raises(InputError, match="2-D"):
        microsr.evaluate(np.zeros((2, 8, 8)), np.zeros((8, 8)))
    with pytest.raises(InputError, match="shape mismatch"):
        microsr.evaluate(np.random.rand(16, 16), np.random.rand(32, 32))


def test_tile_options_are_checked_as_the_cli_does(pairs, tmp_path):
    from microsr.inference.large import predict_large
    from microsr.inference.predict import predict_image
    from microsr.inference.tiling import check_tiling
    from microsr.modelcard import load_model_folder

    run = microsr.train(
        pairs / "lr", pairs / "hr", tmp_path / "run", model="srcnn", steps=1, tiny=True, progress=False,
        settings=SETTINGS,
    )  # fmt: skip
    image = read_image(pairs / "lr" / "0.tif")
    cases = [
        (32, 17, "--overlap 17 is more than half the tile (32 px)"),
        (8, 0, "--tile must be at least 16 pixels"),
        (48, -1, "--overlap must be >= 0"),
    ]
    net, info = load_model_folder(run.folder, device="cpu")
    for tile, overlap, expected in cases:
        with pytest.raises(InputError) as cli:  # what `microsr predict --tile --overlap` says
            check_tiling(tile, overlap)
        with pytest.raises(InputError) as api:
            microsr.predict(tmp_path / "missing-model", image, tile=tile, overlap=overlap)  # before loading
        with pytest.raises(InputError) as direct:
            predict_image(net, info, image, tile=tile, overlap=overlap)
        assert expected in str(cli.value)
        with pytest.raises(InputError) as large:  # block-wise (OME-Zarr) prediction, before loading
            predict_large(
                tmp_path / "missing-model", image.path, tmp_path / "out.ome.zarr", tile=tile, overlap=overlap
            )
        assert str(api.value) == str(direct.value) == str(large.value) == str(cli.value)


def test_load_model_and_export_a_package(pairs, tmp_path):
    pytest.importorskip("bioimageio.core")
    from microsr.api import export

    run = microsr.train(
        pairs / "lr", pairs / "hr", tmp_path / "run", model="srcnn", steps=2, tiny=True, progress=False,
        settings=SETTINGS,
    )  # fmt: skip
    package = export(run, tmp_path / "srcnn.zip", formats=["pytorch_state_dict", "torchscript"])
    assert package.path.is_file() and set(package.errors) == {"pytorch_state_dict", "torchscript"}
    assert max(package.errors.values()) < 1e-5  # each format reproduces microsr's prediction
    assert "srcnn.zip" in repr(package) and "max difference from microsr" in package._repr_html_()

    folder, zipped = microsr.load_model(run), microsr.load_model(package)
    assert folder.kind == "training run" and zipped.kind == "bioimage.io package"
    assert "srcnn" in repr(zipped) and "<table>" in zipped._repr_html_()
    image = pairs / "lr" / "1.tif"
    # reference: the run folder's own prediction; the package must give the same image
    ref = microsr.predict(folder, image, tile=16, overlap=4)
    got = microsr.predict(package, image, tile=16, overlap=4)
    np.testing.assert_allclose(got.image, ref.image, atol=1e-5)
    assert got.pixel_size == pytest.approx(ref.pixel_size)
    scripted = microsr.load_model(package.path, weight_format="torchscript")
    np.testing.assert_allclose(
        microsr.predict(scripted, image, tile=16, overlap=4).image, ref.image, atol=1e-5
    )
    with pytest.raises(InputError, match="weight_format is for bioimage.io packages"):
        microsr.load_model(run, weight_format="onnx")
    with pytest.raises(InputError, match="neither a training run folder"):
        microsr.load_model(pairs / "lr")
    with pytest.raises(InputError, match="model not found"):
        microsr.predict(tmp_path / "nothing.zip", image)
    with pytest.raises(InputError, match="normalises as its rdf.yaml says"):
        microsr.predict(package, image, normalization="training")


def test_plots_do_not_switch_the_matplotlib_backend(tmp_path):
    """A notebook's inline backend must survive microsr's figures (here: the svg backend)."""
    code = f"""
import matplotlib, numpy as np
from pathlib import Path
from microsr.evaluation import compare, figures, profiles
rows = [{{"image": "a", "model": m, "psnr": v}} for m, v in (("x", 1.0), ("y", 2.0))]
compare.box_plots(rows, ["psnr"])
Path(r"{tmp_path}/log.csv").write_text("step,loss\\n1,0.5\\n2,0.4\\n")
figures.loss_curves_from_log(Path(r"{tmp_path}/log.csv"))
profiles.plot_profiles(np.arange(3.0), [])
import matplotlib.pyplot as plt
print(matplotlib.get_backend(), len(plt.get_fignums()))
"""
    env = {"MPLBACKEND": "svg", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["svg", "0"]


def test_train_without_a_model_uses_the_budget_recipe_as_the_cli_does(pairs, tmp_path):
    import yaml

    from microsr.engine.budget import RECOMMENDED_MODEL, budget_recipe

    run = microsr.train(pairs / "lr", pairs / "hr", tmp_path / "run", steps=3, tiny=True, progress=False,
                        settings=SETTINGS)  # fmt: skip
    cfg = yaml.safe_load((run.folder / "config.yaml").read_text())
    expected = budget_recipe(None, 3)  # what `microsr train` with no --model records
    assert cfg["recipe"] == "budget" and cfg["model"]["name"] == RECOMMENDED_MODEL
    assert cfg["optimizer"]["lr"] == expected["optimizer.lr"] and cfg["loss"] == expected["loss"]
    assert cfg["data"]["augment"] is False and cfg["data"]["patch_size"] == 16  # settings win
    named = microsr.train(pairs / "lr", pairs / "hr", tmp_path / "srcnn", model="srcnn", steps=1, tiny=True,
                          progress=False, settings=SETTINGS)  # fmt: skip
    cfg = yaml.safe_load((named.folder / "config.yaml").read_text())
    assert cfg["model"]["name"] == "srcnn" and cfg.get("recipe") is None and cfg["data"]["augment"] is True
