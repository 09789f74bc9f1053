"""The taggers' task for the generic trainer: length-bucketed batches of tagged sentences
(:mod:`lmlab.tensors.tagging`), and the dev metric: token accuracy, or conlleval span F1 when
the tags are chunks of a scheme (``iob1``, ``iob2``, ``iobes``); higher is better.

Training data is a :class:`~lmlab.tensors.tagging.TaggingData` (encoded once); dev data is the
tagged sentences themselves (gold tags as strings, so that a dev tag training never saw counts
as an error, not a crash).
"""

from __future__ import annotations

from ..errors import CorpusError
from ..eval.tagging import evaluate_tagger
from ..tensors.tagging import TaggingBatches
from .tasks import Task


class TagTask(Task):
    higher_is_better = True
    item = "token"
    scored = "tags"

    def __init__(self, train_config, model, scheme: str | None = None):
        self.batch_size, self.scheme = train_config.batch_size, scheme
        self.metric = "span_f1" if scheme else "accuracy"
        self.best_possible = 100.0 if scheme else 1.0  # conlleval's percentage, or a fraction

    def check(self, data) -> None:
        if not self.n_train_batches(data):
            raise CorpusError("the training data has no tagged sentence with words")

    def check_dev(self, model, sentences) -> None:
        from ..text.labels import check_shared_labels

        gold = (t for s in sentences for t in (s.tags if hasattr(s, "tags") else s[1]))  # or (words, tags) pairs
        check_shared_labels(gold, model.tags, "the dev data (--valid, or the sentences held out)", "tags",
                            ("is trained on", "check the dev file's --label_column: every epoch would score 0%"))

    def train_batches(self, data, epoch: int, seed: int):
        yield from TaggingBatches(data, self.batch_size, shuffle=True, seed=seed).epoch(epoch)

    def n_train_batches(self, data) -> int:
        return len(TaggingBatches(data, self.batch_size, shuffle=False))

    @property
    def metric_label(self) -> str:
        return f"conlleval span F1, {self.scheme.upper()}" if self.scheme else "token accuracy"

    def format_metric(self, value: float) -> str:
        """A percentage, marked % (span F1 is conlleval's percentage; token accuracy, a fraction, is scaled)."""
        return f"{value if self.scheme else 100 * value:6.2f}%"

    def evaluate(self, model, sentences, device="cpu", progress: bool = False) -> float:
        rep = evaluate_tagger(model, sentences, scheme=self.scheme, device=device)
        return float(rep["span_f1"] if self.scheme else rep["accuracy"])

    def config_dict(self) -> dict:
        return {"scheme": self.scheme} if self.scheme else {}


def make_task(train_config, model, scheme: str | None = None) -> TagTask:
    return TagTask(train_config, model, scheme)
