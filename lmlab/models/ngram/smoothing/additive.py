"""Maximum likelihood and additive (add-k: Laplace k=1, Lidstone) estimates.

Both use the longest context the history offers (the last ``order - 1`` tokens, or the
sentence so far from ``<s>``), without recursion to lower orders::

    MLE:    p(w | h) = c(h w) / c(h)
    add-k:  p(w | h) = (c(h w) + k) / (c(h) + k |V|)        |V| = vocabulary without <s>

In a context never seen, add-k gives the uniform 1/|V|; MLE gives 0 to everything (so MLE is
not normalised there: it is a *scorer*), and 0 to any unseen word (log10 -99, ARPA's "never").

Both are written as backoff tables so that they are saved as ARPA and queried like any model:
the n-grams with a full context (order N, or starting with ``<s>``) carry the estimate; the other
lower-order n-grams are kept only as prefixes ("blanks": probability 1/|V| for add-k, 0 for MLE,
backoff 1); a full context ``h`` has backoff ``k|V| / (c(h) + k|V|)`` for add-k, 0 for MLE.
"""

from __future__ import annotations

import numpy as np

from ....counts.blocks import blockwise
from ....counts.ngram_counts import NgramCounts
from ....text.specials import BOS_ID, EOS_ID
from ..tables import BackoffTables
from .assemble import LOG10_ZERO
from .kneser_ney import raw_counts


def _log10(x: np.ndarray, dtype: type = np.float32) -> np.ndarray:
    with np.errstate(divide="ignore"):
        out = np.log10(x)
    out[~np.isfinite(out)] = LOG10_ZERO
    return np.minimum(out, 0.0).astype(dtype)


def additive_tables(counts: NgramCounts, k: float | None, *, dtype: type = np.float32) -> BackoffTables:
    """Tables of add-k smoothing, or of MLE when ``k`` is None (block by block, :mod:`~lmlab.counts.blocks`)."""
    N, V = counts.order, counts.vocab_size
    n_words = V - 1
    c = raw_counts(counts)
    kk = 0.0 if k is None else float(k)
    blank_p = 0.0 if k is None else 1.0 / n_words
    probs, backs = [], []

    def prob(b):
        m = b.m
        cm = c[m - 1][b.rows].astype(np.float64)
        total = b.sums(cm)
        denom = (total[0] if m == 1 else total[b.rel]) + kk * n_words
        with np.errstate(divide="ignore", invalid="ignore"):
            p = np.where(denom > 0, (cm + kk) / denom, 0.0)
        if m < N:
            full = counts.bos_first[m - 1][b.rows] if m > 1 else np.zeros(len(p), dtype=bool)
            p = np.where(full, p, blank_p)
        if m == 1:
            p[BOS_ID] = 0.0
        return (_log10(p, dtype),)

    def backoff(b):  # of each (m-1)-gram as a context of the block's m-grams
        m = b.m
        ctx_total = b.sums(c[m - 1][b.rows].astype(np.float64))
        is_full_ctx = (counts.bos_first[m - 2][b.ctx] if m > 2 else np.arange(b.c_lo, b.c_hi) == BOS_ID) | (m == N)
        has_children = ctx_total > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            w = kk * n_words / (ctx_total + kk * n_words) if k is not None else np.zeros_like(ctx_total)
        return (_log10(np.where(is_full_ctx & has_children, w, 1.0), dtype),)

    for m in range(1, N + 1):
        probs.append(blockwise(counts, m, prob, "r")[0])
        if m < N:
            [b10] = blockwise(counts, m + 1, backoff, "c")
            if m == 1:
                b10[EOS_ID] = 0.0
            backs.append(b10)
    backs.append(np.empty(0, dtype=dtype))
    return BackoffTables(N, V, list(counts.keys), probs, backs)
