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
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch
from torch import nn

from .kinds import KINDS  # noqa: F401 - the kinds ``lmlab train --kind`` takes; the table is there


@dataclass
class Batch:
    """Padded tensors of one batch and what they hold.

    ``tensors`` maps names to tensors (e.g. ``tokens`` (B, T) int64, ``lengths`` (B,) int64,
    ``tags`` (B, T) with :data:`lmlab.text.specials.PAD_ID` at padding); ``n_items`` is what the
    loss is summed over; ``index`` gives each row's position in the source data so predictions
    can be put back in input order.  ``carry`` says the batch continues the one before it (an LM's
    next BPTT window over the same columns): a stateful model may start from the state it ended
    that batch in (detached); a batch without ``carry`` starts fresh.
    """

    tensors: dict[str, torch.Tensor]
    n_items: int
    index: list[int] = field(default_factory=list)
    carry: bool = False

    def __getitem__(self, name: str) -> torch.Tensor:
        return self.tensors[name]

    def to(self, device: torch.device | str) -> Batch:
        return Batch({k: v.to(device) for k, v in self.tensors.items()}, self.n_items, self.index, self.carry)


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
