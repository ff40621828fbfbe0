"""napari plugin: reader, sample data and the Super-resolve, Train and Quality widgets.

Install with ``pip install "microsr[napari]"`` (napari 0.9.2 with PyQt5 needs Python >= 3.11);
napari finds the plugin through the ``napari.manifest`` entry point (``napari.yaml`` beside this
file). Importing this package does not import napari; the widget modules do.
"""
