"""The model card: the typed ``model.json`` of a model folder, its atomic writer and its loader.

It sits below :mod:`microsr.inference` and :mod:`microsr.engine` (which write and read model
folders) and :mod:`microsr.export` (which turns a model folder into a bioimage.io package).
"""

from microsr.modelcard.folder import (
    ModelInfo,
    build_from_card,
    load_model_folder,
    read_model_card,
    read_model_json,
    save_model_folder,
    save_weights,
    write_bytes_atomic,
    write_card,
)
from microsr.modelcard.schema import (
    FORMAT_NAME,
    FORMAT_VERSION,
    WEIGHT_KINDS,
    ArchitectureCard,
    ModelCard,
)

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "WEIGHT_KINDS",
    "ArchitectureCard",
    "ModelCard",
    "ModelInfo",
    "build_from_card",
    "load_model_folder",
    "read_model_card",
    "read_model_json",
    "save_model_folder",
    "save_weights",
    "write_bytes_atomic",
    "write_card",
]
