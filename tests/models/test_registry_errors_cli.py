"""Unknown registry names reach the user as one line with exit code 2 (microsr.errors.UnknownNameError)."""

from microsr.cli.main import main
from microsr.errors import MicrosrError, UnknownNameError
from microsr.losses import build_registered_loss
from microsr.models import create_discriminator, create_model


def test_unknown_names_are_keyerrors_and_microsr_errors():
    for call in (
        lambda: create_model("nope"),
        lambda: create_discriminator("nope"),
        lambda: build_registered_loss("nope"),
    ):
        try:
            call()
        except UnknownNameError as exc:
            assert isinstance(exc, KeyError) and isinstance(exc, MicrosrError)
            assert "nope" in str(exc) and "known" in str(exc)
            assert not str(exc).startswith("'")  # not KeyError's quoted repr
        else:
            raise AssertionError("unknown name accepted")


def test_cli_reports_unknown_model_in_one_line(tmp_path, capsys):
    code = main(
        [
            "train",
            "--lr",
            str(tmp_path),
            "--hr",
            str(tmp_path),
            "--model",
            "nope",
            "--scale",
            "2",
            "--out",
            str(tmp_path / "run"),
        ]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and err[0].startswith("error: unknown model 'nope'; known models: ")
    assert "dfcan" in err[0]
    assert not (tmp_path / "run").exists()
