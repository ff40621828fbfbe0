"""microsr: deep-learning super-resolution for diffraction-limited microscopy.

Layers, lowest first (a layer never imports a higher one):
``errors`` -> ``io`` (files to arrays, no torch) -> ``metrics`` / ``models`` (pure, import nothing of
the pipeline) -> ``data`` -> ``losses`` -> ``inference`` -> ``engine`` -> ``evaluation`` -> ``export``
-> ``cli``; :mod:`microsr.api` (notebooks) and :mod:`microsr.napari` (the napari plugin) sit on top.

Python API: ``microsr.train(...)``, ``microsr.resume(...)``, ``microsr.load_model(...)``,
``microsr.predict(...)``, ``microsr.evaluate(...)`` and ``microsr.api.export(...)`` (``microsr.export``
is the package that writes bioimage.io packages; see :mod:`microsr.api`).
"""

__version__ = "0.1.0"

_API = ("train", "resume", "load_model", "predict", "evaluate")


def __getattr__(name: str):
    """``microsr.train / resume / load_model / predict / evaluate`` (:mod:`microsr.api`),
    imported on first use so that ``import microsr`` stays light (no torch)."""
    if name in _API:
        from microsr import api

        return getattr(api, name)
    raise AttributeError(f"module 'microsr' has no attribute {name!r}")


__all__ = ["__version__", *_API]
