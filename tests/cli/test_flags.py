"""A flag that several commands have is one flag: the same names and help text in each of them."""

from __future__ import annotations

import typer

from microsr.cli.main import app


def _options(command: str) -> dict[str, tuple[tuple[str, ...], str]]:
    group = typer.main.get_command(app)
    params = group.commands[command].params  # type: ignore[attr-defined]
    return {p.name: (tuple(sorted(p.opts)), p.help) for p in params}


def test_shared_flags_read_alike_in_every_command():
    shared = {
        "weights": ("predict", "export"),
        "mask": ("train",),
        "masks": ("predict",),
        "quiet": ("train", "simulate", "degrade"),
    }
    seen = {}
    for param, commands in shared.items():
        for command in commands:
            names, help_text = _options(command)[param]
            key = "mask" if param == "masks" else param
            seen.setdefault(key, set()).add((names, help_text))
    assert {k: len(v) for k, v in seen.items()} == {"weights": 1, "mask": 1, "quiet": 1}
    assert ("--mask", "--masks") in {names for names, _ in seen["mask"]}
