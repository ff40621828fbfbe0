"""Model folders: round trip, old folders, and one clear InputError for every broken folder."""

from __future__ import annotations

import json
import logging

import pytest
import torch

from microsr.errors import InputError
from microsr.modelcard import FORMAT_VERSION, load_model_folder, read_model_json, save_model_folder
from microsr.models import create_model


@pytest.fixture
def folder(tmp_path):
    torch.manual_seed(0)
    model = create_model("edsr-baseline", tiny=True)
    save_model_folder(
        tmp_path / "run",
        model,
        name="edsr-baseline",
        scale=2,
        tiny=True,
        normalization={"kind": "percentile", "low": 1.0, "high": 99.5},
        validation={"psnr": 30.0},
    )
    return tmp_path / "run", model


def test_round_trip(folder):
    path, model = folder
    loaded, info = load_model_folder(path, device="cpu")
    assert info.name == "edsr-baseline" and info.scale == 2 and info.tiny and not info.needs_mask
    assert info.normalization["high"] == 99.5 and info.weights.name == "best.safetensors"
    assert info.raw["validation"]["psnr"] == 30.0 and info.raw["format"] == "microsr-model"
    assert info.card.format_version == FORMAT_VERSION
    for k, v in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[k], v)
    assert not loaded.training
    # the json file itself is accepted too
    assert load_model_folder(path / "model.json", device="cpu")[1].folder == path


def test_missing_best_falls_back_to_last(folder, caplog):
    path, _ = folder
    (path / "weights" / "best.safetensors").unlink()
    with caplog.at_level(logging.WARNING, logger="microsr.inference"):
        _, info = load_model_folder(path, device="cpu")
    assert info.weights.name == "last.safetensors" and "best.safetensors not found" in caplog.text


def test_missing_folder_and_files(tmp_path, folder):
    with pytest.raises(InputError, match="model folder not found"):
        load_model_folder(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no model.json"):
        load_model_folder(tmp_path / "empty")
    path, _ = folder
    for f in (path / "weights").iterdir():
        f.unlink()
    with pytest.raises(InputError, match="no weights"):
        load_model_folder(path)


@pytest.mark.parametrize(
    "text,match",
    [
        ("{not json", "not readable JSON"),
        ('{"format": "csbdeep/0.6"}', "unknown model format 'csbdeep/0.6'"),
        ('["microsr-model/1"]', "unknown model format"),
        ('{"format": "microsr-model/1"}', "architecture: Field required"),
        (
            '{"format": "microsr-model/1", "architecture": {"name": "dfcan", "scale": "x"}}',
            "architecture.scale",
        ),
        (
            '{"format": "microsr-model/1", "architecture": {"name": "dfcan", "scale": 0}}',
            "architecture.scale",
        ),
        (
            '{"format": "microsr-model", "format_version": 9, "architecture": {"name": "dfcan", "scale": 2}}',
            "written by a newer microsr",
        ),
        (
            '{"format": "microsr-model", "architecture": {"name": "dfcan", "scale": 2, "in_channels": 0}}',
            "architecture.in_channels",
        ),
        (
            '{"format": "microsr-model", "architecture": {"name": "dfcan", "scale": 2},'
            ' "weights": {"best": "/etc/best.safetensors"}}',
            "must be relative and inside",
        ),
        (
            '{"format": "microsr-model", "architecture": {"name": "dfcan", "scale": 2},'
            ' "weights": {"best": "../other/best.safetensors"}}',
            "must be relative and inside",
        ),
        (
            '{"format": "microsr-model/1", "architecture": {"name": "no-such-net", "scale": 2}}',
            "unknown model",
        ),
    ],
)
def test_bad_model_json(folder, text, match):
    path, _ = folder
    (path / "model.json").write_text(text)
    with pytest.raises(InputError, match=match) as err:
        load_model_folder(path)
    assert "model.json" in str(err.value) or str(path) in str(err.value)


def test_corrupt_and_mismatched_weights(folder):
    path, _ = folder
    best = path / "weights" / "best.safetensors"
    best.write_bytes(b"\x00garbage" * 10)
    with pytest.raises(InputError, match="corrupt") as err:
        load_model_folder(path)
    assert err.value.path == str(best)
    other = create_model("edsr-baseline", tiny=True, n_feats=4)
    save_model_folder(path, other, name="edsr-baseline", scale=2, tiny=True, which="best")
    doc = read_model_json(path)  # model.json now says n_feats default; weights have 4 features
    assert doc["architecture"]["options"] == {}
    with pytest.raises(InputError, match="do not match"):
        load_model_folder(path)


def test_bad_options_and_weights_choice(folder):
    path, _ = folder
    doc = json.loads((path / "model.json").read_text())
    doc["architecture"]["options"] = {"no_such_option": 3}
    (path / "model.json").write_text(json.dumps(doc))
    with pytest.raises(InputError, match="options do not fit"):
        load_model_folder(path)
    with pytest.raises(InputError, match="best' or 'last"):
        load_model_folder(path, weights="newest")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "name,needs",
    [("geometry-prior", True), ("sftgan", True), ("geometry-prior-full", False), ("srcnn", False)],
)
def test_needs_mask_only_when_forward_takes_one(tmp_path, name, needs):
    save_model_folder(tmp_path / name, create_model(name, tiny=True), name=name, scale=2, tiny=True)
    assert load_model_folder(tmp_path / name, device="cpu")[1].needs_mask is needs


def test_old_folder_without_format_version_still_loads(folder):
    """A folder written before the schema: format "microsr-model/1", no format_version, no pixel_size."""
    path, model = folder
    doc = json.loads((path / "model.json").read_text())
    doc["format"] = "microsr-model/1"
    del doc["format_version"], doc["pixel_size"]
    (path / "model.json").write_text(json.dumps(doc))
    loaded, info = load_model_folder(path, device="cpu")
    assert info.card.format_version == 1 and info.card.pixel_size is None
    x = torch.rand(1, 1, 12, 12)
    with torch.no_grad():
        assert torch.equal(loaded(x), model.eval()(x))


def test_writes_are_atomic_and_leave_no_temporaries(folder):
    path, _ = folder
    names = sorted(p.name for p in path.rglob("*"))
    assert names == ["best.safetensors", "last.safetensors", "model.json", "weights"]
