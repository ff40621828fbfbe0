"""The command line's last line of defence: Ctrl-C and operating-system errors in one line."""

from __future__ import annotations

import errno

import microsr.inference.predict as predict_module
from microsr.cli.main import main


def test_ctrl_c_in_a_command_says_interrupted(tmp_path, monkeypatch, capsys):
    """typer turns a KeyboardInterrupt inside a command into a silent exit code 130."""

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(predict_module, "predict_path", interrupted)
    argv = ["predict", "--model", str(tmp_path), "--input", str(tmp_path), "--output", str(tmp_path / "o")]
    assert main(argv) == 130
    assert capsys.readouterr().err.strip() == "interrupted"


def test_os_error_during_work_is_one_line(tmp_path, monkeypatch, capsys):
    """A disk that fills up after the checks (ENOSPC) names the file, without a traceback."""

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "o" / "a.tif"))

    monkeypatch.setattr(predict_module, "predict_path", disk_full)
    argv = ["predict", "--model", str(tmp_path), "--input", str(tmp_path), "--output", str(tmp_path / "o")]
    assert main(argv) == 2
    assert capsys.readouterr().err.strip() == f"error: {tmp_path / 'o' / 'a.tif'}: No space left on device"
