"""Prediction with trained models: model folders (:mod:`.model_io`), memory-bounded tiled
inference with blending, OOM fallback and TTA (:mod:`.tiling`), and file/folder/stack prediction
with the stored normalisation and the input's bit depth (:mod:`.predict`).

Submodules are imported on use so that ``microsr.engine`` can import :mod:`.model_io` without
pulling in the rest.
"""
