"""The backoff rule and the query kernels (numba, over :mod:`.fastlayout`'s buffer).

This module is the one home of the backoff rule: every path that scores with an n-gram model
(the batch scorer, :mod:`lmlab.kenlm`'s ``Model``/``State`` API, ``lmlab query``, and the
``LanguageModel`` interface: ``step``, ``advance``, ``advance_many``, ``next_logprobs``,
``token_logprobs``) calls a kernel here, through :class:`.fastquery.FastTables`.

States.  A query state is a tuple of ``order`` ints: ``(a, c1, .., c(N-1))`` where ``cj`` is the
slot of the history's last j words in order j (the word id for j = 1; -1 when that n-gram is not
in the model, and then every longer one is absent too), and ``a`` is how many tokens of history
count for stupid backoff's constant penalty (``min(history, N - 1)``; 0 for every other model, so
histories that predict alike have equal states, as KenLM's).

The kernels release the GIL (``nogil``): they only read the tables and write arrays of their own
or the caller's, so threads (a server's requests) score in parallel.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numba.cpython.unsafe.tuple import tuple_setitem

from .fastlayout import (BOS_ID, EOS_ID, TRIE, _F_WORD, _L_KIND, _children, _field, _find, _key, _prob, _bow,
                         _unpack)


@njit(cache=True, inline="always")
def _context_bow(slots_i, slots_f, slot_off, j, c, lay, bow1, cb_b):
    """Backoff weight of the context with slot ``c`` in order ``j``."""
    if j == 1:
        return bow1[c]
    return _bow(slots_i, slots_f, slot_off, j, c, lay, cb_b)


@njit(cache=True, inline="always")
def _context_weights(ctx, avail, N, slots_i, slots_f, slot_off, lay, bow1, cb_b, const_bow, use_const,
                     tail):
    """The backoff rule's second half, for one context: ``tail[m]`` (m = 1..N) is what is added to
    the log10 probability of the matched n-gram when it has order m: the backoff weights of the
    context's suffixes longer than its m - 1 words that are in the model (stupid backoff: a
    constant per step down from the ``min(avail, N - 1)`` words of history it counts, whether or
    not the context is in the model).  ``ctx[j-1]`` is the slot of the context's last j words;
    models are suffix-closed, so those in the model are the first k.  Returns k."""
    k = 0
    while k < N - 1 and ctx[k] >= 0:
        k += 1
    if use_const:
        top = min(avail, N - 1)
        for m in range(1, N + 1):
            tail[m] = const_bow * (top - (m - 1)) if top > m - 1 else 0.0
    else:
        acc = 0.0
        for m in range(N, 0, -1):
            if m <= k:
                acc += _context_bow(slots_i, slots_f, slot_off, m, ctx[m - 1], lay, bow1, cb_b)
            tail[m] = acc
    return k


@njit(cache=True, inline="always")
def _advance(ctx, new, tail, avail, w, V, N, slots_i, slots_f, slot_off, slot_size, prob1, bow1,
             const_bow, use_const, lay, cb_p, cb_b):
    """Score ``w`` after context ``ctx`` and replace ``ctx`` by the next context.

    ``ctx[j-1]`` is the slot of the j-gram ending at the previous token (-1 if absent; the word
    id for j = 1); ``avail`` is how many tokens of history the sentence offers; ``tail`` is
    scratch space (N + 1 float64).  Returns (log10 p, matched n-gram length).
    """
    new[0] = w
    for j in range(1, N):
        c = ctx[j - 1]
        # As KenLM: stop at the first order that misses (models are suffix-closed).
        if c >= 0 and new[j - 1] >= 0:
            new[j] = _find(slots_i, slot_off, slot_size, j + 1, c * V + w, lay)
        else:
            new[j] = -1
    m = 1
    for j in range(N - 1, 0, -1):
        if new[j] >= 0:
            m = j + 1
            break
    if m == 1:
        lp = np.float64(prob1[w])
    else:
        lp = np.float64(_prob(slots_i, slots_f, slot_off, m, new[m - 1], lay, cb_p))
    _context_weights(ctx, avail, N, slots_i, slots_f, slot_off, lay, bow1, cb_b, const_bow, use_const, tail)
    lp += tail[m]
    for j in range(N):
        ctx[j] = new[j]
    return lp, m


@njit(cache=True, inline="always")
def _scratch(N):
    """A kernel's working arrays: a context (every order absent), the next one, and the tail of
    backoff weights (:func:`_context_weights`)."""
    return np.full(N, -1, dtype=np.int64), np.full(N, -1, dtype=np.int64), np.zeros(N + 1, dtype=np.float64)


@njit(cache=True, nogil=True)
def _score_sequence(buf, meta, tok, kind, out_lp, out_len):
    """Score a flat token array.  ``kind[i]``: 0 scored, 1 sentence start (the state is reset to
    this token), 2 context only (the state advances, nothing is scored: extra padding)."""
    (V, N, slots_i, slots_f, slot_off, slot_size, prob1, bow1, const_bow, use_const, lay, cb_p,
     cb_b, _, _, _) = _unpack(buf, meta)
    ctx, new, tail = _scratch(N)
    avail = 0
    for i in range(tok.shape[0]):
        w = tok[i]
        if kind[i] == 1:
            for j in range(N):
                ctx[j] = -1
            ctx[0] = w
            avail = 1
            out_lp[i] = 0.0
            out_len[i] = 0
            continue
        lp, m = _advance(ctx, new, tail, avail, w, V, N, slots_i, slots_f, slot_off, slot_size, prob1,
                         bow1, const_bow, use_const, lay, cb_p, cb_b)
        if kind[i] == 2:
            lp, m = 0.0, 0
        out_lp[i] = lp
        out_len[i] = m
        avail += 1


@njit(cache=True, nogil=True)
def _sentence_scores(buf, meta, ids, bos, eos, scale, out):
    """One sentence of ids (and ``</s>`` with ``eos``): returns the total log10 probability
    (KenLM's ``Model.score``) and, unless ``out`` is empty, writes ``scale`` * log10 p of each
    token into it, where ``<s>`` inside a sentence is never predicted (-inf; the history moves on)."""
    (V, N, slots_i, slots_f, slot_off, slot_size, prob1, bow1, const_bow, use_const, lay, cb_p,
     cb_b, _, _, _) = _unpack(buf, meta)
    ctx, new, tail = _scratch(N)
    avail = 0
    if bos:
        ctx[0] = BOS_ID
        avail = 1
    n = ids.shape[0]
    store = out.shape[0] > 0
    total = 0.0
    for i in range(n + (1 if eos else 0)):
        w = ids[i] if i < n else EOS_ID
        lp, m = _advance(ctx, new, tail, avail, w, V, N, slots_i, slots_f, slot_off, slot_size,
                         prob1, bow1, const_bow, use_const, lay, cb_p, cb_b)
        total += lp
        if store:
            out[i] = lp * scale if w != BOS_ID else -np.inf
        avail += 1
    return total


@njit(cache=True, inline="always")
def _state_step(st, w, ctx, new, tail, out, V, N, slots_i, slots_f, slot_off, slot_size, prob1, bow1,
                const_bow, use_const, lay, cb_p, cb_b):
    """One token from state ``st`` (indexable: a tuple or a row); the next state goes to ``out``."""
    for j in range(N - 1):
        ctx[j] = st[j + 1]
    ctx[N - 1] = -1
    lp, m = _advance(ctx, new, tail, st[0], w, V, N, slots_i, slots_f, slot_off, slot_size, prob1, bow1,
                     const_bow, use_const, lay, cb_p, cb_b)
    out[0] = min(st[0] + 1, N - 1) if use_const else 0
    for j in range(N - 1):
        out[j + 1] = ctx[j]
    return lp, m


@njit(cache=True, nogil=True)
def _step(buf, meta, st, w):
    """One token from a state tuple: (log10 p, matched length, next state tuple); a matched
    length of -1 (and the state unchanged) when ``st`` or ``w`` cannot be of this model."""
    (V, N, slots_i, slots_f, slot_off, slot_size, prob1, bow1, const_bow, use_const, lay, cb_p,
     cb_b, _, _, _) = _unpack(buf, meta)
    ok = 0 <= w < V and 0 <= st[0] < N
    for j in range(1, N):
        ok = ok and -1 <= st[j] < slot_size[j]
    if not ok:
        return 0.0, -1, st
    ctx = np.empty(N, dtype=np.int64)
    new = np.empty(N, dtype=np.int64)
    tail = np.empty(N + 1, dtype=np.float64)
    row = np.empty(N, dtype=np.int64)
    lp, m = _state_step(st, w, ctx, new, tail, row, V, N, slots_i, slots_f, slot_off, slot_size, prob1,
                        bow1, const_bow, use_const, lay, cb_p, cb_b)
    out = st
    for j in range(N):
        out = tuple_setitem(out, j, row[j])
    return lp, m, out


@njit(cache=True, nogil=True)
def _step_states(buf, meta, states, toks, out_states, out_lp):
    """:func:`_step` for a batch: states (B, N) int64 rows, one token each."""
    (V, N, slots_i, slots_f, slot_off, slot_size, prob1, bow1, const_bow, use_const, lay, cb_p,
     cb_b, _, _, _) = _unpack(buf, meta)
    ctx = np.empty(N, dtype=np.int64)
    new = np.empty(N, dtype=np.int64)
    tail = np.zeros(N + 1, dtype=np.float64)
    for b in range(states.shape[0]):
        lp, m = _state_step(states[b], toks[b], ctx, new, tail, out_states[b], V, N, slots_i, slots_f,
                            slot_off, slot_size, prob1, bow1, const_bow, use_const, lay, cb_p, cb_b)
        out_lp[b] = lp


@njit(cache=True, inline="always")
def _first_child(cslot, base, n, slots_i, slot_off, m, lay, key):
    """First position in order m's slots sorted by key (``cslot[base:base + n]``) whose key is
    >= ``key`` (binary search: a context's continuations are the keys in [c * V, (c + 1) * V))."""
    lo, hi = 0, n
    while lo < hi:
        mid = (lo + hi) >> 1
        if _key(slots_i, slot_off, m, np.int64(cslot[base + mid]), lay) < key:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True, inline="always")
def _fill_row(ctx, k, tail, row, V, slots_i, slots_f, slot_off, slot_size, prob1, lay, cb_p, cslot, cslot_off,
              count):
    """``row[w]`` = log10 p(w | context ``ctx``) for every word, given ``k`` and ``tail`` from
    :func:`_context_weights`: unigrams backed off from the whole context, then each order's
    continuations of the context, longest last (the same arithmetic as :func:`_advance`), in
    either layout."""
    add = tail[1]
    for w in range(V):
        row[w] = np.float64(prob1[w]) + add
    trie = lay[_L_KIND] == TRIE
    for j in range(1, k + 1):  # continuations of the context's last j words: (j+1)-grams
        m = j + 1
        c = ctx[j - 1]
        if trie:
            base = 0
            lo, hi = _children(slots_i, slot_off, slot_size, lay, m, c)
        else:
            base, n = cslot_off[m], count[m]
            lo = _first_child(cslot, base, n, slots_i, slot_off, m, lay, c * V)
            hi = _first_child(cslot, base, n, slots_i, slot_off, m, lay, (c + 1) * V)
        add = tail[m]
        for i in range(lo, hi):
            if trie:
                s = np.int64(i)
                w = _field(slots_i, slot_off, lay, m, s, _F_WORD)
                if w >= V:  # a corrupt file: never write outside the row
                    continue
            else:
                s = np.int64(cslot[base + i])
                w = _key(slots_i, slot_off, m, s, lay) % V
            row[w] = np.float64(_prob(slots_i, slots_f, slot_off, m, s, lay, cb_p)) + add


@njit(cache=True, nogil=True)
def _next_dists(buf, meta, states, scale, out):
    """``out[b, w]`` = ``scale`` * log10 p(w | state b) for every word (:func:`_fill_row`)."""
    (V, N, slots_i, slots_f, slot_off, slot_size, prob1, bow1, const_bow, use_const, lay, cb_p,
     cb_b, cslot, cslot_off, count) = _unpack(buf, meta)
    ctx = np.empty(N, dtype=np.int64)
    tail = np.zeros(N + 1, dtype=np.float64)
    for b in range(states.shape[0]):
        for j in range(N - 1):
            ctx[j] = states[b, j + 1]
        ctx[N - 1] = -1
        k = _context_weights(ctx, states[b, 0], N, slots_i, slots_f, slot_off, lay, bow1, cb_b, const_bow,
                             use_const, tail)
        row = out[b]
        _fill_row(ctx, k, tail, row, V, slots_i, slots_f, slot_off, slot_size, prob1, lay, cb_p, cslot, cslot_off,
                  count)
        for w in range(V):
            row[w] *= scale


