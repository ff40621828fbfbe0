"""Prediction with trained models (read through :mod:`microsr.modelcard`): memory-bounded tiled
inference with blending, OOM fallback and TTA (:mod:`.tiling`), and file/folder/stack prediction
with the stored normalisation and the input's bit depth (:mod:`.predict`).

Submodules are imported on use, so importing one does not pull in the rest.
"""
