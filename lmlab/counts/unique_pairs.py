"""The sorted distinct n-grams of one order, compiled: what ``np.unique(prefix * V + word,
return_inverse=True, return_counts=True)`` gives, by two counting sorts (by word, then stably by
prefix) instead of a comparison sort, since both ids are small integers."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def unique_pairs(prefix, word, n_prefix, V):
    """(sorted distinct keys ``prefix * V + word``, the index of each input pair among them, how
    many times each occurs); ``0 <= prefix < n_prefix`` and ``0 <= word < V``."""
    n = prefix.shape[0]
    start = np.zeros(V + 1, dtype=np.int64)
    for i in range(n):
        start[word[i] + 1] += 1
    for v in range(V):
        start[v + 1] += start[v]
    by_word = np.empty(n, dtype=np.int64)
    for i in range(n):
        by_word[start[word[i]]] = i
        start[word[i]] += 1
    start = np.zeros(n_prefix + 1, dtype=np.int64)
    for i in range(n):
        start[prefix[i] + 1] += 1
    for p in range(n_prefix):
        start[p + 1] += start[p]
    order = np.empty(n, dtype=np.int64)
    for t in range(n):
        i = by_word[t]
        order[start[prefix[i]]] = i
        start[prefix[i]] += 1
    keys = by_word  # reused: by_word is not needed any more
    counts = order  # overwritten only at positions already read (u <= t)
    inverse = np.empty(n, dtype=np.int64)
    u = -1
    last = -1
    for t in range(n):
        i = order[t]
        k = prefix[i] * V + word[i]
        if k != last:
            u += 1
            keys[u] = k
            last = k
            counts[u] = 0
        counts[u] += 1
        inverse[i] = u
    return keys[:u + 1].copy(), inverse, counts[:u + 1].copy()
