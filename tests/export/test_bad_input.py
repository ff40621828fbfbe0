"""Bad input to `microsr export` and to `microsr predict --model PACKAGE`: one line, exit 2, no zip."""

from __future__ import annotations

import zipfile

import yaml

from microsr.cli.main import main
from microsr.io import write_image
from tests.export.conftest import blobs, make_run


def _err(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    return err[0]


def test_export_refuses_bad_runs_and_outputs(tmp_path, capsys):
    (tmp_path / "notarun").mkdir()
    assert main(["export", "--model", str(tmp_path / "notarun"), "--out", str(tmp_path / "a.zip")]) == 2
    assert "no model.json" in _err(capsys)
    run = make_run(tmp_path, "srcnn")
    assert main(["export", "--model", str(run), "--out", str(tmp_path / "missing" / "a.zip")]) == 2
    assert "output folder does not exist" in _err(capsys)
    assert main(["export", "--model", str(run), "--out", str(tmp_path / "a.zip"), "--formats", "keras"]) == 2
    assert "unknown" in _err(capsys)
    mask_run = make_run(tmp_path, "geometry-prior")
    assert main(["export", "--model", str(mask_run), "--out", str(tmp_path / "g.zip")]) == 2
    assert "parsing map as a second input" in _err(capsys)
    assert not list(tmp_path.glob("*.zip")) and not list(tmp_path.glob(".microsr-export-*"))


def _predict(model, tmp_path) -> int:
    write_image(tmp_path / "in.tif", blobs((32, 32)))
    return main(
        [
            "predict",
            "--model",
            str(model),
            "--input",
            str(tmp_path / "in.tif"),
            "--output",
            str(tmp_path / "o"),
        ]
    )


def test_predict_refuses_corrupt_and_foreign_zips(tmp_path, capsys):
    bad = tmp_path / "corrupt.zip"
    bad.write_bytes(b"PK\x03\x04 this is not really a zip")
    assert _predict(bad, tmp_path) == 2
    assert "corrupt.zip: not a zip file" in _err(capsys)
    foreign = tmp_path / "foreign.zip"
    with zipfile.ZipFile(foreign, "w") as zf:
        zf.writestr("hello.txt", "hi")
    assert _predict(foreign, tmp_path) == 2
    assert "no rdf.yaml" in _err(capsys)
    assert not (tmp_path / "o").exists()


def _unpacked(srcnn_package, tmp_path):
    folder = tmp_path / "pkg"
    with zipfile.ZipFile(srcnn_package[1].path) as zf:
        zf.extractall(folder)
    return folder, yaml.safe_load((folder / "rdf.yaml").read_text())


def test_predict_refuses_time_axes(srcnn_package, tmp_path, capsys):
    folder, doc = _unpacked(srcnn_package, tmp_path)
    for t in doc["inputs"] + doc["outputs"]:
        t["axes"][0] = {"type": "time", "size": 1} if t["id"] == "raw" else {"type": "time", "size": 1}
    (folder / "rdf.yaml").write_text(yaml.safe_dump(doc))
    assert _predict(folder, tmp_path) == 2
    assert str(folder) in (line := _err(capsys)) and ("axes" in line or "not a valid" in line)


def test_predict_refuses_3d(srcnn_package, tmp_path, capsys):
    folder, doc = _unpacked(srcnn_package, tmp_path)
    for t in doc["inputs"] + doc["outputs"]:
        z = (
            {"type": "space", "id": "z", "size": 1}
            if t["id"] == "raw"
            else {"type": "space", "id": "z", "size": {"tensor_id": "raw", "axis_id": "z"}}
        )
        t["axes"].insert(2, z)
    (folder / "rdf.yaml").write_text(yaml.safe_dump(doc))
    assert _predict(folder, tmp_path) == 2
    line = _err(capsys)
    assert str(folder) in line and ("2-D models only" in line or "not a valid" in line)


def test_predict_refuses_unusable_weights(srcnn_package, tmp_path, capsys):
    """Only a state dict whose architecture is Python code from the package: microsr will not run it."""
    folder, doc = _unpacked(srcnn_package, tmp_path)
    doc["weights"] = {"pytorch_state_dict": doc["weights"]["pytorch_state_dict"]}
    doc["config"].pop("microsr")
    (folder / "rdf.yaml").write_text(yaml.safe_dump(doc))
    assert _predict(folder, tmp_path) == 2
    assert "no weights microsr can run" in _err(capsys)
    assert (
        main(
            [
                "predict",
                "--model",
                str(srcnn_package[1].path),
                "--weight-format",
                "keras_hdf5",
                "--input",
                str(tmp_path / "in.tif"),
                "--output",
                str(tmp_path / "o"),
            ]
        )
        == 2
    )
    assert "not usable here" in _err(capsys)
