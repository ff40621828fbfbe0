"""Model folders are read and written by :mod:`microsr.modelcard`; this name is kept for imports."""

from microsr.modelcard import (  # noqa: F401
    WEIGHT_KINDS,
    ModelInfo,
    load_model_folder,
    read_model_json,
    save_model_folder,
    save_weights,
)
