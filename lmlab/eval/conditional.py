"""Perplexity of text given its condition, for a conditional LM (``lmlab evaluate`` on a
``conditional-lm`` checkpoint).

A label-conditioned model is scored on ``(label, text)`` pairs four ways:

* ``true``: each sentence given its own label, ``p(x | y)``;
* ``flipped`` (two labels only): each sentence given the other label, ``p(x | not y)``;
* ``label L``: every sentence given label ``L``;
* ``unconditional``: the marginal over the labels with the training prior, ``p(x) = sum_l
  prior(l) p(x | l)`` (log-sum-exp over the labels, per sentence; as a LanguageModel it is
  :func:`~lmlab.models.neural.conditioned.label_marginal`, whose per-token probabilities multiply
  to it).  It is the honest unconditional figure of a model that was only ever trained with a
  label: no label is picked, the model's own prior weighs them.  Since ``p(x) >= prior(y) p(x |
  y)``, the unconditional perplexity exceeds the true-label one by at most the factor
  ``exp(-sum_i log prior(y_i) / tokens)`` (for SST-2's balanced labels and ~20-token sentences,
  about 2^(1/20), 3.5%): the labels' information per sentence is at most their entropy.

A feature-conditioned model is scored ``true`` (each line given its own vector) and ``shuffled``
(each line given the next line's vector, the last the first's: a condition that does not belong to
it).  Tokens count ``</s>``; an OOV is scored as ``<unk>`` and counted, as in ``lmlab perplexity``.
A sentence whose label training never saw has no ``p(x | y)``: it is left out of every figure and
counted (``unseen``, ``n_unseen``), never a crash.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from ..errors import ConfigError, UnknownLabelError
from .perplexity import report_from_scores


def _report(scores: list[np.ndarray], enc: list[np.ndarray]) -> dict:
    ids = np.concatenate([np.append(s, 2).astype(np.int64) for s in enc])
    return report_from_scores(np.concatenate(scores), ids, len(enc)).to_dict()


def _checked(model, texts: Sequence[str], conditions) -> list[np.ndarray]:
    """The texts' token ids, checked to be as many as the conditions (if given) and not none."""
    from ..tensors.classification import encode_texts

    texts = list(texts)
    if not texts:
        raise ConfigError("no sentences to evaluate the conditional LM on")
    if conditions is not None and len(conditions) != len(texts):
        raise ConfigError(f"{len(texts)} sentences but {len(conditions)} conditions")
    return encode_texts(texts, model.tokens)


def _condition_array(model, conditions) -> np.ndarray:
    """Label strings as the model's label ids (an unknown label is an error naming the known
    ones), or the ``(N, F)`` vectors as floats."""
    from ..models.neural.conditioned import label_id

    if model.labels is not None:
        return np.array([label_id(model, str(y)) for y in conditions], dtype=np.int64)
    return np.asarray(conditions, dtype=np.float64)


def perplexity_given(model, texts: Sequence[str], conditions=None, *, batch_size: int = 64) -> dict:
    """The perplexity report (:func:`~lmlab.eval.perplexity.report_from_scores`'s dict) of
    ``texts`` given ``conditions`` (a label string per text, or an ``(N, F)`` array of vectors;
    None: unconditionally, the labels' mixture with the training prior)."""
    from ..models.neural.conditioned import label_marginal, token_logprobs

    enc = _checked(model, texts, conditions)
    if conditions is None:
        return _report(label_marginal(model, batch_size).corpus_token_logprobs(enc), enc)
    return _report(token_logprobs(model, enc, _condition_array(model, conditions), batch_size), enc)


def conditional_perplexities(model, texts: Sequence[str], conditions, *, batch_size: int = 64) -> dict:
    """``{"sentences", "tokens", "condition", "perplexity": {setting: report dict}}`` (module docstring);
    ``conditions``: a label string per text, or an ``(N, F)`` array of vectors."""
    from ..models.neural.conditioned import label_marginal, token_logprobs

    texts, conditions = list(texts), conditions
    unseen: Counter[str] = Counter()
    if model.labels is not None:  # a sentence whose label training never saw has no p(x | y): counted, left out
        _checked(model, texts, conditions)
        unseen = Counter(str(y) for y in conditions if str(y) not in model.labels)
        if unseen:
            kept = [(t, y) for t, y in zip(texts, conditions, strict=True) if str(y) in model.labels]
            if not kept:
                raise UnknownLabelError(f"no sentence has a label the model was trained with (its labels: "
                                  f"{', '.join(model.labels.labels)}; the test labels: {', '.join(sorted(unseen))})")
            texts, conditions = [t for t, _ in kept], [y for _, y in kept]
    enc = _checked(model, texts, conditions)
    given = _condition_array(model, conditions)
    out: dict = {"true": _report(token_logprobs(model, enc, given, batch_size), enc)}
    if model.labels is not None:
        if len(model.labels) == 2:
            out["flipped"] = _report(token_logprobs(model, enc, 1 - given, batch_size), enc)
        for i, name in enumerate(model.labels.labels):
            out[f"label {name}"] = _report(token_logprobs(model, enc, np.full(len(enc), i), batch_size), enc)
        out["unconditional"] = _report(label_marginal(model, batch_size).corpus_token_logprobs(enc), enc)
    else:
        out["shuffled"] = _report(token_logprobs(model, enc, np.roll(given, -1, axis=0), batch_size), enc)
    first = out["true"]
    rep = {"sentences": first["sentences"], "tokens": first["tokens"], "condition": model.condition,
           "perplexity": out}
    if model.labels is not None:
        rep["unseen"], rep["n_unseen"] = dict(sorted(unseen.items())), sum(unseen.values())
    return rep


DESCRIBE = {"true": "given each sentence's own condition", "flipped": "given the other label",
            "unconditional": "the labels' mixture with the training prior",
            "shuffled": "given the next line's vector (not its own)"}


def format_conditional_report(rep: dict) -> str:
    lines = [f"sentences {rep['sentences']}  tokens {rep['tokens']} (</s> included)  condition: {rep['condition']}"]
    for name, r in rep["perplexity"].items():
        what = DESCRIBE.get(name, "every sentence given this label")
        lines.append(f"perplexity {name:<14} {r['perplexity']:10.4f}  ({what})")
    if rep.get("n_unseen"):
        shown = ", ".join(f"{c} ({n})" for c, n in rep["unseen"].items())
        lines.append(f"{rep['n_unseen']} sentences left out: their labels were never seen in training: {shown}")
    return "\n".join(lines)
