"""The resume state of a run, saved and restored in this one place.

``checkpoint/last.pt`` holds the step reached, the generator, optimiser and schedule states, the
recipe's share (discriminator and its optimiser, ``None`` in plain runs), the weight average, the
best/early-stopping tracker, the random generators, the settings fingerprint and the step losses
not yet logged. :func:`save_state` writes it (rank 0 only) and flushes ``log.csv`` with it, so the
two always agree; :func:`restore_state` reads it back into a :class:`~microsr.engine.session.Session`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from microsr.engine import build
from microsr.engine.checkpoint import load_checkpoint, rng_state, save_checkpoint
from microsr.errors import ConfigError

if TYPE_CHECKING:
    from microsr.engine.session import Session


def checkpoint_path(session: Session):
    """``RUN/checkpoint/last.pt``."""
    return session.out / "checkpoint" / "last.pt"


def save_state(session: Session, step: int) -> None:
    """Write the resume state after ``step`` steps (rank 0 only) and flush ``log.csv``."""
    if not session.rank0:
        return
    s = session
    save_checkpoint(
        checkpoint_path(s),
        {
            "step": step,
            "total_steps": s.total,
            "model": s.model.state_dict(),
            "optimizer": s.optimizer.state_dict(),
            "scheduler": None if s.scheduler is None else s.scheduler.state_dict(),
            **s.recipe.state(),
            "ema": None if s.ema is None else s.ema.state_dict(),
            "tracker": s.tracker.state(),
            "rng": rng_state(),
            "fingerprint": build.fingerprint(s.cfg),
            "pending_losses": s.pending,
        },
    )
    assert s.log is not None
    s.log.flush()


def restore_state(session: Session) -> dict[str, Any]:
    """Load the resume state into ``session``; returns the saved random-generator states.

    The caller restores the generators last, once nothing else of the set-up draws from them.

    Raises
    ------
    ConfigError
        The settings differ from the checkpointed run, or a schedule that depends on the total
        number of steps would change.
    """
    s, cfg = session, session.cfg
    ckpt = load_checkpoint(checkpoint_path(s))
    build.check_fingerprint(ckpt["fingerprint"], cfg)
    if (
        s.scheduler is not None
        and cfg.schedule.name in ("onecycle", "cosine")
        and ckpt["total_steps"] != s.total
    ):
        raise ConfigError(
            f"schedule {cfg.schedule.name!r} depends on the total number of steps; "
            f"it was {ckpt['total_steps']}, now {s.total}: resume with the same steps"
        )
    s.model.load_state_dict(ckpt["model"])
    s.optimizer.load_state_dict(ckpt["optimizer"])
    if s.scheduler is not None:
        s.scheduler.load_state_dict(ckpt["scheduler"])
    s.recipe.load_state(ckpt)
    if s.ema is not None:
        s.ema.load_state_dict(ckpt["ema"])
    s.tracker = build.Tracker(**ckpt["tracker"])
    s.start = int(ckpt["step"])
    s.pending = {k: list(v) for k, v in ckpt.get("pending_losses", {}).items()}
    return ckpt["rng"]
