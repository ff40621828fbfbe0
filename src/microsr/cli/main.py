"""The ``microsr`` command line.

Each command group lives in its own module with a ``register(app)`` function. Any
:class:`~microsr.errors.MicrosrError` (bad input, bad config) becomes one line on stderr and exit
code 2, with no traceback; so does a ``KeyboardInterrupt`` (exit 130). Python warnings raised by
the library (e.g. unpaired files skipped) are shown as one ``warning: ...`` line each on stderr,
without Python's file/line prefix, so that they read like the rest of the command's output.
"""

from __future__ import annotations

import sys
import warnings
from importlib import import_module

import typer

from microsr.errors import MicrosrError

app = typer.Typer(
    name="microsr",
    help="Deep-learning super-resolution for microscopy: simulate, train, evaluate, predict.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """Deep-learning super-resolution for microscopy: simulate, train, evaluate, predict."""


# Command modules, each with register(app). Order is the order of `microsr --help`.
_COMMAND_MODULES = ["data_cmds", "train_cmds", "predict_cmd", "eval_cmds", "qc_cmds", "demo_cmd"]
for _name in _COMMAND_MODULES:
    import_module(f"microsr.cli.{_name}").register(app)


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


def _main(argv: list[str] | None) -> int:
    try:
        result = app(args=argv, prog_name="microsr", standalone_mode=False)
        if isinstance(result, int):
            return result
    except MicrosrError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        return 1
    except Exception as exc:
        if _is_usage_error(exc):
            exc.show()
            return 2
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
