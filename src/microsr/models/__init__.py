"""Architectures, one file per family, registered by name (see :mod:`microsr.models.registry`).

Importing this package imports every family module so that all names are registered.
"""

from importlib import import_module

from microsr.models.outputs import SROutput, final_output
from microsr.models.registry import (
    DISCRIMINATORS,
    MODELS,
    ModelSpec,
    count_parameters,
    create_discriminator,
    create_model,
    get_spec,
    list_discriminators,
    list_models,
    register_discriminator,
    register_model,
)

# Family modules; each registers its models on import. Add new families here.
_FAMILIES = [
    "interp",
    "srcnn",
    "vdsr",
    "edsr",
    "srresnet",
    "rcan",
    "rdn",
    "srfbn",
    "dfcan",
    "mhtcun",
    "geometry_prior",
    "denseed",
    "unet_n2n",
    "care_unet",
    "dncnn",
    "discriminators",
    "sftgan",
]
for _family in _FAMILIES:
    import_module(f"microsr.models.{_family}")

__all__ = [
    "DISCRIMINATORS",
    "MODELS",
    "ModelSpec",
    "SROutput",
    "count_parameters",
    "create_discriminator",
    "create_model",
    "final_output",
    "get_spec",
    "list_discriminators",
    "list_models",
    "register_discriminator",
    "register_model",
]
