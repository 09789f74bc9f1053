"""The sorted distinct n-grams of one order, compiled: what ``np.unique(prefix * V + word,
return_inverse=True, return_counts=True)`` gives, by two counting sorts (by word, then stably by
prefix) instead of a comparison sort, since both ids are small integers."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _stable_by(key, n_keys, items):
    """``items`` (indices into ``key``) reordered stably by ``key[item]`` (a counting sort;
    ``0 <= key < n_keys``)."""
    start = np.zeros(n_keys + 1, dtype=np.int64)
    for t in range(items.shape[0]):
        start[key[items[t]] + 1] += 1
    for k in range(n_keys):
        start[k + 1] += start[k]
    out = np.empty(items.shape[0], dtype=np.int64)
    for t in range(items.shape[0]):
        i = items[t]
        out[start[key[i]]] = i
        start[key[i]] += 1
    return out


@njit(cache=True)
def unique_pairs(prefix, word, n_prefix, V):
    """(sorted distinct keys ``prefix * V + word``, the index of each input pair among them, how
    many times each occurs); ``0 <= prefix < n_prefix`` and ``0 <= word < V``."""
    n = prefix.shape[0]
    order = _stable_by(prefix, n_prefix, _stable_by(word, V, np.arange(n)))
    keys = np.empty(n, dtype=np.int64)
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
