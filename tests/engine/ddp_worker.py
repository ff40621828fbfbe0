"""Run by ``torchrun --nproc_per_node=2`` in test_ddp.py: trains a tiny model with DDP on the CPU.

Each rank records which batch indices it drew in ``OUT.rank<k>.json`` (beside the run folder).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.helpers import TinyBatcher, tiny_config, tiny_data  # noqa: E402

from microsr.engine.loop import run_training  # noqa: E402


class Recording(TinyBatcher):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.drawn: list[int] = []

    def batch(self, index):
        self.drawn.append(index)
        return super().batch(index)


def main(out: str) -> None:
    torch.set_num_threads(1)
    data = tiny_data()
    data.batcher = Recording(0)
    cfg = tiny_config(out, steps=4, val_every=2)
    run_training(cfg, data, progress=False)
    rank = int(os.environ["RANK"])
    Path(f"{out}.rank{rank}.json").write_text(
        json.dumps({"drawn": data.batcher.drawn, "world": int(os.environ["WORLD_SIZE"])})
    )


if __name__ == "__main__":
    main(sys.argv[1])
