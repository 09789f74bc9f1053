"""Witten-Bell smoothing (Witten & Bell 1991; Chen & Goodman's interpolated form).

With ``c(h)`` the count of context h and ``N1+(h)`` the number of distinct words after it::

    u(h w)   = c(h w) / (c(h) + N1+(h))
    gamma(h) = N1+(h) / (c(h) + N1+(h))

The unigram level treats the whole corpus as the context (c = all predicted tokens, N1+ = word
types) and spreads its gamma over the vocabulary (or gives it to ``<unk>``).
"""

from __future__ import annotations

import numpy as np

from ....counts.blocks import blockwise
from ....counts.ngram_counts import NgramCounts
from .assemble import Estimate
from .kneser_ney import raw_counts


def witten_bell_estimate(counts: NgramCounts) -> Estimate:
    c = raw_counts(counts)

    def order(m: int) -> tuple[np.ndarray, np.ndarray]:
        u, gamma = blockwise(counts, m, lambda b: _witten_bell_block(b, c[m - 1][b.rows]), "rc")
        return u, gamma

    return Estimate.lazy(counts.order, order)  # each order's u and gamma made when used


def _witten_bell_block(b, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """u of the block's n-grams (raw ``counts``) and gamma of its contexts."""
    cm = counts.astype(np.float64)
    total = b.sums(cm)
    types = b.sums((cm > 0).astype(np.float64))
    denom = total + types
    with np.errstate(divide="ignore", invalid="ignore"):
        return cm / (denom[0] if b.m == 1 else denom[b.rel]), np.where(denom > 0, types / denom, 0.0)
