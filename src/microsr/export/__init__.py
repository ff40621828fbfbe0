"""Sharing trained models as bioimage.io packages, and running such packages.

:mod:`.package` writes a package (``microsr export``), :mod:`.standalone` the architecture file it
carries, :mod:`.weights` its weight formats, :mod:`.rdf` its description, :mod:`.docs` its README
and cover; :mod:`.importer` loads packages for ``microsr predict``. Needs ``microsr[export]``.
"""
