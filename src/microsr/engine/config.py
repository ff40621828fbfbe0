"""The training configuration: one pydantic model, loadable from YAML, overridable from the CLI.

Every field is documented in ``docs/training.md``. Validation is strict (no silent ``"3"`` -> 3) and
unknown keys are refused; any problem becomes one :class:`~microsr.errors.ConfigError` naming the
field, e.g. ``data.patch_size: Input should be greater than 0``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from microsr.data.normalize import NormConfig
from microsr.errors import ConfigError, InputError
from microsr.options import check_options, registered

# options create_model handles around every builder (microsr.models.registry.create_model)
#: DataLoader worker processes preparing training batches ahead (docs/benchmarks.md: measured)
NUM_WORKERS = 1
CREATE_MODEL_OPTIONS = {"bicubic_residual": {"default": False, "type": "boolean"}}

CONFIG_VERSION: Literal[1] = 1  # config.yaml files without config_version are version 1

PathField = Annotated[Path, Field(strict=False)]
_STRICT = ConfigDict(strict=True, extra="forbid", allow_inf_nan=False)  # NaN or inf in a setting: refused


class ModelSection(BaseModel):
    """Architecture: registry name, builder options, and the ``tiny`` preset flag.

    The name and the options are checked against the registry when the config is read, before any
    image is opened: an unknown or misspelt option is one line naming it and the valid ones.
    """

    model_config = _STRICT
    name: str
    options: dict[str, Any] = Field(default_factory=dict)
    tiny: bool = False

    @model_validator(mode="after")
    def _known_options(self) -> ModelSection:
        schema = registered("model", self.name)["options"]  # an unknown name lists the known ones
        check_options(f"model {self.name!r}", {**schema, **CREATE_MODEL_OPTIONS}, self.options)
        return self


class DataSection(BaseModel):
    """Where the pairs are and how training patches are drawn (patch size in LR pixels)."""

    model_config = _STRICT
    lr_dir: PathField
    hr_dir: PathField
    mask_dir: PathField | None = None
    val_fraction: float = Field(0.1, ge=0.0, lt=1.0)
    val_split: Literal["auto", "image", "region"] = "auto"  # auto: region below 10 image pairs
    val_margin: int | None = Field(None, ge=0)  # LR px between training and validation regions
    patch_size: int = Field(64, gt=0)
    batch_size: int = Field(4, gt=0)
    normalization: NormConfig = Field(default_factory=NormConfig)
    augment: bool = True
    percentile_jitter: bool = False
    offset_jitter: float = Field(0.0, ge=0.0, le=1.0)  # same random offset on each LR/HR patch pair
    foreground_threshold: float | None = Field(0.2, ge=0.0, lt=1.0)
    num_workers: int = Field(NUM_WORKERS, ge=0)  # DataLoader processes preparing batches ahead
    lazy: Literal["auto", "always", "never"] = "auto"  # read training images on demand (docs/large-data.md)
    cache_mb: int = Field(256, gt=0)  # MiB of raw tiles cached per process when reading on demand
    val_crop: int | None = Field(256, gt=0)
    val_lr_dir: PathField | None = None
    val_hr_dir: PathField | None = None
    val_mask_dir: PathField | None = None

    @model_validator(mode="after")
    def _validation_folders(self) -> DataSection:
        given = self.val_lr_dir is not None, self.val_hr_dir is not None
        if any(given) and not all(given):
            raise ValueError("a validation folder needs both val_lr_dir and val_hr_dir")
        if not any(given):
            if self.val_mask_dir is not None:
                raise ValueError("val_mask_dir needs val_lr_dir and val_hr_dir")
            return self
        if "val_fraction" in self.model_fields_set and self.val_fraction > 0:
            raise ValueError(
                "give either val_fraction or validation folders (val_lr_dir, val_hr_dir), not both"
            )
        if (self.mask_dir is None) != (self.val_mask_dir is None):
            raise ValueError(
                "give masks for both training and validation images (mask_dir and "
                "val_mask_dir) or for neither"
            )
        self.val_fraction = 0.0  # every training image trains; written so to config.yaml (resume)
        return self


class OptimizerSection(BaseModel):
    """Adam or AdamW for the generator (DFCAN: Adam, lr 1e-4)."""

    model_config = _STRICT
    name: Literal["adam", "adamw"] = "adam"
    lr: float = Field(1e-4, gt=0.0)
    betas: Annotated[tuple[float, float], Field(strict=False)] = (0.9, 0.999)
    weight_decay: float = Field(0.0, ge=0.0)


class ScheduleSection(BaseModel):
    """Learning-rate schedule; ``plateau`` follows DFCAN (halve after 10 validations w/o improvement)."""

    model_config = _STRICT
    name: Literal["none", "step", "plateau", "onecycle", "cosine"] = "none"
    step_size: int = Field(1000, gt=0)
    gamma: float = Field(0.5, gt=0.0, le=1.0)
    factor: float = Field(0.5, gt=0.0, lt=1.0)
    patience: int = Field(10, ge=0)
    min_lr: float = Field(0.0, ge=0.0)
    max_lr: float | None = Field(None, gt=0.0)
    pct_start: float = Field(0.3, gt=0.0, lt=1.0)


class EarlyStoppingSection(BaseModel):
    """Stop after ``patience`` validations without an improvement larger than ``min_delta``."""

    model_config = _STRICT
    patience: int | None = Field(None, gt=0)
    min_delta: float = Field(0.0, ge=0.0)


class AdversarialSection(BaseModel):
    """GAN training (used when the model's spec names a discriminator, unless ``enabled`` is False)."""

    model_config = _STRICT
    enabled: bool | None = None
    discriminator: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    d_lr: float = Field(2e-5, gt=0.0)
    g_steps_per_d_step: int = Field(3, gt=0)
    adv_weight: float = Field(0.1, ge=0.0)


class TrainConfig(BaseModel):
    """Everything a training run needs; saved as ``RUN/config.yaml``.

    ``steps`` and ``epochs`` are mutually exclusive; with neither, 10 epochs are trained. One epoch
    is the number of steps whose batches hold as many LR pixels as the training images tile with
    non-overlapping patches: ``ceil(sum_i floor(h_i/p) * floor(w_i/p) / batch_size)``.
    """

    model_config = _STRICT
    config_version: Literal[1] = CONFIG_VERSION
    out: PathField
    model: ModelSection
    scale: int = Field(2, ge=1, le=16)
    in_channels: int = Field(1, gt=0)
    out_channels: int = Field(1, gt=0)
    data: DataSection
    loss: str | None = None
    loss_options: dict[str, Any] = Field(default_factory=dict)  # options of a single registered loss
    optimizer: OptimizerSection = Field(default_factory=OptimizerSection)
    schedule: ScheduleSection = Field(default_factory=ScheduleSection)
    steps: int | None = Field(None, gt=0)
    epochs: int | None = Field(None, gt=0)
    val_every: int | None = Field(None, gt=0)
    checkpoint_every: int | None = Field(None, gt=0)
    ema_decay: float | None = Field(None, gt=0.0, lt=1.0)  # validate and save an EMA of the weights
    log_every: int = Field(10, gt=0)
    monitor: Literal["val_loss", "psnr", "ssim"] = "val_loss"
    early_stopping: EarlyStoppingSection = Field(default_factory=EarlyStoppingSection)
    seed: int = Field(0, ge=0, lt=2**63)  # torch, numpy and random all accept this range
    device: Literal["auto", "cpu", "cuda"] = "auto"
    precision: Literal["32-true", "16-mixed", "bf16-mixed"] = "32-true"
    adversarial: AdversarialSection = Field(default_factory=AdversarialSection)
    init_from: PathField | None = None  # ignored when resuming (the checkpoint holds the weights)
    resume: bool = False
    num_threads: int | None = Field(None, gt=0)
    recipe: Literal["budget", "paper"] | None = None  # what filled the settings not given (engine/budget.py)
    minutes: float | None = Field(None, gt=0.0)  # time budget that ``steps`` was computed from

    @model_validator(mode="after")
    def _exclusive(self) -> TrainConfig:
        if self.steps is not None and self.epochs is not None:
            raise ValueError("give either steps or epochs, not both")
        return self

    @model_validator(mode="after")
    def _known_loss_and_discriminator(self) -> TrainConfig:
        """Check loss options and discriminator options from ``options.json`` (no torch import).

        A loss expression such as ``mse+0.1*ssim`` is checked when the loss is built.
        """
        model = registered("model", self.model.name)
        loss = self.loss or model["default_loss"]
        if self.loss_options:
            check_options(f"loss {loss!r}", registered("loss", loss)["options"], self.loss_options)
        adv = self.adversarial
        name = adv.discriminator or model["discriminator"]
        if name is not None and adv.enabled is not False:
            check_options(
                f"discriminator {name!r}", registered("discriminator", name)["options"], adv.options
            )
        return self


def _format_error(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "config"
        msg = err["msg"].removeprefix("Value error, ")
        lines.append(f"{loc}: {msg}")
    return "invalid training config: " + "; ".join(lines)


def _merge(base: dict, overrides: dict) -> dict:
    """Deep-merge ``overrides`` (nested dicts or dotted keys like ``"data.batch_size"``) into ``base``."""
    out = dict(base)
    for key, value in overrides.items():
        head, _, rest = key.partition(".")
        if rest:
            value, key = {rest: value}, head
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def make_config(data: dict[str, Any]) -> TrainConfig:
    """Validate a plain dict into a :class:`TrainConfig`; errors become one ``ConfigError``."""
    try:
        return TrainConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_error(exc)) from None


def read_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML mapping; a missing or unreadable file is an ``InputError`` naming it."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "config file not found")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InputError(path, f"not valid YAML ({str(exc).splitlines()[0]})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InputError(path, "a training config must be a YAML mapping (key: value lines)")
    return data


def load_config(
    path: str | Path | None = None,
    overrides: dict[str, Any] | None = None,
    defaults: dict[str, Any] | None = None,
) -> TrainConfig:
    """Load a YAML config (optional) and apply overrides (CLI flags win over the file).

    Parameters
    ----------
    path : path or None
        YAML file with the fields of :class:`TrainConfig`.
    overrides : dict
        Nested dicts or dotted keys, e.g. ``{"data.batch_size": 8, "steps": 100}``. ``None`` values
        are skipped (flags that were not given). Giving ``steps`` clears an ``epochs`` of the file and
        vice versa.
    defaults : dict
        Settings below the file and the overrides (a recipe, :mod:`microsr.engine.budget`).
    """
    base = _merge(_merge({}, defaults or {}), read_yaml(path) if path is not None else {})
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    if "steps" in given:
        base.pop("epochs", None)
    if "epochs" in given:
        base.pop("steps", None)
    return make_config(_merge(base, given))


def dump_config(config: TrainConfig) -> str:
    """The config as YAML text (paths as strings), loadable again with :func:`load_config`."""
    return yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False)
