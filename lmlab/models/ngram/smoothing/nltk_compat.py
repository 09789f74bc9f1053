"""nltk.lm's models, reproduced exactly (``NgramLM(..., compat="nltk")``).

nltk.lm's conventions differ from lmlab's (KenLM's) defaults, and this mode follows them:

* each sentence is padded with ``order - 1`` ``<s>`` and ``order - 1`` ``</s>``
  (``padded_everygram_pipeline``), every window of every order is counted, and every padding
  ``</s>`` is predicted (``<s>`` is context, but has a probability like any word);
* the vocabulary size |V| counts every type seen plus ``<UNK>`` (``len(Vocabulary)``);
* the unigram level of the interpolated models has no uniform floor: an unknown word gets
  probability 0 (perplexity inf), as in nltk.lm;
* MLE / Lidstone / Laplace use the highest-order counts only (a context never seen gives 0 for
  MLE and 1/|V| for Lidstone); Witten-Bell, absolute discounting (d = 0.75) and Kneser-Ney
  (d = 0.1, nltk's default) interpolate down to nltk's unigram estimate (relative frequency; for
  KN the continuation count over all bigram types), with ``alpha = 0, gamma = 1`` in a context
  never seen;
* stupid backoff: relative frequencies, alpha per backoff step, unigrams over all tokens.

Differences from lmlab's default: one ``<s>``/``</s>`` per sentence, ``<s>`` never predicted,
discounted unigrams mixed with the uniform distribution so that ``<unk>`` has mass, KenLM's
``<s>``-initial raw counts in Kneser-Ney, modified KN's three discounts.
"""

from __future__ import annotations

import numpy as np

from ....counts.ngram_counts import NgramCounts
from ....errors import ConfigError
from ..tables import BackoffTables
from .additive import additive_tables
from .assemble import Estimate, assemble, context_sums
from .stupid_backoff import stupid_backoff_tables

NLTK_DISCOUNTS = {"kneser_ney": 0.1, "absolute_discounting": 0.75}
NLTK_METHODS = ("mle", "additive", "witten_bell", "absolute_discounting", "kneser_ney", "stupid_backoff")


def _relative(c: np.ndarray, counts: NgramCounts, m: int) -> np.ndarray:
    total = context_sums(counts, m, c.astype(np.float64))
    return c / (total[0] if m == 1 else total[counts.prefix[m - 1]])


def _interpolated(counts: NgramCounts, method: str, d: float) -> Estimate:
    N = counts.order
    us, gammas = [], []
    for m in range(1, N + 1):
        if method == "kneser_ney" and m < N:
            a = np.bincount(counts.suffix[m], minlength=len(counts.count[m - 1])).astype(np.float64)
        else:
            a = counts.count[m - 1].astype(np.float64)
        if m == 1:  # nltk's unigram_score: relative frequency (of continuation counts for KN)
            us.append(a / a.sum())
            gammas.append(np.zeros(1))
            continue
        total = context_sums(counts, m, a)
        types = context_sums(counts, m, (counts.count[m - 1] > 0).astype(np.float64))
        den = total[counts.prefix[m - 1]]
        with np.errstate(divide="ignore", invalid="ignore"):
            if method == "witten_bell":
                us.append(a / (den + types[counts.prefix[m - 1]]))
                gammas.append(np.where(total > 0, types / (types + total), 0.0))
            else:
                us.append(np.maximum(a - d, 0.0) / den)
                gammas.append(np.where(total > 0, d * types / total, 0.0))
    return Estimate(us, gammas)


def nltk_tables(lm, counts: NgramCounts) -> BackoffTables:
    method = lm.smoothing
    if method not in NLTK_METHODS:
        raise ConfigError(f"nltk.lm has no {method}; compat='nltk' supports {', '.join(NLTK_METHODS)}")
    if lm.prune is not None:
        raise ConfigError("nltk.lm has no pruning; compat='nltk' cannot prune")
    if method == "mle":
        return additive_tables(counts, None, nltk=True, dtype=np.float64)
    if method == "additive":
        return additive_tables(counts, lm.k, nltk=True, dtype=np.float64)
    if method == "stupid_backoff":
        return stupid_backoff_tables(counts, lm.alpha, nltk=True, dtype=np.float64)
    d = NLTK_DISCOUNTS.get(method, 0.0) if lm.discount is None else float(lm.discount)
    est = _interpolated(counts, method, d)
    return assemble(counts, est, interpolate=True, predict_bos=True, dtype=np.float64)
