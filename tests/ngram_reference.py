"""An independent reference for the n-gram query engine: the backoff rule written plainly.

lmlab scores with one implementation of the backoff rule, the compiled engine
(lmlab/models/ngram/fastkernels.py).  The tests compare every query path with these: a vectorised
numpy scorer over the sorted :class:`BackoffTables` (no hashing, no states) and a per-context
distribution by binary search.  ``tables`` is the tables.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lmlab.models.ngram.tables import context_kinds


def reference_log10(tables, ids: np.ndarray, starts: np.ndarray, n_bos: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """log10 p and matched n-gram length of every predicted token in a flat corpus.

    ``ids``/``starts`` come from :func:`lmlab.text.vocab.encode_corpus` (``<s> .. </s>`` per
    sentence).  Returns arrays of length ``len(ids)``; entries at ``<s>`` positions are 0.
    """
    tok = np.asarray(ids, dtype=np.int64)
    n = len(tok)
    N = tables.order
    is_bos = np.zeros(n, dtype=bool)
    is_bos[np.asarray(starts[:-1], dtype=np.int64)] = True
    # ctx_ids[m-1][i]: id of the m-gram ending at position i (or -1).
    ctx_ids = [np.where(tok < tables.vocab_size, tok, -1)]
    for m in range(2, N + 1):
        prev = np.empty(n, dtype=np.int64)
        prev[0] = -1
        prev[1:] = ctx_ids[-1][:-1]
        prev[is_bos] = -1
        cur = tables.lookup(m, prev, tok)
        cur[ctx_ids[-1] < 0] = -1  # as KenLM: stop at the first order that misses
        ctx_ids.append(cur)
    length = np.zeros(n, dtype=np.int8)
    logp = np.zeros(n, dtype=np.float64)
    for m in range(N, 0, -1):
        hit = (length == 0) & (ctx_ids[m - 1] >= 0)
        logp[hit] = tables.logprob10[m - 1][ctx_ids[m - 1][hit]]
        length[hit] = m
    # Backoff weights of the history's suffixes longer than the matched context.
    if tables.constant_backoff10 is not None:
        sent_start = np.maximum.accumulate(np.where(is_bos, np.arange(n), 0))
        avail = np.minimum(np.arange(n) - sent_start, N - 1)
        logp += tables.constant_backoff10 * np.maximum(avail - (length.astype(np.int64) - 1), 0)
    else:
        for j in range(1, N):
            prev = np.empty(n, dtype=np.int64)
            prev[0] = -1
            prev[1:] = ctx_ids[j - 1][:-1]
            prev[is_bos] = -1
            use = (length <= j) & (prev >= 0)
            logp[use] += tables.backoff10[j - 1][prev[use]]
    ctx_only = context_kinds(n, starts, n_bos) != 0
    logp[ctx_only] = 0.0
    length[ctx_only] = 0
    return logp, length


def context_ids(tables, context: Sequence[int]) -> list[int]:
    """Ids of the context's suffixes of length 1, 2, ... (stops at the first absent one)."""
    out: list[int] = []
    k = len(context)
    for j in range(1, min(k, tables.order - 1) + 1):
        cur = -1
        for m, w in enumerate(context[k - j :], start=1):
            cur = int(tables.lookup(m, np.array([cur]), np.array([w]))[0])
            if cur < 0:
                break
        if cur < 0:
            break
        out.append(cur)
    return out


def next_log10(tables, context: Sequence[int]) -> np.ndarray:
    """log10 p(w | context) for every word id w (shape (V,), float64)."""
    dist = tables.logprob10[0].astype(np.float64)
    ctx_ids = context_ids(tables, context)
    if tables.constant_backoff10 is not None:
        dist += tables.constant_backoff10 * min(len(context), tables.order - 1)
    for j, ctx in enumerate(ctx_ids, start=1):
        if tables.constant_backoff10 is None:
            dist += tables.backoff10[j - 1][ctx]
        lo = np.searchsorted(tables.keys[j], ctx * tables.vocab_size)
        hi = np.searchsorted(tables.keys[j], (ctx + 1) * tables.vocab_size)
        extra = 0.0
        if tables.constant_backoff10 is not None:
            extra = tables.constant_backoff10 * (min(len(context), tables.order - 1) - j)
        # in float64: a float32 array plus a Python float stays float32 (NEP 50)
        dist[tables.keys[j][lo:hi] % tables.vocab_size] = tables.logprob10[j][lo:hi].astype(np.float64) + extra
    return dist

def word_log10(tables, context: Sequence[int], word: int) -> tuple[float, int]:
    """log10 p(word | context) and the length of the n-gram used."""
    ctx = context_ids(tables, context)
    total = 0.0
    if tables.constant_backoff10 is not None:
        total = tables.constant_backoff10 * (min(len(context), tables.order - 1) - len(ctx))
    for j in range(len(ctx), -1, -1):
        m = j + 1
        gid = int(tables.lookup(m, np.array([ctx[j - 1] if j else -1]), np.array([word]))[0])
        if gid >= 0:
            return total + float(tables.logprob10[m - 1][gid]), m
        if j:
            total += (tables.constant_backoff10 if tables.constant_backoff10 is not None
                      else float(tables.backoff10[j - 1][ctx[j - 1]]))
    return total, 0  # unreachable: every word id is a unigram
