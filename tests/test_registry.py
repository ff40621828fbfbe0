"""The generic Registry: register, get with the known names in the error, names with a pattern."""

from __future__ import annotations

import pytest

from microsr.errors import ConfigError, UnknownNameError
from microsr.registry import Registry


def test_register_get_names():
    reg: Registry[int] = Registry("thing")
    reg.register("b-two", 2)

    @reg.register("a-one")
    def one():
        return 1

    assert reg.get("a-one") is one and reg.get("b-two") == 2
    assert reg.names() == ["a-one", "b-two"] and reg.names("b*") == ["b-two"] and reg.names("z*") == []
    assert "a-one" in reg and "c" not in reg and len(reg) == 2 and list(reg) == ["a-one", "b-two"]


def test_unknown_name_lists_the_known_ones():
    reg: Registry[int] = Registry("loss", "losses")
    reg.register("mse", 1)
    with pytest.raises(UnknownNameError) as info:
        reg.get("mae")
    assert str(info.value) == "unknown loss 'mae'; known losses: mse"
    assert isinstance(info.value, KeyError) and isinstance(info.value, ConfigError)


def test_registering_a_name_twice_is_refused():
    reg: Registry[int] = Registry("model")
    reg.register("x", 1)
    with pytest.raises(ValueError, match="model 'x' is already registered"):
        reg.register("x", 2)
    assert reg.get("x") == 1
