"""Pieces the training loop is made of: Fabric, model, optimisers, schedule, best/early-stop tracker."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from typing import Any, Literal

import torch
from pydantic import BaseModel

from microsr.engine.config import DataSection, TrainConfig
from microsr.errors import ConfigError

try:  # the "lightning" meta-package when installed, else the standalone lightning-fabric
    from lightning.fabric import Fabric
except ImportError:  # pragma: no cover - depends on which package is installed
    from lightning_fabric import Fabric

PER_STEP_SCHEDULES = ("step", "onecycle", "cosine")


def launch_shape() -> tuple[int, int]:
    """(processes in total, processes per node) of this launch.

    ``torchrun`` sets ``WORLD_SIZE``/``LOCAL_WORLD_SIZE``; a SLURM job step started with ``srun``
    (one task per GPU) sets ``SLURM_NTASKS``/``SLURM_NNODES``, which Fabric's SLURM environment
    reads. A plain run is (1, 1).
    """
    env = os.environ
    if "WORLD_SIZE" in env:
        world = int(env["WORLD_SIZE"])
        return world, int(env.get("LOCAL_WORLD_SIZE", world))
    tasks = int(env.get("SLURM_NTASKS", "1"))
    if tasks > 1 and env.get("SLURM_JOB_NAME") not in ("bash", "interactive"):
        return tasks, max(1, tasks // int(env.get("SLURM_NNODES", "1")))
    return 1, 1


def make_fabric(cfg: TrainConfig) -> Fabric:
    """Fabric for the config's device and precision; DDP when launched as several processes.

    Raises
    ------
    ConfigError
        CUDA requested without a GPU, or mixed precision on the CPU (10-300x slower there).
    """
    cuda = torch.cuda.is_available()
    if cfg.device == "cuda" and not cuda:
        raise ConfigError("device 'cuda' requested but no CUDA GPU is available (use device 'auto' or 'cpu')")
    accelerator = "cuda" if (cfg.device == "cuda" or (cfg.device == "auto" and cuda)) else "cpu"
    if accelerator == "cpu" and cfg.precision != "32-true":
        raise ConfigError(
            f"precision {cfg.precision!r} needs a GPU; on the CPU half precision is 10-300x slower "
            "than float32 here, so use precision '32-true'"
        )
    world, local = launch_shape()
    if world > 1:
        return Fabric(
            accelerator=accelerator,
            strategy="ddp",
            devices=local,
            num_nodes=max(1, world // local),
            precision=cfg.precision,
        )
    return Fabric(accelerator=accelerator, devices=1, precision=cfg.precision)


def make_optimizer(params, name: str, lr: float, betas, weight_decay: float) -> torch.optim.Optimizer:
    """Adam or AdamW over ``params``."""
    cls = torch.optim.AdamW if name == "adamw" else torch.optim.Adam
    return cls(params, lr=lr, betas=tuple(betas), weight_decay=weight_decay)


def make_scheduler(cfg: TrainConfig, optimizer: torch.optim.Optimizer, total_steps: int):
    """The learning-rate schedule of ``cfg.schedule`` (``None`` for ``"none"``).

    ``step``, ``onecycle`` and ``cosine`` advance every optimiser step; ``plateau`` advances at each
    validation with the monitored metric (DFCAN: factor 0.5, patience 10 validations).
    """
    s = cfg.schedule
    sched = torch.optim.lr_scheduler
    if s.name == "none":
        return None
    if s.name == "step":
        return sched.StepLR(optimizer, step_size=s.step_size, gamma=s.gamma)
    if s.name == "plateau":
        mode: Literal["min", "max"] = "min" if cfg.monitor == "val_loss" else "max"
        return sched.ReduceLROnPlateau(
            optimizer, mode=mode, factor=s.factor, patience=s.patience, min_lr=s.min_lr
        )
    if s.name == "cosine":
        return sched.CosineAnnealingLR(optimizer, T_max=total_steps, eta_min=s.min_lr)
    return sched.OneCycleLR(
        optimizer, max_lr=s.max_lr or cfg.optimizer.lr, total_steps=total_steps, pct_start=s.pct_start
    )


@dataclass
class Tracker:
    """Best validation value and early-stopping counters (saved in the checkpoint).

    Attributes
    ----------
    mode : {"min", "max"}
        ``min`` for the validation loss, ``max`` for PSNR/SSIM.
    best, best_step : float, int
        Best monitored value so far (``best.safetensors`` holds its weights) and its step.
    es_best : float
        Reference value of early stopping (moves only by more than ``min_delta``).
    bad : int
        Validations since ``es_best`` last moved.
    """

    mode: str
    best: float
    best_step: int = 0
    es_best: float = 0.0
    bad: int = 0

    @classmethod
    def new(cls, monitor: str) -> Tracker:
        mode = "min" if monitor == "val_loss" else "max"
        worst = float("inf") if mode == "min" else float("-inf")
        return cls(mode=mode, best=worst, es_best=worst)

    def _better(self, value: float, ref: float, delta: float) -> bool:
        return value < ref - delta if self.mode == "min" else value > ref + delta

    def update(self, value: float, step: int, min_delta: float) -> bool:
        """Record a validation; returns True when it is a new best (save ``best`` weights)."""
        improved = self._better(value, self.best, 0.0)
        if improved:
            self.best, self.best_step = value, step
        if self._better(value, self.es_best, min_delta):
            self.es_best, self.bad = value, 0
        else:
            self.bad += 1
        return improved

    def state(self) -> dict[str, Any]:
        return asdict(self)


#: ``data`` fields that may change on resume (they change neither the batches nor the weights)
DATA_CHANGEABLE = ("val_crop", "num_workers", "lazy", "cache_mb")

#: Top-level settings a resumed run must share with the checkpointed one (and every ``data`` field
#: but :data:`DATA_CHANGEABLE`); the others may change on resume (:func:`changeable_on_resume`).
FINGERPRINTED = (
    "model",
    "scale",
    "in_channels",
    "out_channels",
    "loss",
    "optimizer",
    "schedule",
    "seed",
    "adversarial",
    "monitor",
    "log_every",
    "ema_decay",
)


def changeable_on_resume() -> list[str]:
    """The settings that may differ on resume: config fields outside :data:`FINGERPRINTED`."""
    # ``recipe`` only records what filled the settings; the settings themselves are compared one by one
    fixed = set(FINGERPRINTED) | {
        "data",
        "out",
        "resume",
        "init_from",
        "loss_options",
        "config_version",
        "recipe",
    }
    return [k for k in TrainConfig.model_fields if k not in fixed] + [f"data.{k}" for k in DATA_CHANGEABLE]


def fingerprint(cfg: TrainConfig) -> str:
    """The settings a resumed run must share with the original (JSON text, compared on resume)."""
    d = cfg.model_dump(mode="json")
    out = {k: d[k] for k in (*FINGERPRINTED, "loss_options")}
    out["data"] = {k: v for k, v in d["data"].items() if k not in DATA_CHANGEABLE}
    for key in ("lr_dir", "hr_dir", "mask_dir"):
        if out["data"][key] is not None:
            out["data"][key] = os.path.abspath(out["data"][key])
    return json.dumps(out, sort_keys=True)


def _with_defaults(
    saved: dict[str, Any], current: dict[str, Any], section: type[BaseModel]
) -> dict[str, Any]:
    """``saved`` plus, for each setting of ``current`` it lacks, ``section``'s default: a setting added
    after a run was checkpointed is missing from its fingerprint, and that run used the default."""
    out = dict(saved)
    for name in current.keys() - saved.keys():
        field = section.model_fields.get(name)
        if field is not None and not field.is_required():
            value = field.get_default(call_default_factory=True)
            value = value.model_dump(mode="json") if isinstance(value, BaseModel) else value
            out[name] = json.loads(json.dumps(value, default=str))  # tuples as lists, as in the fingerprint
    return out


def check_fingerprint(saved: str, cfg: TrainConfig) -> None:
    """Raise ``ConfigError`` naming the settings that differ from the checkpointed run."""
    old, new = json.loads(saved), json.loads(fingerprint(cfg))
    for doc in (old, new):  # folders compare as absolute paths (older runs stored them as given)
        data = doc.get("data", {})
        for key, value in data.items():
            if key.endswith("_dir") and isinstance(value, str):
                data[key] = os.path.abspath(value)
    old = _with_defaults(old, new, TrainConfig)
    old["data"] = _with_defaults(old.get("data", {}), new["data"], DataSection)
    diffs = []
    for key in sorted(set(old) | set(new)):
        if isinstance(old.get(key), dict) and isinstance(new.get(key), dict):
            both = set(old[key]) | set(new[key])
            diffs += [f"{key}.{k}" for k in sorted(both) if old[key].get(k) != new[key].get(k)]
        elif old.get(key) != new.get(key):
            diffs.append(key)
    if diffs:
        raise ConfigError(
            "cannot resume: these settings differ from the checkpointed run: "
            + ", ".join(diffs)
            + f" (only {', '.join(changeable_on_resume())} may change)"
        )
