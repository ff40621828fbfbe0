"""``microsr models``: every registered architecture with its parameter count and options."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer


def model_table(scale: int = 2) -> list[dict[str, Any]]:
    """One row per registered model: name, parameters (1 channel, default size) and its entry of
    ``options.json`` (grid, loss, discriminator, mask, typed options, tiny preset, description)."""
    from microsr.cli.schema import schema_document
    from microsr.models import count_parameters, create_model

    rows = []
    for name, entry in schema_document()["models"].items():
        params = count_parameters(create_model(name, 1, 1, scale))
        rows.append({"name": name, "parameters": params, **entry})
    return rows


def models(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List every architecture with its parameter count (1 channel, x2), input grid and default loss.

    ``--json`` adds each architecture's typed options (JSON schema with defaults) and tiny preset.
    """
    rows = model_table(scale=2)
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="microsr models (parameters for 1 channel, x2, default size)")
    columns: tuple[tuple[str, dict[str, Any]], ...] = (
        ("name", {}),
        ("parameters", {"justify": "right"}),
        ("input", {}),
        ("default loss", {}),
        ("GAN", {}),
        ("mask", {}),
        ("description", {"overflow": "fold"}),
    )
    for col, kw in columns:
        table.add_column(col, **kw)
    for r in rows:
        table.add_row(
            r["name"],
            f"{r['parameters']:,}",
            r["input_grid"],
            r["default_loss"],
            r["discriminator"] or "",
            "yes" if r["needs_mask"] else "",
            r["description"],
        )
    Console(width=160).print(table)


def register(app: typer.Typer) -> None:
    """Add ``models`` to the ``microsr`` app."""
    app.command("models")(models)
