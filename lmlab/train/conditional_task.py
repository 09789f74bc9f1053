"""The conditional LM's task for the generic trainer: length-bucketed batches of sentences with
their conditions (:func:`lmlab.tensors.conditional.conditional_batches`, shuffled with ``(seed,
epoch)``) and the dev metric, the dev sentences' perplexity given their conditions (``</s>``
included; lower is better).

Training and dev data are :class:`ConditionalData`: the texts and one condition per text, label
strings (encoded with the model's label set; a dev label that training never saw is an error
naming it) or an ``(N, F)`` array of feature vectors.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import CorpusError
from ..tensors.conditional import conditional_batches
from .tasks import Task, batches_perplexity


@dataclass
class ConditionalData:
    texts: list[str]
    conditions: list[str] | np.ndarray  # a label per text, or (N, F) feature vectors

    def __len__(self) -> int:
        return len(self.texts)

    def condition_array(self, model) -> np.ndarray:
        """Label ids (the model's label set) or the float vectors."""
        if model.labels is not None:
            return model.labels.encode(list(self.conditions), where="conditional LM data")
        return np.asarray(self.conditions, dtype=np.float64)

    def batches(self, model, batch_size: int, shuffle: bool = False, seed=0):
        return conditional_batches(self.texts, self.condition_array(model), model.tokens, batch_size=batch_size,
                                   shuffle=shuffle, seed=seed)


class ConditionalTask(Task):
    metric = "perplexity"
    higher_is_better = False
    item = "token"
    scored = "target_output"

    def __init__(self, train_config, model):
        self.batch_size, self._model = train_config.batch_size, model

    def check(self, data: ConditionalData) -> None:
        if not len(data):
            raise CorpusError("the training data has no sentence")

    def train_batches(self, data: ConditionalData, epoch: int, seed: int):
        yield from data.batches(self._model, self.batch_size, True, (seed, epoch))

    def n_train_batches(self, data: ConditionalData) -> int:
        return math.ceil(len(data) / self.batch_size)

    @property
    def metric_label(self) -> str:
        return "dev perplexity given each sentence's condition"

    def evaluate(self, model, data: ConditionalData, device="cpu", progress: bool = False) -> float:
        was = model.training
        model.eval()
        try:
            return batches_perplexity(model, data.batches(model, self.batch_size), device)
        finally:
            model.train(was)


def make_task(train_config, model) -> ConditionalTask:
    return ConditionalTask(train_config, model)
