"""Compiled query kernels (numba) over backoff tables: hashed lookups, sequential scoring.

Each order m >= 2 gets an open-addressing hash table (linear probing, 1.5 slots per n-gram, as
KenLM's probing structure).  A slot holds the key and the n-gram's log10 probability and backoff
side by side (16 bytes), so a lookup touches one cache line.  An n-gram's key is
``slot(prefix) * V + word``: the slot index of its prefix in the table one order down (unigrams:
the word id), so the ids a state carries are slot indices.  Semantics are exactly
:class:`BackoffTables`' (whose vectorised numpy scorer is the reference the tests compare with).

The query kernels release the GIL (``nogil``): they only read the tables and write arrays of
their own or the caller's, so threads (a server's requests) score in parallel.
"""

from __future__ import annotations

import numpy as np
from numba import njit

EMPTY = -1
KEY_MASK = (1 << 48) - 1  # quantised layout: keys must fit in 48 bits


@njit(cache=True, inline="always")
def _slot(key, size):
    """Multiplicative hash mapped onto [0, size) without a modulo (multiply-shift)."""
    h = (np.uint64(key) * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(32)
    return np.int64((h * np.uint64(size)) >> np.uint64(32))


@njit(cache=True)
def _insert_order(slots_i, slots_f, base, size, keys, probs, backs, has_back, slot_of):
    """Insert one order's n-grams; ``slot_of[i]`` gets the slot of n-gram i."""
    for i in range(keys.shape[0]):
        s = _slot(keys[i], size)
        while slots_i[2 * (base + s)] != EMPTY:
            s = s + 1 if s + 1 < size else 0
        slots_i[2 * (base + s)] = keys[i]
        slots_f[4 * (base + s) + 2] = probs[i]
        slots_f[4 * (base + s) + 3] = backs[i] if has_back else np.float32(0.0)
        slot_of[i] = s


@njit(cache=True)
def _insert_order_q(slots_i, base, size, keys, pcode, bcode, slot_of):
    """Quantised layout: one int64 per slot, key | prob code << 48 | backoff code << 56."""
    for i in range(keys.shape[0]):
        s = _slot(keys[i], size)
        while slots_i[base + s] != EMPTY:
            s = s + 1 if s + 1 < size else 0
        slots_i[base + s] = keys[i] | (np.int64(pcode[i]) << 48) | (np.int64(bcode[i]) << 56)
        slot_of[i] = s


def quantize(values: np.ndarray, bits: int) -> tuple[np.ndarray, np.ndarray]:
    """Equal-count binning (as KenLM's ``-q``): ``2**bits`` bins of sorted values, each
    represented by its mean.  Returns (codes uint8, centers float32[256])."""
    centers = np.zeros(256, dtype=np.float32)
    if len(values) == 0:
        return np.zeros(0, np.uint8), centers
    order = np.argsort(values, kind="stable")
    nb = 1 << bits
    bounds = np.linspace(0, len(values), nb + 1).astype(np.int64)
    codes = np.empty(len(values), dtype=np.uint8)
    sv = values[order].astype(np.float64)
    for b in range(nb):
        lo, hi = bounds[b], bounds[b + 1]
        if hi > lo:
            centers[b] = sv[lo:hi].mean()
            codes[order[lo:hi]] = b
    return codes, centers


@njit(cache=True, inline="always")
def _find(slots_i, slot_off, slot_size, m, key, quant):
    """Slot (within order m >= 2) of the n-gram with ``key``, or -1.

    Plain layout: two int64 per slot (key, then two float32).  Quantised layout: one int64 per
    slot, the key in the low 48 bits and the probability and backoff codes in the top 16.
    """
    base = slot_off[m]
    size = slot_size[m]
    s = _slot(key, size)
    if quant:
        while True:
            v = slots_i[base + s]
            if v == EMPTY:
                return -1
            if (v & KEY_MASK) == key:
                return s
            s = s + 1 if s + 1 < size else 0
    while True:
        k = slots_i[2 * (base + s)]
        if k == key:
            return s
        if k == EMPTY:
            return -1
        s = s + 1 if s + 1 < size else 0


@njit(cache=True, inline="always")
def _prob(slots_i, slots_f, slot_off, m, s, quant, cb_p):
    if quant:
        return cb_p[256 * m + ((slots_i[slot_off[m] + s] >> 48) & 0xFF)]
    return slots_f[4 * (slot_off[m] + s) + 2]


@njit(cache=True, inline="always")
def _bow(slots_i, slots_f, slot_off, m, s, quant, cb_b):
    if quant:
        return cb_b[256 * m + ((slots_i[slot_off[m] + s] >> 56) & 0xFF)]
    return slots_f[4 * (slot_off[m] + s) + 3]


@njit(cache=True, inline="always")
def _advance(ctx, new, avail, w, V, N, slots_i, slots_f, slot_off, slot_size, prob1, bow1,
             const_bow, use_const, quant, cb_p, cb_b):
    """Score ``w`` after context ``ctx`` and replace ``ctx`` by the next context.

    ``ctx[j-1]`` is the slot of the j-gram ending at the previous token (-1 if absent; the word
    id for j = 1); ``avail`` is how many tokens of history the sentence offers.
    Returns (log10 p, matched n-gram length).
    """
    new[0] = w
    for j in range(1, N):
        c = ctx[j - 1]
        # As KenLM: stop at the first order that misses (models are suffix-closed).
        if c >= 0 and new[j - 1] >= 0:
            new[j] = _find(slots_i, slot_off, slot_size, j + 1, c * V + w, quant)
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
        lp = np.float64(_prob(slots_i, slots_f, slot_off, m, new[m - 1], quant, cb_p))
    if use_const:
        top = min(avail, N - 1)
        if top > m - 1:
            lp += const_bow * (top - (m - 1))
    else:
        for j in range(m, N):
            c = ctx[j - 1]
            if c >= 0:
                if j == 1:
                    lp += bow1[c]
                else:
                    lp += _bow(slots_i, slots_f, slot_off, j, c, quant, cb_b)
    for j in range(N):
        ctx[j] = new[j]
    return lp, m


@njit(cache=True, nogil=True)
def _score_sequence(tok, kind, V, N, slots_i, slots_f, slot_off, slot_size, prob1, bow1,
                    const_bow, use_const, quant, cb_p, cb_b, out_lp, out_len):
    """Score a flat token array.  ``kind[i]``: 0 scored, 1 sentence start (the state is reset to
    this token), 2 context only (the state advances, nothing is scored: extra padding)."""
    ctx = np.full(N, -1, dtype=np.int64)
    new = np.full(N, -1, dtype=np.int64)
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
        lp, m = _advance(ctx, new, avail, w, V, N, slots_i, slots_f, slot_off, slot_size, prob1,
                         bow1, const_bow, use_const, quant, cb_p, cb_b)
        if kind[i] == 2:
            lp, m = 0.0, 0
        out_lp[i] = lp
        out_len[i] = m
        avail += 1


@njit(cache=True, nogil=True)
def _score_sentence(ids, bos, eos, bos_id, eos_id, V, N, slots_i, slots_f, slot_off, slot_size,
                    prob1, bow1, const_bow, use_const, quant, cb_p, cb_b):
    """Total log10 probability of one sentence (KenLM's ``Model.score``)."""
    ctx = np.full(N, -1, dtype=np.int64)
    new = np.full(N, -1, dtype=np.int64)
    avail = 0
    if bos:
        ctx[0] = bos_id
        avail = 1
    total = 0.0
    for i in range(ids.shape[0]):
        lp, m = _advance(ctx, new, avail, ids[i], V, N, slots_i, slots_f, slot_off, slot_size,
                         prob1, bow1, const_bow, use_const, quant, cb_p, cb_b)
        total += lp
        avail += 1
    if eos:
        lp, m = _advance(ctx, new, avail, eos_id, V, N, slots_i, slots_f, slot_off, slot_size,
                         prob1, bow1, const_bow, use_const, quant, cb_p, cb_b)
        total += lp
    return total


@njit(cache=True, nogil=True)
def _step(ctx_in, avail, w, V, N, slots_i, slots_f, slot_off, slot_size, prob1, bow1,
          const_bow, use_const, quant, cb_p, cb_b):
    """One token from a state: (log10 p, matched length, next context)."""
    ctx = ctx_in.copy()
    new = np.empty(N, dtype=np.int64)
    lp, m = _advance(ctx, new, avail, w, V, N, slots_i, slots_f, slot_off, slot_size, prob1,
                     bow1, const_bow, use_const, quant, cb_p, cb_b)
    return lp, m, ctx


def _entry_point(dispatcher, args):
    """The compiled function for ``args``' types, callable without dispatch (the dispatcher
    itself if numba does not expose it)."""
    import numba

    dispatcher(*args)  # compile (or load from the cache) for these types
    try:
        return dispatcher.overloads[tuple(numba.typeof(a) for a in args)].entry_point
    except (AttributeError, KeyError, TypeError):
        return dispatcher


class FastTables:
    """Hashed copy of :class:`BackoffTables` for the compiled kernels.

    ``quant_bits`` (1..8) quantises the probabilities and backoffs of orders >= 2 into
    ``2**quant_bits`` values per order and packs each slot into 8 bytes (KenLM's ``-q``);
    unigrams stay exact.
    """

    def __init__(self, tables, quant_bits: int | None = None):
        from ...errors import ConfigError

        N, V = tables.order, tables.vocab_size
        self.order, self.vocab_size = N, V
        quant = quant_bits is not None
        if quant and not 1 <= quant_bits <= 8:
            raise ConfigError(f"quantisation takes 1 to 8 bits, got {quant_bits}")
        slot_off = np.zeros(N + 1, dtype=np.int64)
        slot_size = np.ones(N + 1, dtype=np.int64)
        sizes = [max(int(np.ceil(1.5 * len(tables.keys[m - 1]))), 2) for m in range(2, N + 1)]
        if quant and max([s * V for s in sizes] + [0]) >= KEY_MASK:
            raise ConfigError("this model is too large for the quantised layout (keys need more than 48 bits)")
        per = 1 if quant else 2  # int64 words per slot
        total = 0
        for m, size in enumerate(sizes, start=2):
            slot_off[m], slot_size[m] = total, size  # in slots
            total += size
        self.slots_i = np.full(per * max(total, 1), EMPTY, dtype=np.int64)
        self.slots_f = self.slots_i.view(np.float32)
        self.cb_p = np.zeros(256 * (N + 1), dtype=np.float32)
        self.cb_b = np.zeros(256 * (N + 1), dtype=np.float32)
        prev_slot = np.arange(V, dtype=np.int64)  # order 1: slot == word id
        for m in range(2, N + 1):
            keys = tables.keys[m - 1]
            new_keys = prev_slot[keys // V] * V + keys % V
            slot_of = np.empty(len(keys), dtype=np.int64)
            has_back = m < N
            probs = np.asarray(tables.logprob10[m - 1], np.float32)
            backs = np.asarray(tables.backoff10[m - 1], np.float32) if has_back else np.zeros(len(keys), np.float32)
            if quant:
                pcode, self.cb_p[256 * m : 256 * (m + 1)] = quantize(probs, quant_bits)
                bcode, self.cb_b[256 * m : 256 * (m + 1)] = quantize(backs, quant_bits)
                _insert_order_q(self.slots_i, slot_off[m], slot_size[m], new_keys, pcode, bcode, slot_of)
            else:
                _insert_order(self.slots_i, self.slots_f, slot_off[m], slot_size[m], new_keys, probs,
                              backs, has_back, slot_of)
            prev_slot = slot_of
        self.slot_off, self.slot_size = slot_off, slot_size
        self.quant_bits = quant_bits
        self.prob1 = np.ascontiguousarray(tables.logprob10[0], dtype=np.float32)
        b1 = tables.backoff10[0] if N > 1 else np.zeros(V, np.float32)
        self.bow1 = np.ascontiguousarray(b1 if len(b1) else np.zeros(V, np.float32), dtype=np.float32)
        self.use_const = tables.constant_backoff10 is not None
        self.const_bow = float(tables.constant_backoff10 or 0.0)

    @property
    def quant(self) -> bool:
        return self.quant_bits is not None

    def nbytes(self) -> int:
        return self.slots_i.nbytes + self.prob1.nbytes + self.bow1.nbytes

    def _args(self):
        """The kernels' table arguments (built once: the tables do not change after loading)."""
        args = self.__dict__.get("_argt")
        if args is None:
            args = self._argt = (self.vocab_size, self.order, self.slots_i, self.slots_f, self.slot_off,
                                 self.slot_size, self.prob1, self.bow1, self.const_bow, self.use_const,
                                 self.quant, self.cb_p, self.cb_b)
        return args

    def _call(self, kernel, *args):
        """``kernel(*args)`` through its compiled entry point for these argument types, skipping the
        dispatcher's type resolution (3.3 -> 1.3 us a call; KenLM-style APIs call once per word or
        line).  Callers pass arguments of fixed types."""
        entries = self.__dict__.setdefault("_entries", {})
        fn = entries.get(kernel)
        if fn is None:
            fn = entries[kernel] = _entry_point(kernel, args)
        return fn(*args)

    def score(self, tok: np.ndarray, kind: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """log10 p and matched length per token; ``kind`` as in :func:`_score_sequence`."""
        tok = np.ascontiguousarray(tok, dtype=np.int64)
        out_lp = np.empty(len(tok), dtype=np.float64)
        out_len = np.empty(len(tok), dtype=np.int8)
        self._call(_score_sequence, tok, np.ascontiguousarray(kind, dtype=np.int8), *self._args(), out_lp, out_len)
        return out_lp, out_len

    def score_sentence(self, ids: np.ndarray, bos: bool = True, eos: bool = True) -> float:
        """Total log10 probability of one sentence of ids."""
        return self._call(_score_sentence, np.ascontiguousarray(ids, dtype=np.int64), bool(bos), bool(eos), 1, 2,
                          *self._args())

    def step(self, ctx: np.ndarray, avail: int, w: int) -> tuple[float, int, np.ndarray]:
        """(log10 p, matched length, next context) for one token after context ``ctx`` (int64)."""
        return self._call(_step, ctx, int(avail), int(w), *self._args())

    def step_function(self):
        """:meth:`step` as a plain function with everything bound (a decoder's inner loop)."""
        ctx = np.full(max(self.order, 1), -1, dtype=np.int64)
        self.step(ctx, 0, 0)  # compile / load, and find the entry point
        fn, args = self.__dict__["_entries"][_step], self._args()
        return lambda ctx, avail, w: fn(ctx, avail, w, *args)


def tables_from_fast(fast: FastTables):
    """Rebuild sorted :class:`BackoffTables` from hashed tables (for ARPA export, distributions)."""
    from .tables import BackoffTables

    N, V = fast.order, fast.vocab_size
    keys, probs, backs = [np.arange(V, dtype=np.int64)], [np.array(fast.prob1, np.float32)], []
    backs.append(np.array(fast.bow1, np.float32) if N > 1 else np.empty(0, np.float32))
    slot_to_id = np.arange(V, dtype=np.int64)  # order 1
    for m in range(2, N + 1):
        base, size = int(fast.slot_off[m]), int(fast.slot_size[m])
        if fast.quant:
            raw = np.asarray(fast.slots_i[base : base + size])
            used = np.flatnonzero(raw != EMPTY)
            kk = raw[used] & KEY_MASK
            pv = fast.cb_p[256 * m + ((raw[used] >> 48) & 0xFF)]
            bv = fast.cb_b[256 * m + ((raw[used] >> 56) & 0xFF)]
        else:
            k = np.asarray(fast.slots_i[2 * base : 2 * (base + size) : 2])
            used = np.flatnonzero(k != EMPTY)
            kk = k[used]
            f = fast.slots_f[4 * base : 4 * (base + size)].reshape(size, 4)
            pv, bv = f[used, 2], f[used, 3]
        key = slot_to_id[kk // V] * V + kk % V
        order_idx = np.argsort(key, kind="stable")
        keys.append(key[order_idx])
        probs.append(np.array(pv[order_idx], np.float32))
        if m < N:
            backs.append(np.array(bv[order_idx], np.float32))
        slot_to_id = np.full(size, -1, dtype=np.int64)
        slot_to_id[used[order_idx]] = np.arange(len(used))
    backs.append(np.empty(0, np.float32))
    t = BackoffTables(N, V, keys, probs, backs[:N] if N > 1 else [np.empty(0, np.float32)],
                      constant_backoff10=fast.const_bow if fast.use_const else None)
    t.__dict__["_fast"] = (t._version(), fast)
    return t
