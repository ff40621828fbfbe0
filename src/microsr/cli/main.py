"""The ``microsr`` command line.

Each command group lives in its own module with a ``register(app)`` function. Any
:class:`~microsr.errors.MicrosrError` (bad input, bad config) becomes one line on stderr and exit
code 2, with no traceback; so does an operating-system error (a folder that cannot be written, a
full disk: ``error: <path>: <reason>``) and running out of memory; a ``KeyboardInterrupt`` prints
``interrupted`` (exit 130). Python warnings raised by
the library (e.g. unpaired files skipped) are shown as one ``warning: ...`` line each on stderr,
without Python's file/line prefix, so that they read like the rest of the command's output.

Every command is built with :class:`_FlagCommand` (and the group with :class:`_FlagGroup`), so that on/off options show in ``--help`` as
``--flag`` / ``--no-flag`` without a value type (typer prints ``<bool>``, which reads as if the flag
took ``true``/``false``).
"""

from __future__ import annotations

import sys
import warnings
from importlib import import_module
from typing import Annotated, Optional

import typer
from typer.core import TyperCommand, TyperGroup

from microsr import __version__
from microsr.errors import MicrosrError


def _flags_without_type(params: list) -> list:
    """Give on/off options an empty metavar, so that ``--help`` prints no ``<bool>`` after them."""
    for param in params:
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""
    return params


class _FlagCommand(TyperCommand):
    """A typer command whose on/off options show no value type in ``--help``."""

    def get_params(self, ctx):  # noqa: ANN001, ANN201 - click's signature
        return _flags_without_type(super().get_params(ctx))


class _FlagGroup(TyperGroup):
    """The ``microsr`` group, with the same help rendering as :class:`_FlagCommand`."""

    def get_params(self, ctx):  # noqa: ANN001, ANN201 - click's signature
        return _flags_without_type(super().get_params(ctx))


app = typer.Typer(
    cls=_FlagGroup,
    name="microsr",
    help="Deep-learning super-resolution for microscopy: simulate, train, evaluate, predict.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"microsr {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    max_pixels: Annotated[
        Optional[int],
        typer.Option(
            "--max-pixels",
            help="Largest input image (values: pixels x channels x planes) to read; default from "
            "the available memory or the MICROSR_MAX_PIXELS environment variable.",
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Print the microsr version and exit."
        ),
    ] = False,
) -> None:
    """Deep-learning super-resolution for microscopy: simulate, train, evaluate, predict."""
    from microsr.io.guard import set_max_pixels

    set_max_pixels(max_pixels)


# Command modules, each with register(app). Order is the order of `microsr --help`.
_COMMAND_MODULES = [
    "data_cmds",
    "train_cmds",
    "models_cmd",
    "predict_cmd",
    "export_cmd",
    "eval_cmds",
    "qc_cmds",
    "demo_cmd",
]
for _name in _COMMAND_MODULES:
    import_module(f"microsr.cli.{_name}").register(app)
for _info in app.registered_commands:
    if _info.cls in (None, TyperCommand):
        _info.cls = _FlagCommand


def _is_usage_error(exc: BaseException) -> bool:
    """A command-line usage error (bad option, missing argument) from click.

    Typer >= 0.29 vendors click as ``typer._click`` and older releases use ``click`` itself, which
    is not installed beside the newer ones; so the class is recognised by its module, not imported.
    """
    module = type(exc).__module__
    return module.startswith(("click", "typer._click")) and hasattr(exc, "show")


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"warning: {message}", file=sys.stderr if file is None else file)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 2 bad input, 130 interrupted)."""
    with warnings.catch_warnings():
        warnings.simplefilter("default", UserWarning)
        warnings.showwarning = _show_warning
        return _main(argv)


def _os_error(exc: OSError) -> str:
    """``<path>: <reason>`` for an operating-system error (the path it names, if any)."""
    reason = exc.strerror or " ".join(str(exc).split()) or type(exc).__name__
    path = exc.filename if exc.filename is not None else None
    if path is not None and exc.filename2 is not None:
        path = f"{path} -> {exc.filename2}"
    return f"{path}: {reason}" if path is not None else reason


def _main(argv: list[str] | None) -> int:
    from microsr.io.guard import set_max_pixels

    set_max_pixels(None)  # each call starts from the environment / memory default
    try:
        return _run(argv)
    finally:
        set_max_pixels(None)


def _run(argv: list[str] | None) -> int:
    try:
        result = app(args=argv, prog_name="microsr", standalone_mode=False)
        if result == 130:  # typer turns a KeyboardInterrupt inside a command into exit code 130
            print("interrupted", file=sys.stderr)
        if isinstance(result, int):
            return result
    except MicrosrError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except MemoryError:
        print("error: out of memory; use smaller images, tiles or batches", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: {_os_error(exc)}", file=sys.stderr)
        return 2
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        return 1
    except Exception as exc:
        if _is_usage_error(exc):
            exc.show()  # type: ignore[attr-defined]  # a click usage error (see _is_usage_error)
            return 2
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
