"""microsr: deep-learning super-resolution for diffraction-limited microscopy.

Layers, lowest first (a layer never imports a higher one):
``errors`` -> ``io`` (files to arrays, no torch) -> ``metrics`` / ``models`` (pure, import nothing of
the pipeline) -> ``data`` -> ``losses`` -> ``inference`` -> ``engine`` -> ``evaluation`` -> ``export``
-> ``cli``.
"""

__version__ = "0.1.0"
