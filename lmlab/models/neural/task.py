"""The one protocol between the trainer and every neural model: language models, taggers,
classifiers, encoder-decoders and conditional LMs.

The training loop knows no architecture: it asks a batch source for :class:`Batch` objects and
the model for its loss, and everything else (clipping, schedules, early stopping on the task's
dev metric, exact resume, the NaN guard, atomic checkpoints, progress, threads) is written once.

* :meth:`TaskModel.loss` returns the **summed** loss over the batch's items and the number of
  items (tokens for an LM or a tagger, sentences for a classifier, target tokens for seq2seq).
  The trainer divides by the item count of the whole (possibly data-parallel) step, so that the
  gradient does not depend on how a step is split into batches or processes.
* :meth:`TaskModel.predict` returns one prediction per example (label ids per token, one label
  id, target token ids), in the batch's order.
* A model is data: :meth:`TaskModel.config_dict` (JSON) plus its named vocabularies (``tokens``,
  ``source``, ``target``, ``chars``, ``tags``, ``labels``) plus its weights rebuild it through
  :meth:`TaskModel.from_config`.  ``kind`` is written to ``config.json``; loading dispatches on
  it and refuses a checkpoint of another kind, naming both.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection, Iterable, Mapping
from typing import Any, ClassVar

import torch
from torch import nn

from ...errors import ConfigError
from ...tensors.batch import Batch  # its home is the tensors layer, where the batch makers build it
from .kinds import KINDS  # noqa: F401 - the kinds ``lmlab train --kind`` takes; the table is there


class TaskModel(nn.Module, ABC):
    """Base class of every model the trainer trains (see the module docstring)."""

    kind: ClassVar[str]

    @abstractmethod
    def loss(self, batch: Batch) -> tuple[torch.Tensor, int]:
        """(summed loss over the batch's items, number of items)."""

    @abstractmethod
    def predict(self, batch: Batch) -> list[Any]:
        """One prediction per row of ``batch``, in its order."""

    @abstractmethod
    def config_dict(self) -> dict:
        """A JSON-able dict that, with the vocabularies, rebuilds this model (``from_config``)."""

    @classmethod
    @abstractmethod
    def from_config(cls, config: Mapping, vocabs: Mapping[str, Any]) -> TaskModel:
        """The model ``config_dict`` describes, over these named vocabularies (untrained weights)."""

    def predict_batches(self, batches: Iterable[Batch],
                        device: torch.device | str | None = None) -> list[tuple[list[int], list[Any]]]:
        """``(batch.index, predict(batch))`` of each batch, in eval mode (the mode is restored after)."""
        was = self.training
        self.eval()
        try:
            return [(b.index, self.predict(b if device is None else b.to(device))) for b in batches]
        finally:
            self.train(was)


def settings_of(config: Mapping, allowed: Collection[str], what: str) -> dict:
    """A ``config.json``'s settings without its ``kind``; one the model does not have is an error
    naming it (``what``: e.g. "classifier")."""
    params = {k: v for k, v in config.items() if k != "kind"}
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise ConfigError(f"unknown {what} settings: {', '.join(unknown)}")
    return params
