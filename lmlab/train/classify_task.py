"""The classifier's task for the generic trainer: length-bucketed batches of ``(label, text)``
pairs (:func:`lmlab.tensors.classification.classification_batches`, shuffled with ``(seed,
epoch)``), and the dev metric, sentence accuracy (higher is better).

Training and dev data are the ``(label, text)`` pairs themselves; dev labels stay strings, so a
dev label that training never saw counts as an error, not a crash.
"""

from __future__ import annotations

from ..errors import CorpusError
from ..eval.classification import evaluate_classifier
from ..tensors.classification import classification_batches
from .tasks import Task


class ClassifyTask(Task):
    metric = "accuracy"
    higher_is_better = True
    best_possible = 1.0
    item = "sentence"
    scored = "labels"

    def __init__(self, train_config, model):
        self.batch_size, self.model = train_config.batch_size, model

    def _batches(self, data, shuffle: bool, seed=0):
        return classification_batches(data, self.model.tokens, self.model.labels, batch_size=self.batch_size,
                                      shuffle=shuffle, seed=seed)

    def check(self, data) -> None:
        if not data:
            raise CorpusError("the training data has no labelled sentence")

    def check_dev(self, model, examples) -> None:
        from ..text.labels import check_shared_labels

        check_shared_labels((label for label, _ in examples), model.labels, "the dev data (--valid, or the "
                            "examples held out)", "labels", ("is trained on", "check the dev file's labels: every "
                                                             "epoch would score 0%"))

    def train_batches(self, data, epoch: int, seed: int):
        yield from self._batches(data, True, (seed, epoch))

    def n_train_batches(self, data) -> int:
        return len(self._batches(data, False))

    @property
    def metric_label(self) -> str:
        return "sentence accuracy"

    def evaluate(self, model, examples, device="cpu", progress: bool = False) -> float:
        return float(evaluate_classifier(model, examples, device=device)["accuracy"])


def make_task(train_config, model) -> ClassifyTask:
    return ClassifyTask(train_config, model)
