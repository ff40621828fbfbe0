"""Typed options read from a builder's signature: one schema for validation, ``--json`` and docs.

An architecture's options are the keyword parameters of its builder (``n_feats: int = 64``).
:func:`options_schema` turns them into a JSON schema per option. The schemas of every registered
model, discriminator and loss are kept in ``microsr/options.json`` (written by
``python -m microsr.cli.schema``; a test fails when it differs from the registry), so a config can
be checked when it is read without importing torch or building anything: :func:`check_options`
makes a strict pydantic model from the schema (unknown names refused, ``"64"`` is not an integer)
and turns its errors into one line naming the option and the valid ones. The same file feeds
``microsr models --json`` and the options table of ``docs/models.md``.

Options are validated as JSON (what a YAML file or the command line can hold): lists stand for
tuples, and the values passed on to the builder are the user's, unchanged.
"""

from __future__ import annotations

import inspect
import json
import typing
from collections.abc import Callable
from functools import cache
from importlib import resources
from typing import Any, Union

from pydantic import ConfigDict, ValidationError, create_model

from microsr.errors import ConfigError
from microsr.registry import Registry

_JSON_TYPES: dict[str, Any] = {"integer": int, "number": float, "boolean": bool, "string": str, "null": None}


def option_parameters(builder: Callable[..., Any], skip: int) -> list[inspect.Parameter]:
    """The builder's option parameters: every parameter after the first ``skip`` (channels, scale)."""
    params = list(inspect.signature(builder).parameters.values())[skip:]
    bad = [p.name for p in params if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    if bad:
        raise TypeError(f"{builder.__qualname__}: options must be named parameters, not *{bad[0]}")
    return params


def options_schema(builder: Callable[..., Any], skip: int) -> dict[str, dict[str, Any]]:
    """``{option: JSON schema with "default"}`` from the builder's annotated keyword parameters."""
    target = builder.__init__ if isinstance(builder, type) else builder  # type: ignore[misc]
    hints = typing.get_type_hints(target)
    fields: dict[str, Any] = {}
    for p in option_parameters(builder, skip):
        default = ... if p.default is inspect.Parameter.empty else p.default
        fields[p.name] = (hints.get(p.name, Any), default)
    schema = create_model(f"{builder.__name__}_options", **fields).model_json_schema()
    return {
        name: {k: v for k, v in prop.items() if k != "title"} for name, prop in schema["properties"].items()
    }


def _python_type(prop: dict[str, Any]) -> Any:
    """The Python type a JSON-schema property stands for (enough for builder signatures)."""
    if "anyOf" in prop:
        return Union[tuple(_python_type(p) for p in prop["anyOf"])]  # noqa: UP007
    kind = prop.get("type")
    if kind == "array":
        if "prefixItems" in prop:
            return tuple[tuple(_python_type(p) for p in prop["prefixItems"])]  # type: ignore[misc]
        return list[_python_type(prop.get("items", {}))]  # type: ignore[misc]
    if kind in _JSON_TYPES:
        return _JSON_TYPES[kind] if kind != "null" else type(None)
    return Any


def _validator(schema_json: str):
    props = json.loads(schema_json)
    fields: dict[str, Any] = {name: (_python_type(p), p.get("default")) for name, p in props.items()}
    return create_model("options", __config__=ConfigDict(strict=True, extra="forbid"), **fields)


_cached_validator = cache(_validator)


def check_options(what: str, schema: dict[str, dict[str, Any]], options: dict[str, Any]) -> None:
    """Raise one-line :class:`ConfigError` if ``options`` do not fit ``schema``.

    Parameters
    ----------
    what : str
        How the message names the builder, e.g. ``"model 'edsr'"``.
    schema : dict
        ``{option: JSON schema}`` (from :func:`options_schema` / :func:`registered_options`).
    options : dict
        The user's options.
    """
    model = _cached_validator(json.dumps(schema, sort_keys=True))
    try:
        text = json.dumps(options)
    except (TypeError, ValueError):
        raise ConfigError(
            f"{what}: options must be plain values (numbers, strings, lists), got {options}"
        ) from None
    try:
        model.model_validate_json(text)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            name = str(err["loc"][0]) if err["loc"] else "options"
            if err["type"] == "extra_forbidden":
                problems.append(f"unknown option {name!r}")
            else:
                problems.append(f"option {name!r}: {err['msg']}")
        valid = ", ".join(sorted(schema)) or "none"
        raise ConfigError(f"{what}: {'; '.join(dict.fromkeys(problems))} (valid options: {valid})") from None


@cache
def registered_options() -> dict[str, dict[str, Any]]:
    """The packaged ``options.json``: ``{"models"|"discriminators"|"losses": {name: entry}}``."""
    return json.loads(resources.files("microsr").joinpath("options.json").read_text(encoding="utf-8"))


def registered(kind: str, name: str) -> dict[str, Any]:
    """The ``options.json`` entry of the model, discriminator or loss ``name`` (``kind`` singular).

    An unknown name raises :class:`~microsr.errors.UnknownNameError` listing the known ones.
    """
    plural = "losses" if kind == "loss" else f"{kind}s"
    names: Registry[dict[str, Any]] = Registry(kind, plural)
    for key, entry in registered_options()[plural].items():
        names.register(key, entry)
    return names.get(name)
