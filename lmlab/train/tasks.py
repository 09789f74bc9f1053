"""What a kind of model brings to the trainer besides the model: its batches and its dev metric.

The trainer (:mod:`lmlab.train.loop`) knows no architecture and no data format.  A :class:`Task`
turns the training data into the :class:`~lmlab.models.neural.task.Batch` objects of an epoch
(shuffled with the seed it is given, so a resumed run repeats an uninterrupted one), scores the
dev data with the task's metric, and says whether higher is better: early stopping, the choice
of the best checkpoint and SGD's annealing all follow that metric.  The LM's task is
:mod:`lmlab.train.lm_task`; a new kind's is named in :mod:`lmlab.models.neural.kinds`.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import Any

import torch

from ..models.neural.task import Batch, TaskModel


class Task(ABC):
    #: the dev metric's name (``perplexity``, ``accuracy``, ``f1``, ``bleu``, ...)
    metric: str = "loss"
    #: True for accuracy, F1, BLEU; False for perplexity or a loss
    higher_is_better: bool = False
    #: the dev metric's best possible value (accuracy 1), if it has one: early stopping also stops
    #: there, as no later epoch can improve on it (the best epoch's model, the one kept, is the same)
    best_possible: float | None = None
    #: what one item of ``Batch.n_items`` is, for rates in messages (tokens, sentences)
    item: str = "item"
    #: how data-parallel training splits a batch (:func:`lmlab.train.distributed.shard`): the axis
    #: of its tensors that holds the rows, and the tensor whose entries other than padding are its items
    rows_axis: int = 0
    scored: str = "targets"

    # -- data -------------------------------------------------------------------------------
    def check(self, train_data: Any) -> None:
        """Raise :class:`~lmlab.errors.CorpusError` if the training data cannot make one batch."""

    def check_dev(self, model: TaskModel, dev_data: Any) -> None:
        """Raise :class:`~lmlab.errors.ConfigError` if the dev data cannot be of this model's task
        (e.g. gold labels none of which training has: another column or label set)."""

    def prepare(self, model: TaskModel, train_data: Any) -> None:
        """Once, before the first epoch of a fresh run (not on resume): e.g. statistics of the data."""

    @abstractmethod
    def train_batches(self, train_data: Any, epoch: int, seed: int) -> Iterator[Batch]:
        """The training batches of ``epoch`` (1-based), shuffled from ``seed`` and ``epoch`` only."""

    @abstractmethod
    def n_train_batches(self, train_data: Any) -> int:
        """How many batches :meth:`train_batches` yields in an epoch (the progress bar's total)."""

    @abstractmethod
    def evaluate(self, model: TaskModel, dev_data: Any, device: Any = "cpu", progress: bool = False) -> float:
        """The dev metric of ``model`` on ``dev_data`` (the model's train/eval mode is kept)."""

    # -- the metric -------------------------------------------------------------------------
    def better(self, value: float, best: float) -> bool:
        """``value`` improves on ``best`` (NaN never does)."""
        if math.isnan(value):
            return False
        return value > best if self.higher_is_better else value < best

    @property
    def worst(self) -> float:
        """The best value before any epoch."""
        return -math.inf if self.higher_is_better else math.inf

    @property
    def metric_label(self) -> str:
        """How the metric is measured, beside every figure (e.g. ``stream, 10 columns``)."""
        return self.metric

    def format_metric(self, value: float) -> str:
        """The dev metric as printed (a task whose figures are percentages marks them %)."""
        return f"{value:8.4f}"

    def config_dict(self) -> dict:
        """Options of the task saved with the run (``make_task(train_config, model, **options)``)."""
        return {}

    # -- what a run prints and records --------------------------------------------------------
    def history_row(self, epoch: int, lr: float, loss_sum: float, n_items: int, seconds: float, value: float,
                    best: bool) -> dict:
        """One epoch's row of ``log.jsonl`` and ``trainer_state.json``."""
        return {"epoch": epoch, "lr": lr, "train_loss": loss_sum / max(n_items, 1), f"valid_{self.metric}": value,
                "items_per_s": n_items / seconds if seconds else 0.0, "seconds": seconds, "best": best}

    def epoch_message(self, row: dict) -> str:
        return (f"| epoch {row['epoch']:3d} | {row['seconds']:6.1f}s | lr {row['lr']:.4g} | train loss "
                f"{row['train_loss']:8.4f} | valid {self.metric} {self.format_metric(row[f'valid_{self.metric}'])} "
                f"({self.metric_label}) | {row['items_per_s']:.0f} {self.item}s/s")

    def postfix(self, loss: float, items_per_s: float) -> dict:
        """The progress bar's figures after a step (``loss`` is the step's normalised loss)."""
        return {"loss": f"{loss:.3f}", f"{self.item[:3]}_s": f"{items_per_s:.0f}"}


@torch.no_grad()
def batches_perplexity(model, batches, device="cpu") -> float:
    """exp(summed loss / items) of a model's :meth:`loss` over ``batches`` (NaN for no items)."""
    total, n = 0.0, 0
    for b in batches:
        loss, items = model.loss(b.to(device))
        total, n = total + float(loss), n + items
    return math.exp(total / n) if n else math.nan
