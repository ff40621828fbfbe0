"""Every command on every hostile file, option and output path: one line, exit 2, nothing written.

The corpus (tests/hostile_corpus.py) holds decompression bombs (TIFF, PNG, 16-bit PNG, MRC headers
declaring up to 100000^3 values in a few hundred bytes), a plain 5-D TIFF, float64 values near
1e300, a model folder with all-NaN weights, out-of-range or non-finite options, outputs through a
symbolic-link loop, under a file or onto an input folder, and a simulation of 224 GiB. All cases
run in ONE subprocess whose address space is capped at 2 GiB (``resource.setrlimit``), so a case
that tried to decode a bomb would fail there (as ``out of memory``, which these assertions do not
accept) instead of taking the machine down. Each case must exit with code 2 and print exactly one
line, ``error: ...`` with the expected reason, and leave every file and folder of the corpus as it
was (nothing written under the output path, input bytes unchanged).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from microsr.inference.model_io import save_model_folder
from microsr.io import write_image
from microsr.models import create_model
from tests import hostile_corpus as hc

LIMIT = 2 * 1024**3
BOMB = r"declares .* over the limit of .* values set from the available memory; raise it with --max-pixels"


def _image_cases(root: Path, model: Path) -> list[tuple[str, list[str], str]]:
    makers = {
        "tiff_bomb": (hc.tiff_bomb, BOMB),
        "png_bomb": (hc.png_bomb, BOMB),
        "png16_bomb": (hc.png16_colour_bomb, BOMB),
        "mrc_bomb": (hc.mrc_bomb, BOMB),
        "five_d": (hc.five_d_tiff, r"3 unnamed stack dimensions .* ImageJ hyperstack or OME-TIFF"),
        "float64_1e300": (hc.float64_huge, r"values up to 1.\d+e\+300 exceed the 32-bit float range"),
    }
    cases = []
    for key, (make, reason) in makers.items():
        folder = root / key
        folder.mkdir()
        f = make(folder)
        make(folder, "z_" + f.name)  # training needs two pairs before it reads them
        out = str(root / "outs" / key)
        cases += [
            (
                f"predict-{key}",
                ["predict", "--model", str(model), "--input", str(f), "--output", out],
                reason,
            ),
            (f"degrade-{key}", ["degrade", "--hr", str(folder), "--out", out, "--quiet"], reason),
            (
                f"evaluate-{key}",
                ["evaluate", "--pred", str(folder), "--gt", str(folder), "--out", out],
                reason,
            ),
            (f"resolution-{key}", ["resolution", "--input", str(f)], reason),
            (
                f"train-{key}",
                ["train", "--lr", str(folder), "--hr", str(folder), "--model", "srcnn", "--tiny"]
                + ["--steps", "1", "--out", out, "--quiet"],
                reason,
            ),
        ]
    return cases


def _option_cases(root: Path, good: Path) -> list[tuple[str, list[str], str]]:
    out = str(root / "outs" / "options")
    deg = ["degrade", "--hr", str(good / "hr"), "--out", out, "--quiet"]
    sim = ["simulate", "--structure", "ccps", "--count", "1", "--out", out, "--quiet"]
    train = ["train", "--lr", str(good / "lr"), "--hr", str(good / "hr"), "--model", "srcnn", "--tiny"]
    train += ["--steps", "1", "--out", out, "--quiet"]
    return [
        (
            "degrade-psf-sigma-nan",
            deg + ["--psf-sigma", "nan"],
            r"--psf-sigma must be a finite number, got nan",
        ),
        ("degrade-psf-sigma-1e9", deg + ["--psf-sigma", "1e9"], r"--psf-sigma must be <= 1000"),
        ("degrade-photons-nan", deg + ["--photons", "nan"], r"--photons must be a finite number"),
        ("degrade-photons-1e300", deg + ["--photons", "1e300"], r"--photons must be <= 1e\+09"),
        ("degrade-photons-inf", deg + ["--photons", "inf"], r"--photons must be a finite number"),
        (
            "degrade-read-noise-inf",
            deg + ["--photons", "100", "--read-noise", "inf"],
            r"--read-noise must be",
        ),
        ("degrade-seed-negative", deg + ["--seed", "-1"], r"--seed must be >= 0, got -1"),
        (
            "degrade-pixel-size-1e-9",
            deg + ["--na", "1.4", "--wavelength", "500", "--pixel-size", "1e-9"],
            r"Airy PSF .* px wide \(at most 1000\); check --pixel-size",
        ),
        (
            "degrade-na-nan",
            deg + ["--na", "nan", "--wavelength", "500", "--pixel-size", "30"],
            r"--na must be a",
        ),
        (
            "degrade-int64",
            ["degrade", "--hr", str(root / "int64"), "--out", out],
            r"rescale the image to 0..65535",
        ),
        ("simulate-size-100000", sim + ["--size", "100000"], r"would need about 2\d\d\.\d GiB of memory"),
        ("simulate-seed-negative", sim + ["--seed", "-1"], r"--seed must be >= 0"),
        ("simulate-photons-inf", sim + ["--photons", "inf"], r"--photons must be a finite number"),
        ("train-seed-negative", train + ["--seed", "-1"], r"seed.*greater than or equal to 0"),
        ("train-seed-huge", train + ["--seed", str(2**70)], r"seed.*less than 9223372036854775808"),
    ]


def _output_cases(root: Path, good: Path, model: Path) -> list[tuple[str, list[str], str]]:
    loop = str(hc.symlink_loop(root / "outs"))
    under_file = str(root / "outs" / "a_file" / "sub")
    (root / "outs" / "a_file").write_text("not a folder")
    lr, hr = str(good / "lr"), str(good / "hr")
    loop_reason = r"is a broken symbolic link or a symbolic-link loop"
    cases = []
    for key, target, reason in (
        ("loop", loop, loop_reason),
        ("under-file", under_file, r"is a file, not a folder"),
    ):
        cases += [
            (f"predict-{key}", ["predict", "--model", str(model), "--input", lr, "--output", target], reason),
            (f"degrade-{key}", ["degrade", "--hr", hr, "--out", target, "--quiet"], reason),
            (
                f"simulate-{key}",
                ["simulate", "--structure", "ccps", "--count", "1", "--size", "32"]
                + ["--out", target, "--quiet"],
                reason,
            ),
            (f"evaluate-{key}", ["evaluate", "--pred", hr, "--gt", hr, "--out", target], reason),
            (
                f"train-{key}",
                ["train", "--lr", lr, "--hr", hr, "--model", "srcnn", "--tiny", "--steps", "1"]
                + ["--out", target, "--quiet"],
                reason,
            ),
        ]
    zarr_out = f"{loop}/pred.ome.zarr"  # the block-wise (OME-Zarr) prediction path
    argv = ["predict", "--model", str(model), "--input", str(good / "lr" / "p0.tif"), "--output", zarr_out]
    cases.append(("predict-zarr-loop", argv, loop_reason))
    cases.append(
        (
            "evaluate-out-is-gt",
            ["evaluate", "--pred", hr, "--gt", hr, "--out", hr],
            r"--out is the input folder",
        )
    )
    return cases


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    (root / "outs").mkdir()
    rng = np.random.default_rng(0)
    good = root / "good"
    for i in range(2):
        write_image(good / "hr" / f"p{i}.tif", rng.integers(0, 4000, (32, 32), dtype=np.uint16), "YX", 0.05)
        write_image(good / "lr" / f"p{i}.tif", rng.integers(0, 4000, (16, 16), dtype=np.uint16), "YX", 0.1)
    (root / "int64").mkdir()
    import tifffile

    tifffile.imwrite(root / "int64" / "big.tif", np.full((16, 16), 2**40, np.int64))
    torch.manual_seed(0)
    model = root / "model"
    save_model_folder(model, create_model("srcnn", tiny=True), name="srcnn", scale=2, tiny=True)
    nan_model = hc.all_nan_weights(
        save_model_folder(
            root / "nan_model", create_model("srcnn", tiny=True), name="srcnn", scale=2, tiny=True
        )
    )
    cases = _image_cases(root, model) + _option_cases(root, good) + _output_cases(root, good, model)
    cases.append(
        (
            "predict-all-nan-weights",
            [
                "predict",
                "--model",
                str(nan_model),
                "--input",
                str(good / "lr"),
                "--output",
                str(root / "outs" / "n"),
            ],
            r"the model's weights hold NaN or infinite values .* training diverged",
        )
    )
    for key, (folder, reason) in hc.model_variants(model, root).items():
        argv = [
            "predict",
            "--model",
            str(folder),
            "--input",
            str(good / "lr"),
            "--output",
            str(root / "outs" / key),
        ]
        cases.append((f"predict-model-{key}", argv, reason))
    payload = json.dumps([{"id": c[0], "argv": c[1]} for c in cases])
    proc = subprocess.run(
        [sys.executable, hc.__file__, str(root), str(LIMIT)],
        input=payload,
        capture_output=True,
        text=True,
        timeout=600,
        env={**__import__("os").environ, "MALLOC_ARENA_MAX": "2", "OMP_NUM_THREADS": "1"},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = {r["id"]: r for r in json.loads(proc.stdout)}
    return {c[0]: (c[2], results[c[0]]) for c in cases}


MODEL_CASES = (
    "width-huge",
    "memory-huge",
    "scale-inf",
    "scale-string",
    "channels-negative",
    "channels-string",
    "options-list",
    "option-object",
    "option-nan",
    "normalization-string",
    "weights-string",
    "weights-int",
    "weights-parent",
    "weights-absolute",
    "not-tiny",
    "nested-deep",
    "weights-symlink",
)
CASE_IDS = (
    [
        f"{cmd}-{key}"
        for key in ("tiff_bomb", "png_bomb", "png16_bomb", "mrc_bomb", "five_d", "float64_1e300")
        for cmd in ("predict", "degrade", "evaluate", "resolution", "train")
    ]
    + [
        "degrade-psf-sigma-nan",
        "degrade-psf-sigma-1e9",
        "degrade-photons-nan",
        "degrade-photons-1e300",
        "degrade-photons-inf",
        "degrade-read-noise-inf",
        "degrade-seed-negative",
        "degrade-pixel-size-1e-9",
        "degrade-na-nan",
        "degrade-int64",
        "simulate-size-100000",
        "simulate-seed-negative",
        "simulate-photons-inf",
        "train-seed-negative",
        "train-seed-huge",
    ]
    + [
        f"{cmd}-{key}"
        for key in ("loop", "under-file")
        for cmd in ("predict", "degrade", "simulate", "evaluate", "train")
    ]
    + ["predict-zarr-loop", "evaluate-out-is-gt", "predict-all-nan-weights"]
    + [f"predict-model-{key}" for key in MODEL_CASES]
)


@pytest.mark.parametrize("case", CASE_IDS)
def test_refused_in_one_line(corpus, case):
    reason, r = corpus[case]
    lines = r["stderr"].strip().splitlines()
    assert r["code"] == 2, r["stderr"][-2000:]
    assert len(lines) == 1 and lines[0].startswith("error: "), r["stderr"][-2000:]
    assert "Traceback" not in r["stderr"]
    assert re.search(reason, lines[0]), lines[0]
    assert r["changed"] == [], f"wrote or changed {r['changed']}"


def test_every_case_is_listed(corpus):
    assert sorted(corpus) == sorted(CASE_IDS)


def test_corpus_process_stayed_under_the_ceiling(corpus):
    _, r = next(iter(corpus.values()))
    assert r["peak_rss"] < LIMIT
