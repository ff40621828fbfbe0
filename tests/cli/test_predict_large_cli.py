"""``microsr predict`` with OME-Zarr: a result, and bad input refused in one line, input untouched."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("ome_zarr")

import zarr  # noqa: E402
from ome_zarr.format import FormatV05  # noqa: E402
from ome_zarr.writer import write_image  # noqa: E402

from microsr.cli.main import main  # noqa: E402
from microsr.inference.model_io import save_model_folder  # noqa: E402
from microsr.models import create_model  # noqa: E402


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` with the hash of its bytes."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def setup(tmp_path, rng):
    torch.manual_seed(0)
    save_model_folder(
        tmp_path / "run", create_model("srcnn", tiny=True), name="srcnn", scale=2, tiny=True,
        normalization={"kind": "percentile"},
    )  # fmt: skip
    group = zarr.open_group(str(tmp_path / "in.ome.zarr"), mode="w", zarr_format=3)
    img = rng.integers(0, 60000, (40, 48), dtype=np.uint16)
    write_image(
        img, group, axes="yx", fmt=FormatV05(), scale_factors=(2,), storage_options={"chunks": (20, 24)}
    )
    return tmp_path


def args(t: Path, src: str = "in.ome.zarr", out: str = "out.ome.zarr", *extra: str) -> list[str]:
    return ["predict", "--model", str(t / "run"), "--input", str(t / src), "--output", str(t / out), *extra]


def test_cli_predicts_ome_zarr(setup, capsys):
    assert main(args(setup, "in.ome.zarr", "out.ome.zarr", "--level", "1")) == 0
    assert "out.ome.zarr" in capsys.readouterr().out
    assert zarr.open_array(str(setup / "out.ome.zarr" / "s0"), mode="r").shape == (40, 48)


def _plate(t: Path) -> str:
    zarr.open_group(str(t / "plate.zarr"), mode="w", zarr_format=3).attrs["ome"] = {
        "version": "0.5",
        "plate": {},
    }
    return "plate.zarr"


def _plain(t: Path) -> str:
    zarr.open_group(str(t / "plain.zarr"), mode="w", zarr_format=3).attrs["note"] = "no image here"
    return "plain.zarr"


def _exists(t: Path) -> str:
    (t / "out.ome.zarr").mkdir()
    return "in.ome.zarr"


def _small_chunks(t: Path) -> str:
    group = zarr.open_group(str(t / "small.ome.zarr"), mode="w", zarr_format=3)
    write_image(
        np.ones((16, 16), np.uint16), group, axes="yx", fmt=FormatV05(), storage_options={"chunks": (4, 4)}
    )
    return "small.ome.zarr"


CASES = {
    "not an image": (_plate, [], "not an image group"),
    "no multiscales": (_plain, [], "no multiscales metadata"),
    "missing level": (lambda t: "in.ome.zarr", ["--level", "5"], "level 5 does not exist"),
    "chunks below halo": (_small_chunks, [], "smaller than the model's halo"),
    "block below halo": (lambda t: "in.ome.zarr", ["--block", "4"], "smaller than the model's halo"),
    "scheduler": (
        lambda t: "in.ome.zarr",
        ["--scheduler", "tcp://127.0.0.1:9"],
        "cannot reach the Dask scheduler",
    ),
    "output exists": (_exists, [], "output exists"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_one_line_exit_2_input_untouched(setup, capsys, case):
    make, extra, message = CASES[case]
    src = make(setup)
    before = snapshot(setup / src)
    assert main(args(setup, src, "out.ome.zarr", *extra)) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and message in err and len(err.splitlines()) == 1
    assert snapshot(setup / src) == before
    assert not (setup / ".out.ome.zarr.partial").exists()


def test_training_normalization_reaches_the_blocks(setup):
    """--normalization training on OME-Zarr: every plane normalised with the recorded range."""
    card = setup / "run" / "model.json"
    doc = json.loads(card.read_text())
    doc["data"]["lr_intensity"] = {"vmin": 0.0, "vmax": 60000.0}
    card.write_text(json.dumps(doc))
    assert main(args(setup, "in.ome.zarr", "a.ome.zarr", "--normalization", "training")) == 0
    assert main(args(setup, "in.ome.zarr", "b.ome.zarr")) == 0
    a, b = (zarr.open_array(str(setup / n / "s0"), mode="r")[:] for n in ("a.ome.zarr", "b.ome.zarr"))
    assert a.shape == b.shape == (80, 96) and not np.allclose(a, b)
