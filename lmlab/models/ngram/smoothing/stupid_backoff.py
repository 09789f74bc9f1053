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

from ....counts.blocks import blockwise
from ....counts.ngram_counts import NgramCounts
from ....text.specials import BOS_ID
from ..tables import BackoffTables
from .assemble import LOG10_ZERO
from .kneser_ney import raw_counts


def stupid_backoff_tables(counts: NgramCounts, alpha: float, *, dtype: type = np.float32) -> BackoffTables:
    """Tables of stupid backoff (block by block, :mod:`~lmlab.counts.blocks`)."""
    c = raw_counts(counts)
    probs, backs = [], []
    def score(b):
        cm = c[b.m - 1][b.rows].astype(np.float64)
        total = b.sums(cm)
        denom = total[0] if b.m == 1 else total[b.rel]
        with np.errstate(divide="ignore", invalid="ignore"):
            x = np.log10(cm / denom)
        x[~np.isfinite(x)] = LOG10_ZERO
        if b.m == 1:
            x[BOS_ID] = LOG10_ZERO
        return (x.astype(dtype),)

    for m in range(1, counts.order + 1):
        probs.append(blockwise(counts, m, score, "r")[0])
        back = counts.new_array(len(c[m - 1]) if m < counts.order else 0, dtype)
        back[:] = 0
        backs.append(back)
    return BackoffTables(counts.order, counts.vocab_size, list(counts.keys), probs, backs,
                         constant_backoff10=math.log10(alpha))
