"""The notebook API (microsr.train / resume / predict / evaluate) and its displays."""

from __future__ import annotations

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
    assert out.strip() == "microsr.api"
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
