"""Good-Turing discounting with Katz backoff (Katz 1987), as SRILM's default.

Per order, counts-of-counts ``n_r`` of raw counts give the Good-Turing count
``r* = (r + 1) n_{r+1} / n_r``; Katz keeps counts above ``k`` and discounts those up to ``k`` by::

    d_r = (r*/r - (k+1) n_{k+1} / n_1) / (1 - (k+1) n_{k+1} / n_1)       (1 <= r <= k)

A ``d_r`` that is undefined or outside (0, 1] (too few counts) is replaced by 1, i.e. no discount
for that count, as SRILM does.  A context ``h`` where the discounts leave less than
``1 / (c(h) + 1)`` (every count above ``k``, or undiscountable) keeps that much for the words not
seen after it, as if one unseen word had followed it (its seen words' estimates are scaled to
make room), so that no word ever gets probability 0.  ``u(h w) = d_c c(h w) / c(h)``; the
backoff weight of ``h`` (the default, Katz) or ``gamma(h) = 1 - sum_w u(h w)`` (interpolated)
takes the remaining mass.
``k`` is 7 for n-grams (SRILM's gtmax default).

Unigrams: Katz's formula is degenerate there (SRILM's unigram gtmax 1 makes ``d_1 = 0``, which
SRILM replaces by 1, leaving unseen words nothing), so the unigram level reserves Good's estimate
of the probability of an unseen word, ``P0 = n_1 / N`` (``n_1`` words seen once among ``N``
predicted tokens; at least one is assumed, so P0 > 0; at most 1/2, so that a corpus of
singletons keeps mass for what it saw), and scales every seen word's relative
frequency by ``1 - P0``.  ``gamma[0] = P0`` then goes to the unseen words (``<unk>`` included) as
for every smoother (:mod:`.assemble`: uniformly, or to ``<unk>``).  The discounts reported for
order 1 are ``[1, 1 - P0]`` (the factor every unigram count is scaled by).
"""

from __future__ import annotations

import numpy as np

from ....counts.blocks import blockwise, row_chunks
from ....counts.ngram_counts import NgramCounts
from .assemble import Estimate
from .kneser_ney import raw_counts

GTMAX = 7


def katz_discounts(c: np.ndarray, k: int, rows: int | None = None) -> np.ndarray:
    """Discount ratios d_r for r = 0..k (d_0 unused); 1 where Good-Turing is undefined
    (the counts-of-counts of ``c`` taken ``rows`` values at a time)."""
    n = np.zeros(k + 2, dtype=np.float64)
    for s in row_chunks(len(c), rows):
        part = c[s]
        n += np.bincount(np.minimum(part[part > 0], k + 2), minlength=k + 3)[: k + 2]  # n_r for r <= k + 1
    d = np.ones(k + 1)
    if n[1] == 0:
        return d
    common = (k + 1) * n[k + 1] / n[1]
    for r in range(1, k + 1):
        if n[r] == 0 or common >= 1:
            continue
        rstar = (r + 1) * n[r + 1] / n[r]
        dr = (rstar / r - common) / (1 - common)
        if 0 < dr <= 1:
            d[r] = dr
    return d


def good_turing_estimate(counts: NgramCounts) -> tuple[Estimate, list[np.ndarray]]:
    c = raw_counts(counts)
    ds = []
    for m in counts.each_order():
        cm = c[m - 1]
        if m == 1:
            p0 = min(max(int(np.sum(cm == 1)), 1) / float(cm.astype(np.float64).sum()), 0.5)
            ds.append(np.array([1.0, 1.0 - p0]))
        else:
            ds.append(katz_discounts(cm, GTMAX, counts.block_rows))

    def order(m: int) -> tuple[np.ndarray, np.ndarray]:
        u, gamma = blockwise(counts, m, lambda b: _katz_block(b, c[m - 1][b.rows], ds[m - 1]), "rc")
        return u, gamma

    return Estimate.lazy(counts.order, order), ds  # each order's u and gamma made when used


def _katz_block(b, cm: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """u of the block's n-grams (raw counts ``cm``) and gamma of its contexts, with discounts ``d``."""
    total = b.sums(cm.astype(np.float64))
    ratio = np.full(len(cm), d[1]) if b.m == 1 else np.where(cm <= GTMAX, d[np.minimum(cm, GTMAX)], 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        u = ratio * cm / (total[0] if b.m == 1 else total[b.rel])
    used = b.sums(u)
    if b.m > 1:  # a context Katz leaves (almost) nothing keeps 1 / (c(h) + 1) for unseen words
        floor = 1.0 / (total + 1.0)
        short = (total > 0) & (1.0 - used < floor)
        scale = np.where(short, (1.0 - floor) / np.where(used > 0, used, 1.0), 1.0)
        u = u * scale[b.rel]
        used = np.where(short, 1.0 - floor, used)
    return u, np.clip(1.0 - used, 0.0, 1.0)
