"""Stupid backoff (Brants et al. 2007): scores, not probabilities.

    S(w | h) = c(h w) / c(h)             if c(h w) > 0
             = alpha * S(w | h')          otherwise (alpha = 0.4)
    S(w)     = c(w) / (number of predicted tokens)

Every backoff step costs ``alpha``, whether or not the context was seen.  The scores of a context
do not sum to 1, so the model has ``normalized = False``: perplexity refuses it, and ARPA export
refuses it too (ARPA's backoff applies only to contexts in the file).
"""

from __future__ import annotations

import math

import numpy as np

from ....counts.ngram_counts import NgramCounts
from ....text.specials import BOS_ID
from ..tables import BackoffTables
from .assemble import LOG10_ZERO, context_sums
from .kneser_ney import raw_counts


def stupid_backoff_tables(counts: NgramCounts, alpha: float, *, dtype: type = np.float32) -> BackoffTables:
    """Tables of stupid backoff."""
    c = raw_counts(counts)
    probs, backs = [], []
    for m in range(1, counts.order + 1):
        cm = c[m - 1].astype(np.float64)
        total = context_sums(counts, m, cm)
        denom = total[0] if m == 1 else total[counts.prefix[m - 1]]
        with np.errstate(divide="ignore", invalid="ignore"):
            lp = np.log10(cm / denom)
        lp[~np.isfinite(lp)] = LOG10_ZERO
        if m == 1:
            lp[BOS_ID] = LOG10_ZERO
        probs.append(lp.astype(dtype))
        backs.append(np.zeros(len(cm) if m < counts.order else 0, dtype=dtype))
    return BackoffTables(counts.order, counts.vocab_size, list(counts.keys), probs, backs,
                         constant_backoff10=math.log10(alpha))
