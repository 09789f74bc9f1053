"""How a run trains: :class:`TrainConfig` (epochs, optimizer, clipping, batching, seed, threads)."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np

FLOAT32_MAX = float(np.finfo(np.float32).max)


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 6
    lr: float = 20.0
    optimizer: str = "sgd"  # sgd | adam | adamw
    weight_decay: float = 0.0
    clip: float = 0.25  # global gradient norm; 0 = off
    bptt: int = 35
    batch_size: int = 20
    eval_batch_size: int = 10
    anneal: float = 4.0
    patience: int = 0  # early stopping: epochs without improvement (0 = never stop early)
    mode: str = "stream"  # stream | sentence
    seed: int = 1111
    threads: int | None = None  # None: the free cores
    max_batches: int | None = None  # per epoch (smoke runs, time-boxed benchmarks)
    dry_run: bool = False
    device: str = "cpu"
    progress: bool = True

    def problems(self) -> list[str]:
        out = []
        if self.optimizer not in ("sgd", "adam", "adamw"):
            out.append(f"optimizer {self.optimizer!r} is not one of sgd, adam, adamw")
        if self.mode not in ("stream", "sentence"):
            out.append(f"mode {self.mode!r} is not one of stream, sentence")
        for name in ("epochs", "bptt", "batch_size", "eval_batch_size"):
            if getattr(self, name) < 1:
                out.append(f"{name} must be >= 1, got {getattr(self, name)}")
        if not 0 < self.lr <= FLOAT32_MAX:  # the optimizers hold it as a float32 tensor
            out.append(f"lr must be > 0 and at most {FLOAT32_MAX:.3g}, got {self.lr}")
        if not 0 <= self.clip < math.inf:
            out.append(f"clip must be >= 0 and finite, got {self.clip}")
        if self.anneal < 1:
            out.append(f"anneal must be >= 1, got {self.anneal}")
        return out


def free_cores() -> int:
    """Cores not busy with other work (oversubscribing 2 cores costs 5-8x, PEERS-NEURAL.md)."""
    n = os.cpu_count() or 1
    try:
        busy = int(round(os.getloadavg()[0]))
    except OSError:
        busy = 0
    return max(1, min(n, n - busy))
