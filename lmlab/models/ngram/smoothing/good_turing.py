"""Good-Turing discounting with Katz backoff (Katz 1987), as SRILM's default.

Per order, counts-of-counts ``n_r`` of raw counts give the Good-Turing count
``r* = (r + 1) n_{r+1} / n_r``; Katz keeps counts above ``k`` and discounts those up to ``k`` by::

    d_r = (r*/r - (k+1) n_{k+1} / n_1) / (1 - (k+1) n_{k+1} / n_1)       (1 <= r <= k)

A ``d_r`` that is undefined or outside (0, 1] (too few counts) is replaced by 1, i.e. no discount
for that count, as SRILM does.  ``u(h w) = d_c c(h w) / c(h)``; the backoff weight of ``h`` (the
default, Katz) or ``gamma(h) = 1 - sum_w u(h w)`` (interpolated) takes the remaining mass.
``k`` is 7 for n-grams and 1 for unigrams (SRILM's gtmax defaults).
"""

from __future__ import annotations

import numpy as np

from ....counts.ngram_counts import NgramCounts
from .assemble import Estimate, context_sums
from .kneser_ney import raw_counts

GTMAX_UNIGRAM = 1
GTMAX = 7


def katz_discounts(c: np.ndarray, k: int) -> np.ndarray:
    """Discount ratios d_r for r = 0..k (d_0 unused); 1 where Good-Turing is undefined."""
    n = np.bincount(c[c > 0], minlength=k + 2).astype(np.float64)
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
    us, gammas, ds = [], [], []
    for m in range(1, counts.order + 1):
        cm = c[m - 1]
        k = GTMAX_UNIGRAM if m == 1 else GTMAX
        d = katz_discounts(cm, k)
        ratio = np.where(cm <= k, d[np.minimum(cm, k)], 1.0)
        total = context_sums(counts, m, cm.astype(np.float64))
        with np.errstate(divide="ignore", invalid="ignore"):
            u = ratio * cm / (total[0] if m == 1 else total[counts.prefix[m - 1]])
        used = context_sums(counts, m, u)
        gammas.append(np.clip(1.0 - used, 0.0, 1.0))
        us.append(u)
        ds.append(d)
    return Estimate(us, gammas), ds
