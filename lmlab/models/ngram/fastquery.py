"""Compiled query kernels (numba) over backoff tables: hashed lookups, sequential scoring.

Each order m >= 2 gets an open-addressing hash table (linear probing, power-of-two size, at
least 1.5 slots per n-gram, as KenLM's probing structure) mapping the key ``prefix * V + word``
to the n-gram's id.  All orders are concatenated into flat arrays with offsets so one compiled
function sees the whole model.  Semantics are exactly :class:`BackoffTables`' (the vectorised
numpy scorer there is the reference the tests compare against).
"""

from __future__ import annotations

import numpy as np
from numba import njit

@njit(cache=True, inline="always")
def _slot(key, size):
    """Multiplicative hash mapped onto [0, size) without a modulo (Lemire's multiply-shift)."""
    h = (np.uint64(key) * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(32)
    return np.int64((h * np.uint64(size)) >> np.uint64(32))


@njit(cache=True)
def _build_slots(keys, size):
    """Slots of (key, id) pairs side by side, so a probe touches one cache line."""
    slots = np.full(2 * size, -1, dtype=np.int64)
    for i in range(keys.shape[0]):
        s = _slot(keys[i], size)
        while slots[2 * s + 1] != -1:
            s = s + 1 if s + 1 < size else 0
        slots[2 * s] = keys[i]
        slots[2 * s + 1] = i
    return slots


@njit(cache=True, inline="always")
def _find(slots_all, slot_off, slot_size, m, key):
    """Id (within order m) of the n-gram with ``key`` at order m (>= 2), or -1."""
    base = slot_off[m]
    size = slot_size[m]
    s = _slot(key, size)
    while True:
        i = slots_all[base + 2 * s + 1]
        if i == -1:
            return -1
        if slots_all[base + 2 * s] == key:
            return i
        s = s + 1 if s + 1 < size else 0


@njit(cache=True)
def _score_sequence(tok, is_bos, V, N, slots_all, slot_off, slot_size,
                    prob_all, prob_off, bow_all, bow_off, const_bow, use_const, out_lp, out_len):
    """Score a flat token array; ``is_bos`` marks sentence starts (the state is reset there).

    ``out_lp``/``out_len`` get log10 p and the matched n-gram length (0 at ``<s>``).
    """
    ctx = np.full(N, -1, dtype=np.int64)  # ctx[j-1]: id of the j-gram ending at the previous token
    new = np.full(N, -1, dtype=np.int64)
    avail = 0
    for i in range(tok.shape[0]):
        w = tok[i]
        if is_bos[i]:
            for j in range(N):
                ctx[j] = -1
            ctx[0] = w
            avail = 1
            out_lp[i] = 0.0
            out_len[i] = 0
            continue
        new[0] = w
        for j in range(1, N):
            c = ctx[j - 1]
            # As KenLM: stop at the first order that misses (models are suffix-closed).
            if c >= 0 and new[j - 1] >= 0:
                new[j] = _find(slots_all, slot_off, slot_size, j + 1, c * V + w)
            else:
                new[j] = -1
        m = 1
        for j in range(N - 1, 0, -1):
            if new[j] >= 0:
                m = j + 1
                break
        lp = np.float64(prob_all[prob_off[m - 1] + new[m - 1]])
        top = min(avail, N - 1)
        if use_const:
            if top > m - 1:
                lp += const_bow * (top - (m - 1))
        else:
            for j in range(m, N):
                c = ctx[j - 1]
                if c >= 0:
                    lp += bow_all[bow_off[j - 1] + c]
        out_lp[i] = lp
        out_len[i] = m
        for j in range(N):
            ctx[j] = new[j]
        avail += 1


class FastTables:
    """Flat, hashed copy of :class:`BackoffTables` for the compiled kernels."""

    def __init__(self, tables):
        N, V = tables.order, tables.vocab_size
        self.order, self.vocab_size = N, V
        slot_off = np.zeros(N + 1, dtype=np.int64)
        slot_size = np.ones(N + 1, dtype=np.int64)
        slots = []
        total = 0
        for m in range(2, N + 1):
            k = np.ascontiguousarray(tables.keys[m - 1], dtype=np.int64)
            size = max(int(np.ceil(1.5 * len(k))), 2)
            slots.append(_build_slots(k, size))
            slot_off[m] = total
            slot_size[m] = size
            total += 2 * size
        self.slots_all = np.concatenate(slots) if slots else np.full(2, -1, np.int64)
        self.slot_off, self.slot_size = slot_off, slot_size
        self.prob_all = np.concatenate([np.asarray(p, np.float32) for p in tables.logprob10])
        self.prob_off = np.concatenate([[0], np.cumsum([len(p) for p in tables.logprob10])]).astype(np.int64)
        bows = [np.asarray(b, np.float32) for b in tables.backoff10]
        self.bow_all = np.concatenate(bows + [np.zeros(1, np.float32)])
        self.bow_off = np.concatenate([[0], np.cumsum([len(b) for b in bows])]).astype(np.int64)
        self.use_const = tables.constant_backoff10 is not None
        self.const_bow = float(tables.constant_backoff10 or 0.0)

    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.slots_all, self.prob_all, self.bow_all))

    def score(self, tok: np.ndarray, is_bos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        tok = np.ascontiguousarray(tok, dtype=np.int64)
        out_lp = np.empty(len(tok), dtype=np.float64)
        out_len = np.empty(len(tok), dtype=np.int8)
        _score_sequence(tok, np.ascontiguousarray(is_bos), self.vocab_size, self.order,
                        self.slots_all, self.slot_off, self.slot_size, self.prob_all,
                        self.prob_off, self.bow_all, self.bow_off, self.const_bow, self.use_const,
                        out_lp, out_len)
        return out_lp, out_len
