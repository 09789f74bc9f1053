"""Evaluating a sentence classifier: accuracy, macro F1, per-class precision/recall/F1 and the
confusion matrix (:func:`lmlab.eval.metrics.classification_report`); gold labels that training
never saw are counted (``unseen``, ``n_unseen``: each is a wrong prediction), never a crash.
"""

from __future__ import annotations

from ..errors import ConfigError
from .metrics import classification_report, format_report


def evaluate_classifier(model, examples, *, batch_size: int = 64, device=None) -> dict:
    """:func:`classification_report` of ``model``'s labels (a
    :class:`~lmlab.models.neural.classifier.Classifier`) for ``(label, text)`` pairs; the model's
    label set is ``train_labels``.  A text without tokens gets no label (an error of the model)."""
    examples = list(examples)
    if not examples:
        raise ConfigError("no examples to evaluate the classifier on")
    pred = model.classify([t for _, t in examples], batch_size=batch_size, device=device)
    return classification_report(["" if p is None else p for p in pred], [g for g, _ in examples],
                                 train_labels=model.labels.labels)


def format_classification_report(rep: dict) -> str:
    return format_report(rep, "sentences")
