"""Evaluating a tagger: token accuracy, per-tag precision/recall/F1, span F1 for chunk tags.

* Token figures: :func:`lmlab.eval.metrics.tagging_report` over the raw tags (token accuracy,
  macro F1, per-tag precision/recall/F1); gold tags that training never saw are counted
  (``unseen``, ``n_unseen``: each is a wrong prediction), never a crash.
* Span figures, for chunk or named-entity tags (``scheme`` = the tags' scheme: ``iob1``, ``iob2``
  or ``iobes``): gold and predicted tags are converted to IOB2 first
  (:func:`lmlab.data.tagschemes.convert_tags`; conlleval does not know ``S-``, and IOB1/IOB2
  give the same chunks either way), then scored by :func:`lmlab.eval.conlleval.conlleval`:
  ``chunks`` holds its precision, recall, F1 (percentages, conlleval's arithmetic), chunk counts
  and per-type figures; ``span_f1`` is its F1.  Token accuracy stays that of the raw tags (the
  conversion can change a tag, never a chunk).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from ..data.tagschemes import check_scheme, convert_tags
from ..errors import ConfigError
from .conlleval import conlleval
from .metrics import format_report, tagging_report


def _to_iob2(seqs: Sequence[Sequence[str]], scheme: str, what: str) -> list[list[str]]:
    out = []
    for i, tags in enumerate(seqs, start=1):
        try:
            out.append(convert_tags(list(tags), scheme, "iob2"))
        except ConfigError as exc:
            raise ConfigError(f"sentence {i} ({what} tags): {exc}") from None
    return out


def tagging_scores(pred: Sequence[Sequence[str]], gold: Sequence[Sequence[str]], *,
                   train_labels: Collection[str] | None = None, scheme: str | None = None) -> dict:
    """The token report of :func:`tagging_report`, plus ``chunks`` and ``span_f1`` with ``scheme``
    (see the module docstring)."""
    rep = tagging_report(pred, gold, train_labels=train_labels)
    if scheme is not None:
        scheme = check_scheme(scheme)
        chunks = conlleval(_to_iob2(gold, scheme, "gold"), _to_iob2(pred, scheme, "predicted"))
        rep["chunks"] = {k: v for k, v in chunks.to_dict().items() if k not in ("tokens", "accuracy")}
        rep["scheme"] = scheme
        rep["span_f1"] = chunks.f1
    rep["units"] = UNITS if scheme is not None else {k: v for k, v in UNITS.items() if k == "tokens"}
    return rep


# what the numbers of a tagging report are (its --json says so): token figures are fractions,
# span figures percentages (conlleval's own)
UNITS = {"tokens": "fraction (accuracy, majority_baseline, macro_f1, per_class)",
         "spans": "percent (chunks: precision, recall, f1, per_type; span_f1)"}


def evaluate_tagger(model, sentences, *, scheme: str | None = None, batch_size: int = 64, device=None) -> dict:
    """:func:`tagging_scores` of ``model``'s tags (a :class:`~lmlab.models.neural.tagger.TaggingModel`)
    for ``sentences`` (TaggedSentence objects or ``(words, tags)`` pairs) against their gold tags;
    ``train_labels`` are the model's tag set."""
    words, gold = [], []
    for i, s in enumerate(sentences, start=1):
        w, t = (s.words, s.tags) if hasattr(s, "words") else s
        if len(w) != len(t):
            raise ConfigError(f"sentence {i}: {len(w)} words but {len(t)} tags")
        words.append(list(w))
        gold.append(list(t))
    if not words:
        raise ConfigError("no sentences to evaluate the tagger on")
    pred = model.tag(words, batch_size=batch_size, device=device)
    return tagging_scores(pred, gold, train_labels=model.tags.labels, scheme=scheme)


def format_tagging_report(rep: dict) -> str:
    """:func:`~lmlab.eval.metrics.format_report` over tokens, then the span figures (if any)."""
    lines = [format_report(rep, "tokens", percent=True)]  # every figure a percentage, marked %
    if "chunks" in rep:
        c = rep["chunks"]
        lines.append(f"spans ({rep['scheme'].upper()}, conlleval): precision {c['precision']:.2f}%  recall "
                     f"{c['recall']:.2f}%  F1 {c['f1']:.2f}%  ({c['correct_chunks']} correct of {c['pred_chunks']} "
                     f"found, {c['gold_chunks']} gold)")
        width = max([len("type")] + [len(t) for t in c["per_type"]])
        lines.append(f"{'type':{width}s}  precision  recall      F1  gold  found")
        for t, d in c["per_type"].items():
            lines.append(f"{t:{width}s}  {d['precision']:8.2f}%  {d['recall']:5.2f}%  {d['f1']:5.2f}%  "
                         f"{d['gold_chunks']:4d}  {d['pred_chunks']:5d}")
    return "\n".join(lines)
