"""Label metrics: accuracy, macro F1 and a per-class precision/recall/F1 report (for classifiers and
taggers alike: a tagger's report is over its tokens, :func:`tagging_report`).

Labels are compared as strings, so a gold label that training never saw is simply an error of
the model; give ``train_labels`` and the report also counts those labels (``unseen``) and names
them, instead of anything crashing.  Chunk/span F1 by the conlleval definition is
:mod:`lmlab.eval.conlleval`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Sequence

from ..errors import ConfigError


def _pair(pred: Iterable[str], gold: Iterable[str]) -> tuple[list[str], list[str]]:
    p, g = list(pred), list(gold)
    if len(p) != len(g):
        raise ConfigError(f"{len(p)} predictions for {len(g)} gold labels")
    return p, g


def accuracy(pred: Iterable[str], gold: Iterable[str]) -> float:
    """Fraction of predictions equal to their gold label (0.0 for no items)."""
    p, g = _pair(pred, gold)
    return sum(a == b for a, b in zip(p, g)) / max(len(g), 1)


def per_class(pred: Sequence[str], gold: Sequence[str]) -> dict[str, dict]:
    """``{label: {precision, recall, f1, support}}`` for every label in gold or predictions (sorted).

    A label never predicted has precision 0; a label never in gold has recall 0 and support 0."""
    p, g = _pair(pred, gold)
    tp: Counter[str] = Counter(a for a, b in zip(p, g) if a == b)
    n_pred, n_gold = Counter(p), Counter(g)
    out = {}
    for c in sorted(set(n_pred) | set(n_gold)):
        prec = tp[c] / n_pred[c] if n_pred[c] else 0.0
        rec = tp[c] / n_gold[c] if n_gold[c] else 0.0
        out[c] = {"precision": prec, "recall": rec, "f1": 2 * prec * rec / (prec + rec) if prec + rec else 0.0,
                  "support": n_gold[c]}
    return out


def macro_f1(pred: Sequence[str], gold: Sequence[str]) -> float:
    """Mean F1 over the labels that occur in gold (a label only ever predicted is not averaged in)."""
    per = per_class(pred, gold)
    gold_labels = [c for c, d in per.items() if d["support"]]
    return sum(per[c]["f1"] for c in gold_labels) / max(len(gold_labels), 1)


def classification_report(pred: Sequence[str], gold: Sequence[str], *,
                          train_labels: Collection[str] | None = None) -> dict:
    """Accuracy, the majority-class baseline, macro F1, per-class precision/recall/F1 and the
    confusion matrix (``confusion[gold][pred]``).

    With ``train_labels`` (the labels the model was trained on), ``unseen`` maps each gold label
    outside them to its count and ``n_unseen`` is their total (each of them is a wrong prediction)."""
    pred, gold = _pair(pred, gold)
    if not gold:
        raise ConfigError("no examples to report on")
    per = per_class(pred, gold)
    labels = list(per)
    confusion = {g: {p: 0 for p in labels} for g in labels}
    for a, b in zip(pred, gold):
        confusion[b][a] += 1
    rep = {"accuracy": accuracy(pred, gold), "majority_baseline": max(Counter(gold).values()) / len(gold),
           "n": len(gold), "macro_f1": macro_f1(pred, gold), "per_class": per, "confusion": confusion}
    if train_labels is not None:
        known = set(train_labels)
        unseen = Counter(b for b in gold if b not in known)
        rep["unseen"] = dict(sorted(unseen.items()))
        rep["n_unseen"] = sum(unseen.values())
    return rep


def tagging_report(pred: Sequence[Sequence[str]], gold: Sequence[Sequence[str]], *,
                   train_labels: Collection[str] | None = None) -> dict:
    """:func:`classification_report` over the tokens of tag sequences (token accuracy, per tag);
    without the confusion matrix.  A sentence whose lengths differ is an error naming it."""
    if len(pred) != len(gold):
        raise ConfigError(f"{len(pred)} predicted sentences for {len(gold)} gold sentences")
    for i, (a, b) in enumerate(zip(pred, gold), start=1):
        if len(a) != len(b):
            raise ConfigError(f"sentence {i}: {len(a)} predicted tags for {len(b)} gold tags")
    rep = classification_report([t for s in pred for t in s], [t for s in gold for t in s], train_labels=train_labels)
    del rep["confusion"]
    rep["sentences"] = len(gold)
    return rep


def format_report(rep: dict, item: str = "items", *, percent: bool = False) -> str:
    """A :func:`classification_report` as plain text: the summary line, then one row per label
    (its fractions, or with ``percent`` as percentages, each marked %)."""
    if percent:
        def f(v, w=0):
            return f"{100 * v:{max(w - 1, 0)}.2f}%"
    else:
        def f(v, w=0):
            return f"{v:{w}.4f}"
    lines = [(f"accuracy {f(rep['accuracy'])} on {rep['n']} {item} "
              f"(majority class {f(rep['majority_baseline'])}); macro F1 {f(rep['macro_f1'])}")]
    width = max([len("label")] + [len(c) for c in rep["per_class"]])
    lines.append(f"{'label':{width}s}  precision  recall      F1  support")
    for c, d in rep["per_class"].items():
        lines.append(f"{c:{width}s}  {f(d['precision'], 9)}  {f(d['recall'], 6)}  {f(d['f1'], 6)}  {d['support']:7d}")
    if rep.get("n_unseen"):
        shown = ", ".join(f"{c} ({n})" for c, n in rep["unseen"].items())
        lines.append(f"{rep['n_unseen']} gold {item} have labels never seen in training: {shown}")
    return "\n".join(lines)


def wilson_interval(successes: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson's score interval for a proportion (95% by default): ``(low, high)``; ``(nan, nan)``
    for no trials.

    >>> [round(x, 4) for x in wilson_interval(8, 10)]
    [0.4902, 0.9433]
    """
    import math

    if n == 0:
        return math.nan, math.nan
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)
