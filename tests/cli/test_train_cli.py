"""``microsr train`` / ``microsr models`` through the real command line entry point."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import yaml

import microsr
import microsr.models
from microsr.cli.main import main
from microsr.io import write_image


@pytest.fixture
def pairs(tmp_path):
    rng = np.random.default_rng(0)
    for name in ("lr", "hr"):
        (tmp_path / name).mkdir()
    for i in range(3):
        hr = rng.random((32, 32))
        lr = hr.reshape(16, 2, 16, 2).mean(axis=(1, 3))
        write_image(tmp_path / "hr" / f"p{i}.tif", (hr * 4000).astype(np.uint16))
        write_image(tmp_path / "lr" / f"p{i}.tif", (lr * 4000).astype(np.uint16))
    return tmp_path / "lr", tmp_path / "hr"


def _base(pairs, out, *extra):
    lr, hr = pairs
    return [
        "train",
        "--lr",
        str(lr),
        "--hr",
        str(hr),
        "--model",
        "srcnn",
        "--tiny",
        "--scale",
        "2",
        "--out",
        str(out),
        "--patch-size",
        "8",
        "--batch-size",
        "2",
        "--num-threads",
        "1",
        "--quiet",
        "--device",
        "cpu",
        *extra,
    ]


def test_train_then_resume_from_run_folder(pairs, tmp_path, capsys):
    run = tmp_path / "run"
    assert main(_base(pairs, run, "--steps", "2", "--val-every", "2", "--seed", "3")) == 0
    assert "trained srcnn x2" in capsys.readouterr().out
    cfg = (run / "config.yaml").read_text()
    assert "seed: 3" in cfg and "tiny: true" in cfg and "patch_size: 8" in cfg
    # resume with nothing but the run folder and a longer horizon
    assert main(["train", "--out", str(run), "--resume", "--steps", "4", "--quiet"]) == 0
    doc = json.loads((run / "model.json").read_text())
    assert doc["training"]["steps_done"] == 4 and doc["validation"]["step"] == 4


def test_yaml_config_with_flag_override(pairs, tmp_path):
    lr, hr = pairs
    yaml_file = tmp_path / "t.yaml"
    yaml_file.write_text(
        f"model: {{name: vdsr, tiny: true}}\nscale: 2\nepochs: 5\n"
        f"data: {{lr_dir: {lr}, hr_dir: {hr}, patch_size: 8, batch_size: 2}}\n"
        "device: cpu\nnum_threads: 1\n"
    )
    run = tmp_path / "run"
    assert main(["train", "--config", str(yaml_file), "--out", str(run), "--steps", "1", "--quiet"]) == 0
    doc = json.loads((run / "model.json").read_text())
    assert doc["architecture"]["name"] == "vdsr" and doc["training"]["total_steps"] == 1


@pytest.mark.parametrize(
    "args,message",
    [
        (["--steps", "2", "--epochs", "1"], "mutually exclusive"),
        (["--steps", "2", "--patch-size", "64"], "patch size"),
        (["--steps", "2", "--resume"], "no checkpoint to resume from"),
    ],
)
def test_bad_input_one_line_exit_2(pairs, tmp_path, capsys, args, message):
    base = _base(pairs, tmp_path / "run")
    if "--patch-size" in args:
        i = base.index("--patch-size")
        del base[i : i + 2]
    if "--resume" in args:
        (tmp_path / "run").mkdir()  # a run folder without a checkpoint
    assert main(base + args) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and err.startswith("error:")


def test_unknown_model_and_missing_folder(pairs, tmp_path, capsys):
    lr, hr = pairs
    assert (
        main(
            [
                "train",
                "--lr",
                str(lr),
                "--hr",
                str(hr),
                "--model",
                "nosuchnet",
                "--out",
                str(tmp_path / "r1"),
                "--steps",
                "1",
                "--quiet",
            ]
        )
        == 2
    )
    assert "known models" in capsys.readouterr().err
    assert (
        main(
            [
                "train",
                "--lr",
                str(tmp_path / "missing"),
                "--hr",
                str(hr),
                "--model",
                "srcnn",
                "--out",
                str(tmp_path / "r2"),
                "--steps",
                "1",
                "--quiet",
            ]
        )
        == 2
    )
    assert "folder not found" in capsys.readouterr().err
    assert main(["train", "--out", str(tmp_path / "r3"), "--steps", "1"]) == 2
    assert "give --lr, --hr (or a --config file)" in capsys.readouterr().err


def test_models_json(monkeypatch, capsys):
    monkeypatch.setattr(microsr.models, "list_models", lambda: ["bicubic", "dfcan", "srcnn"])
    assert main(["models", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["srcnn"]["parameters"] == 57_281 and rows["srcnn"]["input_grid"] == "hr"
    assert rows["dfcan"]["parameters"] == 1_930_753 and rows["dfcan"]["default_loss"] == "mse+0.1*ssim"
    assert rows["bicubic"]["parameters"] == 0
    assert main(["models"]) == 0
    assert "57,281" in capsys.readouterr().out


def test_bicubic_residual_flag_is_stored_and_predicts(pairs, tmp_path, capsys):
    run = tmp_path / "run"
    base = _base(pairs, run, "--steps", "2", "--bicubic-residual")
    base[base.index("srcnn")] = "edsr-baseline"
    assert main(base) == 0
    doc = json.loads((run / "model.json").read_text())
    assert doc["architecture"]["options"] == {"bicubic_residual": True}
    assert (
        main(["predict", "--model", str(run), "--input", str(pairs[0]), "--output", str(tmp_path / "p")]) == 0
    )
    assert len(list((tmp_path / "p").glob("*.tif"))) == 3


def test_bicubic_residual_refused_for_vdsr(pairs, tmp_path, capsys):
    base = _base(pairs, tmp_path / "run", "--steps", "2", "--bicubic-residual")
    base[base.index("srcnn")] = "vdsr"
    assert main(base) == 2
    err = capsys.readouterr().err.strip()
    assert "already adds the bicubic image" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "run").exists()


def test_unpaired_files_are_reported_as_one_warning_line(pairs, tmp_path, capsys):
    lr, _ = pairs
    write_image(lr / "extra.tif", np.ones((16, 16), np.uint16))
    assert main(_base(pairs, tmp_path / "run", "--steps", "1")) == 0
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert any(
        line.startswith("warning: unpaired files skipped; LR without HR in") and "extra" in line
        for line in err
    ), err
    assert not any("UserWarning" in line for line in err)


def test_checkpoint_every_flag(pairs, tmp_path):
    run = tmp_path / "run"
    assert main(_base(pairs, run, "--steps", "3", "--val-every", "3", "--checkpoint-every", "2")) == 0
    assert "checkpoint_every: 2" in (run / "config.yaml").read_text()


def test_ema_flag(pairs, tmp_path, capsys):
    run = tmp_path / "run"
    assert main(_base(pairs, run, "--steps", "3", "--ema", "0.99")) == 0
    assert "ema_decay: 0.99" in (run / "config.yaml").read_text()
    assert main(_base(pairs, tmp_path / "bad", "--steps", "3", "--ema", "1.5")) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "ema_decay" in err and not (tmp_path / "bad" / "weights").exists()


def test_one_validation_image_is_warned_about(pairs, tmp_path, capsys):
    assert main(_base(pairs, tmp_path / "run", "--steps", "1")) == 0  # 3 pairs, 10 %: 1 for validation
    err = capsys.readouterr().err
    assert "warning: only 1 validation image(s): the best weights are chosen on very little data" in err


def test_shape_mismatch_names_both_files_and_writes_nothing(pairs, tmp_path, capsys):
    _, hr = pairs
    write_image(hr / "p1.tif", np.ones((30, 30), np.uint16))
    assert main(_base(pairs, tmp_path / "run", "--steps", "1")) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "error: " + str(hr / "p1.tif") + ": p1.tif (LR) and p1.tif (HR): HR is 30x30 px but LR "
        "16x16 px at x2 needs HR 32x32 px"
    ]
    assert not (tmp_path / "run").exists()


def test_each_training_file_is_read_once(pairs, tmp_path, monkeypatch):
    import microsr.data.loading as loading
    import microsr.data.pairs as pairing

    seen = []
    real = loading.read_image
    for module in (loading, pairing):  # the two places that read training images
        monkeypatch.setattr(module, "read_image", lambda p, **kw: seen.append(p.name) or real(p, **kw))
    assert main(_base(pairs, tmp_path / "run", "--steps", "1")) == 0
    assert sorted(seen) == sorted(["p0.tif", "p1.tif", "p2.tif"] * 2)  # LR + HR of 3 pairs, once each


def test_separate_validation_folders(pairs, tmp_path, capsys):
    """--val-lr/--val-hr: every --lr image trains, the others validate; resume keeps them."""
    lr, hr = pairs
    rng = np.random.default_rng(1)
    for name in ("vlr", "vhr"):
        (tmp_path / name).mkdir()
    for i in range(3):
        v = rng.random((32, 32))
        write_image(tmp_path / "vhr" / f"v{i}.tif", (v * 4000).astype(np.uint16))
        write_image(
            tmp_path / "vlr" / f"v{i}.tif",
            (v.reshape(16, 2, 16, 2).mean(axis=(1, 3)) * 4000).astype(np.uint16),
        )
    run = tmp_path / "run"
    args = _base(
        pairs, run, "--steps", "2", "--val-lr", str(tmp_path / "vlr"), "--val-hr", str(tmp_path / "vhr")
    )
    assert main(args) == 0
    assert "warning: only" not in capsys.readouterr().err  # 3 validation images
    doc = json.loads((run / "model.json").read_text())
    assert doc["data"]["train_images"] == 3 and doc["data"]["val_images"] == 3
    assert doc["data"]["val_source"] == "folders"
    assert "val_fraction: 0.0" in (run / "config.yaml").read_text()
    assert main(["train", "--out", str(run), "--resume", "--steps", "3", "--quiet"]) == 0
    assert json.loads((run / "model.json").read_text())["data"]["val_images"] == 3


@pytest.mark.parametrize(
    "extra,message",
    [
        (["--val-lr", "{lr}"], "needs both val_lr_dir and val_hr_dir"),
        (["--val-lr", "{lr}", "--val-hr", "{hr}"], "the validation folder is the training folder"),
        (["--val-lr", "{tmp}/nope", "--val-hr", "{hr}"], "folder not found"),
    ],
)
def test_bad_validation_folders(pairs, tmp_path, capsys, extra, message):
    lr, hr = pairs
    extra = [e.format(lr=lr, hr=hr, tmp=tmp_path) for e in extra]
    assert main(_base(pairs, tmp_path / "run", "--steps", "1", *extra)) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not (tmp_path / "run").exists()


def test_config_stores_absolute_data_folders_and_resumes_from_any_directory(pairs, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(_base((Path("lr"), Path("hr")), Path("runs") / "a", "--steps", "2", "--val-every", "2")) == 0
    cfg = yaml.safe_load((tmp_path / "runs" / "a" / "config.yaml").read_text())
    assert cfg["data"]["lr_dir"] == str(tmp_path / "lr") and cfg["data"]["hr_dir"] == str(tmp_path / "hr")
    monkeypatch.chdir(tmp_path / "runs")
    assert main(["train", "--out", "a", "--resume", "--steps", "4", "--quiet"]) == 0
    assert json.loads((tmp_path / "runs" / "a" / "model.json").read_text())["training"]["steps_done"] == 4


def test_old_relative_paths_in_config_yaml_are_found_or_named(pairs, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    run = tmp_path / "runs" / "a"
    assert main(_base(pairs, run, "--steps", "2", "--val-every", "2")) == 0
    text = (run / "config.yaml").read_text()
    (run / "config.yaml").write_text(text.replace(str(tmp_path) + "/", ""))  # as older runs wrote them
    monkeypatch.chdir(run)  # lr/ and hr/ are found two levels up, beside runs/
    assert main(["train", "--out", ".", "--resume", "--steps", "3", "--quiet"]) == 0
    (run / "config.yaml").write_text(
        text.replace(str(tmp_path) + "/", "").replace("lr_dir: lr", "lr_dir: gone")
    )
    assert main(["train", "--out", ".", "--resume", "--steps", "4", "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]  # after the one-validation-image warning
    assert err.startswith("error: gone: folder not found (path from config.yaml")


def test_resume_of_a_missing_run_folder_names_it(tmp_path, capsys):
    assert main(["train", "--out", str(tmp_path / "runs" / "typo"), "--resume"]) == 2
    err = capsys.readouterr().err.strip()
    assert (
        err
        == f"error: {tmp_path / 'runs' / 'typo'}: no run folder to resume here; check --out, or start a new run without --resume"
    )


def test_run_folder_files_follow_the_umask(pairs, tmp_path):
    old = os.umask(0o022)
    try:
        assert main(_base(pairs, tmp_path / "run", "--steps", "2", "--val-every", "2")) == 0
    finally:
        os.umask(old)
    files = [p for p in (tmp_path / "run").rglob("*") if p.is_file()]
    names = {p.relative_to(tmp_path / "run").as_posix() for p in files}
    assert {"config.yaml", "model.json", "weights/best.safetensors", "checkpoint/last.pt", "log.csv"} <= names
    assert {p.name: oct(p.stat().st_mode & 0o777) for p in files} == {p.name: "0o644" for p in files}


def test_help_shows_flags_without_bool_and_the_defaults(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["train", "--help"]) == 0
    text = capsys.readouterr().out
    assert "<bool>" not in text
    assert "--resume" in text and "--no-resume" in text and "--no-tiny" in text
    lines = {line.split()[1]: line for line in text.splitlines() if line.startswith("│    --")}
    assert "[default: 4]" in lines["--batch-size"] and "[default: 64]" in lines["--patch-size"]
    assert "[default: 0.0001]" in lines["--learning-rate"] and "[default: 10 epochs]" in lines["--steps"]
    assert "Architecture name" in lines["--model"]
    assert main(["predict", "--help"]) == 0
    text = capsys.readouterr().out
    assert "<bool>" not in text and "Trained model folder" in text and "--out,--output" in text


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"microsr {microsr.__version__}"


def test_mask_and_masks_are_one_option(pairs, tmp_path, capsys):
    for flag in ("--mask", "--masks"):
        assert main(_base(pairs, tmp_path / flag, "--steps", "1", flag, str(tmp_path / "nomasks"))) == 2
        assert "nomasks" in capsys.readouterr().err
