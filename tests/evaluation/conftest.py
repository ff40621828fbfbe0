"""Shared fixtures of the evaluation tests: the real C. elegans image and nanopyx (reference)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tests.real_images import load_real


@pytest.fixture(scope="session")
def celegans() -> np.ndarray:
    """Airyscan C. elegans image, (256, 256) float32, 0.0426 um/px."""
    return load_real("celegans").astype(np.float32)


@pytest.fixture(scope="session")
def nanopyx_squirrel():
    """``nanopyx.methods.squirrel`` (reference implementation; importing it takes ~8 s)."""
    pytest.importorskip("nanopyx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from nanopyx.methods import squirrel
    return squirrel
