"""The smoothing methods by name, with their forms and whether they give probabilities."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ....counts.heap import trim
from ....counts.ngram_counts import NgramCounts
from ....errors import ConfigError
from ..tables import BackoffTables
from .assemble import assemble
from .additive import additive_tables
from .good_turing import good_turing_estimate
from .kneser_ney import kneser_ney_estimate
from .stupid_backoff import stupid_backoff_tables
from .witten_bell import witten_bell_estimate

Estimator = Callable[[Any, NgramCounts], tuple[BackoffTables, list[np.ndarray] | None]]


@dataclass(frozen=True)
class SmootherSpec:
    estimate: Estimator
    forms: tuple[bool, ...]  # True = interpolated, False = backoff
    default_interpolate: bool
    normalized: bool = True
    description: str = ""
    #: why its scores are not probabilities (``normalized=False``)
    not_probabilities: str = "gives scores, not probabilities"


def _finish(lm, counts: NgramCounts, est) -> BackoffTables:
    """Count pruning (if asked) and the interpolated or backoff tables."""
    keep = None
    if lm.prune is not None:
        from ..prune import count_keep_masks

        keep = count_keep_masks(counts, lm.prune)
    if lm.limit_vocab is not None:
        from ..prune import both_masks, vocab_keep_masks

        vk = vocab_keep_masks(counts, lm._fit_vocab, lm.limit_vocab)
        keep = vk if keep is None else both_masks(counts, keep, vk)
    if keep is not None:
        from ..prune import prune_estimate

        counts, est = prune_estimate(counts, est, keep)
        if lm.limit_vocab is not None:
            lm._fit_vocab = lm._fit_vocab.subset(keep[0])
    tables = assemble(counts, est, interpolate=lm.interpolate, interpolate_unigrams=lm.interpolate_unigrams)
    trim()  # the estimate's temporaries are freed: their memory goes back before the model is written
    return tables


def _kn(modified: bool, continuation: bool = True) -> Estimator:
    def estimate(lm, counts: NgramCounts):
        est, discounts = kneser_ney_estimate(
            counts, modified=modified, continuation=continuation, discount=lm.discount,
            fallback=lm.discount_fallback,
        )
        return _finish(lm, counts, est), discounts

    return estimate


def _assembled(fn) -> Estimator:
    def estimate(lm, counts: NgramCounts):
        out = fn(counts)
        est, extra = out if isinstance(out, tuple) else (out, None)
        return _finish(lm, counts, est), extra

    return estimate


def _direct(fn) -> Estimator:
    """Methods that build their tables directly (no u/gamma form): no count pruning."""

    def estimate(lm, counts: NgramCounts):
        if lm.prune is not None or lm.limit_vocab is not None:
            raise ConfigError(
                f"count pruning and limit_vocab are not defined for {lm.smoothing}; prune the trained "
                "model with relative-entropy pruning (NgramLM.prune_entropy / lmlab prune) instead"
            )
        tables = fn(lm, counts)
        trim()
        return tables, None

    return estimate


SMOOTHERS: dict[str, SmootherSpec] = {
    "modified_kneser_ney": SmootherSpec(
        _kn(True), (True, False), True, description="three discounts per order (KenLM lmplz)"
    ),
    "kneser_ney": SmootherSpec(_kn(False), (True, False), True, description="one discount per order"),
    "absolute_discounting": SmootherSpec(
        _kn(False, continuation=False), (True, False), True, description="raw counts, one discount per order"
    ),
    "witten_bell": SmootherSpec(_assembled(witten_bell_estimate), (True, False), True),
    "good_turing": SmootherSpec(
        _assembled(good_turing_estimate), (False, True), False, description="Katz backoff (SRILM default)"
    ),
    "additive": SmootherSpec(
        _direct(lambda lm, counts: additive_tables(counts, lm.k)), (False,), False,
        description="add-k (k=1: Laplace; other k: Lidstone)",
    ),
    "mle": SmootherSpec(
        _direct(lambda lm, counts: additive_tables(counts, None)), (False,), False, normalized=False,
        description="maximum likelihood (0 for unseen events)",
        not_probabilities="gives probability 0 to every word and context unseen in training (log10 -99 in an "
                          "ARPA file), so its perplexity is infinite for any text holding one",
    ),
    "stupid_backoff": SmootherSpec(
        _direct(lambda lm, counts: stupid_backoff_tables(counts, lm.alpha)), (False,), False,
        normalized=False, description="Brants et al. 2007: scores, not probabilities",
        not_probabilities="gives scores, not probabilities (they do not sum to 1 over the vocabulary)",
    ),
}
