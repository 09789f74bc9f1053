"""Witten-Bell smoothing (Witten & Bell 1991; Chen & Goodman's interpolated form).

With ``c(h)`` the count of context h and ``N1+(h)`` the number of distinct words after it::

    u(h w)   = c(h w) / (c(h) + N1+(h))
    gamma(h) = N1+(h) / (c(h) + N1+(h))

The unigram level treats the whole corpus as the context (c = all predicted tokens, N1+ = word
types) and spreads its gamma over the vocabulary (or gives it to ``<unk>``).
"""

from __future__ import annotations

import numpy as np

from ....counts.ngram_counts import NgramCounts
from .assemble import Estimate, context_sums
from .kneser_ney import raw_counts


def witten_bell_estimate(counts: NgramCounts) -> Estimate:
    c = raw_counts(counts)
    us, gammas = [], []
    for m in counts.each_order():
        cm = c[m - 1].astype(np.float64)
        total = context_sums(counts, m, cm)
        types = context_sums(counts, m, (cm > 0).astype(np.float64))
        denom = total + types
        with np.errstate(divide="ignore", invalid="ignore"):
            gamma = np.where(denom > 0, types / denom, 0.0)
            u = cm / (denom[0] if m == 1 else denom[counts.prefix[m - 1]])
        us.append(counts.keep(u))
        gammas.append(counts.keep(gamma))
    return Estimate(us, gammas)
