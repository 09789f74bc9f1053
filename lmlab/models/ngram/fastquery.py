"""The n-gram query engine: compiled kernels (numba) over one buffer of hashed backoff tables.

This module is the one home of the backoff rule: every path that scores with an n-gram model
(the batch scorer, :mod:`lmlab.kenlm`'s ``Model``/``State`` API, ``lmlab query``, and the
``LanguageModel`` interface: ``step``, ``advance``, ``advance_many``, ``next_logprobs``,
``token_logprobs``) calls a kernel here.

Tables.  Each order m >= 2 gets an open-addressing hash table (linear probing, 1.5 slots per
n-gram, as KenLM's probing structure).  A slot holds the key and the n-gram's log10 probability
and backoff side by side (16 bytes), so a lookup touches one cache line.  An n-gram's key is
``slot(prefix) * V + word``: the slot index of its prefix in the table one order down (unigrams:
the word id), so the ids a state carries are slot indices.  For next-word distributions each order
also lists its slots sorted by key (``cslot``, 4 bytes per n-gram): a context's continuations are
one run of it, found by binary search, so nothing is sorted or rebuilt at query time.

Trie layout (``FastTables(tables, trie=True)``, KenLM's ``trie``): each order's n-grams sorted by
(prefix, word) as bit-packed records: word id, probability (float32 without its sign bit, or a
quantised code), backoff, and a pointer to the first of its continuations one order up, each field
as few bits as it needs.  An n-gram's slot is its record's position, so states and kernels are the
same; ``_find``, ``_prob``, ``_bow`` and the continuation range read either layout (``lay``).

Everything lives in one int64 array (``buf``) described by a small int64 array (``meta``: sizes
and offsets, see ``_M_*``), which is exactly what an ``.lmbin`` file holds (:mod:`.binary`), so
opening a model is a memory map.  Kernels take ``(buf, meta)`` and unpack views of it.

States.  A query state is a tuple of ``order`` ints: ``(a, c1, .., c(N-1))`` where ``cj`` is the
slot of the history's last j words in order j (the word id for j = 1; -1 when that n-gram is not
in the model, and then every longer one is absent too), and ``a`` is how many tokens of history
count for stupid backoff's constant penalty (``min(history, N - 1)``; 0 for every other model, so
histories that predict alike have equal states, as KenLM's).

The query kernels release the GIL (``nogil``): they only read the tables and write arrays of
their own or the caller's, so threads (a server's requests) score in parallel.
"""

from __future__ import annotations

from functools import partial

import numpy as np
from numba import njit, types
from numba.extending import intrinsic
from numba.cpython.unsafe.tuple import tuple_setitem

EMPTY = -1
KEY_MASK = (1 << 48) - 1  # quantised layout: keys must fit in 48 bits
INT32_MAX = (1 << 31) - 1
BOS_ID, EOS_ID = 1, 2  # lmlab.text.specials (not imported: this module stays import-light)

# meta: fixed fields, then four arrays of N + 1 entries (slot_off, slot_size, cslot_off, count)
(_M_V, _M_N, _M_QUANT, _M_CONST, _M_CBOW, _M_SLOTS, _M_NSLOTS, _M_PROB1, _M_BOW1, _M_CBP, _M_CBB,
 _M_CSLOT, _M_NCSLOT) = range(13)
_M_HEAD = 16
ALIGN_WORDS = 8  # every section starts on a 64-byte boundary


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


@njit(cache=True)
def _by_key(parent, n_parent, slot_of, out):
    """``out`` = ``slot_of`` ordered by (parent, then the given order): a counting sort, stable,
    so n-grams given sorted by (prefix id, word) come out sorted by (prefix slot, word)."""
    start = np.zeros(n_parent + 1, dtype=np.int64)
    for i in range(parent.shape[0]):
        start[parent[i] + 1] += 1
    for p in range(n_parent):
        start[p + 1] += start[p]
    for i in range(parent.shape[0]):
        out[start[parent[i]]] = slot_of[i]
        start[parent[i]] += 1


def quantize(values: np.ndarray, bits: int, *, backoff: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """KenLM's quantiser (``-q``/``-b``): ``2**bits`` equal-count bins of the sorted values, each
    represented by its mean, and each value coded as its nearest centre.  For backoffs
    (``backoff``) code 0 is kept for an exact 0 (the n-grams that are no context, most of them)
    and the other bins are trained on the non-zero values.  Returns (codes uint8, centres
    float32[256])."""
    centers = np.zeros(256, dtype=np.float32)
    values = np.asarray(values, dtype=np.float32)
    codes = np.zeros(len(values), dtype=np.uint8)
    first = 1 if backoff else 0
    train = np.sort(values[values != 0] if backoff else values).astype(np.float64)
    if len(train) == 0:
        return codes, centers
    nb = (1 << bits) - first
    n = len(train)
    for b in range(nb):
        lo, hi = (n * b) // nb, (n * (b + 1)) // nb
        # an empty bin (fewer values than bins) repeats the one before
        centers[first + b] = train[lo:hi].mean() if hi > lo else centers[first + b - 1] if b else train[0]
    table = centers[first:first + nb].astype(np.float64)
    v = values.astype(np.float64)
    above = np.searchsorted(table, v, side="left")  # the first centre >= the value
    below = np.clip(above - 1, 0, nb - 1)
    above = np.clip(above, 0, nb - 1)
    nearest = np.where(v - table[below] < table[above] - v, below, above)
    codes[:] = nearest + first
    if backoff:
        codes[values == 0] = 0
    return codes, centers


# ---------------------------------------------------------------------------------------------
# the kernels
# ---------------------------------------------------------------------------------------------
@njit(cache=True, inline="always")
def _unpack(buf, meta):
    """Views of the tables in ``buf`` (see the module docstring)."""
    V, N = meta[_M_V], meta[_M_N]
    use_const = meta[_M_CONST] != 0
    const_bow = meta[_M_CBOW:_M_CBOW + 1].view(np.float64)[0]
    slots_i = buf[meta[_M_SLOTS]:meta[_M_SLOTS] + meta[_M_NSLOTS]]
    slots_f = slots_i.view(np.float32)
    half = (V + 1) // 2
    prob1 = buf[meta[_M_PROB1]:meta[_M_PROB1] + half].view(np.float32)
    bow1 = buf[meta[_M_BOW1]:meta[_M_BOW1] + half].view(np.float32)
    cb_p = buf[meta[_M_CBP]:meta[_M_CBP] + 128 * (N + 1)].view(np.float32)
    cb_b = buf[meta[_M_CBB]:meta[_M_CBB] + 128 * (N + 1)].view(np.float32)
    cslot = buf[meta[_M_CSLOT]:meta[_M_CSLOT] + meta[_M_NCSLOT]].view(np.int32)
    h = _M_HEAD
    slot_off = meta[h:h + N + 1]
    slot_size = meta[h + N + 1:h + 2 * (N + 1)]
    cslot_off = meta[h + 2 * (N + 1):h + 3 * (N + 1)]
    count = meta[h + 3 * (N + 1):h + 4 * (N + 1)]
    lay = meta[h + 4 * (N + 1):]
    return (V, N, slots_i, slots_f, slot_off, slot_size, prob1, bow1, const_bow, use_const, lay,
            cb_p, cb_b, cslot, cslot_off, count)


# ``lay`` (the end of ``meta``): the layout kind, N, V, then five arrays of N + 1 entries that only
# the trie uses: each order's record width in bits and its fields' widths (word, probability,
# backoff, pointer), the fields packed in that order from the record's first bit.
_L_KIND, _L_N, _L_V, _L_HEAD = 0, 1, 2, 3
HASHED, HASHED_QUANT, TRIE = 0, 1, 2
_F_REC, _F_WORD, _F_PROB, _F_BOW, _F_PTR = range(5)


@intrinsic
def _as_float32(typingctx, bits):
    """The float32 whose bit pattern is ``bits`` (uint32)."""
    from llvmlite import ir

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.FloatType())

    return types.float32(types.uint32), codegen


@njit(cache=True, inline="always")
def _bits(words, bit, width):
    """The ``width`` (<= 32) bits of ``words`` (int64, little-endian) from bit ``bit`` on."""
    i = bit >> 6
    sh = bit & 63
    v = np.uint64(words[i]) >> np.uint64(sh)
    if sh + width > 64:
        v |= np.uint64(words[i + 1]) << np.uint64(64 - sh)
    return np.int64(v & ((np.uint64(1) << np.uint64(width)) - np.uint64(1)))


@njit(cache=True, inline="always")
def _width(lay, f, m):
    return lay[_L_HEAD + f * (lay[_L_N] + 1) + m]


@njit(cache=True, inline="always")
def _field(slots_i, slot_off, lay, m, s, f):
    """Field ``f`` of record ``s`` of order m in the trie (fields before ``f`` come first)."""
    at = slot_off[m] + s * _width(lay, _F_REC, m)
    for g in range(_F_WORD, f):
        at += _width(lay, g, m)
    return _bits(slots_i, at, _width(lay, f, m))


@njit(cache=True, inline="always")
def _trie_value(code, width, codebook, m):
    """A probability or backoff field: a float32 (31 bits: a non-positive one without its sign
    bit, so 0 is 0.0) or a quantised code into ``codebook``."""
    if width >= 31:
        if width == 31 and code != 0:
            code |= 0x80000000
        return _as_float32(np.uint32(code))
    return codebook[256 * m + code]


@njit(cache=True, inline="always")
def _children(slots_i, slot_off, slot_size, lay, m, c):
    """The records of order m whose prefix is record ``c`` of order m - 1: [lo, hi)."""
    lo = _field(slots_i, slot_off, lay, m - 1, c, _F_PTR)
    hi = _field(slots_i, slot_off, lay, m - 1, c + 1, _F_PTR)
    n = slot_size[m]
    return min(lo, n), min(hi, n)


@njit(cache=True, inline="always")
def _find(slots_i, slot_off, slot_size, m, key, lay):
    """Slot (within order m >= 2) of the n-gram with ``key``, or -1.

    Plain layout: two int64 per slot (key, then two float32).  Quantised layout: one int64 per
    slot, the key in the low 48 bits and the probability and backoff codes in the top 16.
    Trie: the record among the prefix's children with the word (binary search).
    """
    kind = lay[_L_KIND]
    if kind == TRIE:
        V = lay[_L_V]
        w = key % V
        lo, hi = _children(slots_i, slot_off, slot_size, lay, m, key // V)
        at0 = slot_off[m]
        rec = _width(lay, _F_REC, m)
        wb = _width(lay, _F_WORD, m)
        # interpolation search (KenLM's): the children's word ids spread over [0, V)
        before, bv, after, av = lo - 1, np.int64(-1), hi, V
        while after - before > 1:
            pivot = before + 1 + ((w - bv - 1) * (after - before - 1)) // (av - bv - 1)
            x = _bits(slots_i, at0 + pivot * rec, wb)
            if x < w:
                before, bv = pivot, x
            elif x > w:
                after, av = pivot, x
            else:
                return pivot
        return -1
    base = slot_off[m]
    size = slot_size[m]
    s = _slot(key, size)
    if kind == HASHED_QUANT:
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
def _key(slots_i, slot_off, m, s, lay):
    if lay[_L_KIND] == HASHED_QUANT:
        return slots_i[slot_off[m] + s] & KEY_MASK
    return slots_i[2 * (slot_off[m] + s)]


@njit(cache=True, inline="always")
def _prob(slots_i, slots_f, slot_off, m, s, lay, cb_p):
    kind = lay[_L_KIND]
    if kind == TRIE:
        return _trie_value(_field(slots_i, slot_off, lay, m, s, _F_PROB), _width(lay, _F_PROB, m), cb_p, m)
    if kind == HASHED_QUANT:
        return cb_p[256 * m + ((slots_i[slot_off[m] + s] >> 48) & 0xFF)]
    return slots_f[4 * (slot_off[m] + s) + 2]


@njit(cache=True, inline="always")
def _bow(slots_i, slots_f, slot_off, m, s, lay, cb_b):
    kind = lay[_L_KIND]
    if kind == TRIE:
        return _trie_value(_field(slots_i, slot_off, lay, m, s, _F_BOW), _width(lay, _F_BOW, m), cb_b, m)
    if kind == HASHED_QUANT:
        return cb_b[256 * m + ((slots_i[slot_off[m] + s] >> 56) & 0xFF)]
    return slots_f[4 * (slot_off[m] + s) + 3]


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


@njit(cache=True, nogil=True)
def _score_sequence(buf, meta, tok, kind, out_lp, out_len):
    """Score a flat token array.  ``kind[i]``: 0 scored, 1 sentence start (the state is reset to
    this token), 2 context only (the state advances, nothing is scored: extra padding)."""
    (V, N, slots_i, slots_f, slot_off, slot_size, prob1, bow1, const_bow, use_const, lay, cb_p,
     cb_b, _, _, _) = _unpack(buf, meta)
    ctx = np.full(N, -1, dtype=np.int64)
    new = np.full(N, -1, dtype=np.int64)
    tail = np.zeros(N + 1, dtype=np.float64)
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
    ctx = np.full(N, -1, dtype=np.int64)
    new = np.full(N, -1, dtype=np.int64)
    tail = np.zeros(N + 1, dtype=np.float64)
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


# ---------------------------------------------------------------------------------------------
# sampling: ancestral draws without a full distribution
# ---------------------------------------------------------------------------------------------
@njit(cache=True)
def _build_sampler(buf, meta, run_lo, run_hi, cum):
    """The sampler's tables (:meth:`FastTables.sampler`): for each context (slot of order j < N,
    at ``V + slot_off[j]`` for j >= 2, the word id for j = 1) the run ``[run_lo, run_hi)`` of its
    continuations in order j + 1's ``cslot``; ``cum`` the running sum of 10 ** log10 p over the
    unigrams (``cum[:V]``), then over each run (at ``V + cslot_off[m] + i``, restarting at each
    context)."""
    (V, N, slots_i, slots_f, slot_off, slot_size, prob1, bow1, const_bow, use_const, lay, cb_p,
     cb_b, cslot, cslot_off, count) = _unpack(buf, meta)
    acc = 0.0
    for w in range(V):
        acc += 10.0 ** np.float64(prob1[w])
        cum[w] = acc
    for m in range(2, N + 1):
        base = cslot_off[m]
        at = 0 if m == 2 else V + slot_off[m - 1]  # the contexts' entries
        prev = -1
        acc = 0.0
        for i in range(count[m]):
            s = np.int64(cslot[base + i])
            c = _key(slots_i, slot_off, m, s, lay) // V
            if c != prev:
                run_lo[at + c] = i
                prev = c
                acc = 0.0
            run_hi[at + c] = i + 1
            acc += 10.0 ** np.float64(_prob(slots_i, slots_f, slot_off, m, s, lay, cb_p))
            cum[V + base + i] = acc


@njit(cache=True, inline="always")
def _in_run(cum, lo, hi, off, u):
    """First position i in [lo, hi) with ``cum[off + i] > u`` (``hi - 1`` if none: rounding)."""
    a, b = lo, hi - 1
    while a < b:
        mid = (a + b) >> 1
        if cum[off + mid] > u:
            b = mid
        else:
            a = mid + 1
    return a


MAX_TRIES = 1000  # rejections before a draw falls back to the full distribution (as exact)


@njit(cache=True)
def _sample_tokens(buf, meta, run_lo, run_hi, cum, st, rng, banned, max_tokens, stop_eos, out_ids, out_lp):
    """Draw up to ``max_tokens`` tokens from state row ``st`` (updated in place), each exactly from
    the next-token distribution of :func:`_fill_row` with the ``banned`` ids removed (what
    ``next_logprobs`` gives, renormalised), into ``out_ids`` and ``out_lp`` (log10 p as
    ``next_logprobs``).  Returns (tokens drawn, True if the last was ``</s>`` with ``stop_eos``);
    a count of -1 when every token is banned or has no probability, -2 when ``st`` is not a state
    of these tables.

    A draw is rejection sampling from a proposal that never needs the whole vocabulary: each
    order j <= k of the context (0: the unigrams) proposes its explicit continuations with their
    probabilities times the backoff weights above them (``tail``), in proportion to the run's
    mass (``cum``); a word is accepted when the order that proposed it is the longest that holds
    it (no longer context of the state continues with it) and it is not banned.  Every word's
    accepted mass is then exactly its probability, so the draw is exact for any backoff model
    (normalised or not).  After ``MAX_TRIES`` rejections it draws from the full distribution."""
    (V, N, slots_i, slots_f, slot_off, slot_size, prob1, bow1, const_bow, use_const, lay, cb_p,
     cb_b, cslot, cslot_off, count) = _unpack(buf, meta)
    ok = 0 <= st[0] < N
    for j in range(1, N):
        ok = ok and -1 <= st[j] < slot_size[j]
    for b in range(banned.shape[0]):
        ok = ok and 0 <= banned[b] < V
    if not ok:
        return -2, False
    ctx = np.empty(N, dtype=np.int64)
    new = np.empty(N, dtype=np.int64)
    tail = np.zeros(N + 1, dtype=np.float64)
    tail2 = np.zeros(N + 1, dtype=np.float64)
    weight = np.zeros(N, dtype=np.float64)  # proposal mass of each order j = 0..k
    lo_of = np.zeros(N, dtype=np.int64)
    hi_of = np.zeros(N, dtype=np.int64)
    row = np.empty(0, dtype=np.float64)
    nxt = np.empty(N, dtype=np.int64)
    for t in range(max_tokens):
        for j in range(N - 1):
            ctx[j] = st[j + 1]
        ctx[N - 1] = -1
        k = _context_weights(ctx, st[0], N, slots_i, slots_f, slot_off, lay, bow1, cb_b, const_bow,
                             use_const, tail)
        total = 0.0
        weight[0] = cum[V - 1] * 10.0 ** tail[1]
        total += weight[0]
        for j in range(1, k + 1):
            at = 0 if j == 1 else V + slot_off[j]
            lo, hi = np.int64(run_lo[at + ctx[j - 1]]), np.int64(run_hi[at + ctx[j - 1]])
            lo_of[j], hi_of[j] = lo, hi
            weight[j] = cum[V + cslot_off[j + 1] + hi - 1] * 10.0 ** tail[j + 1] if hi > lo else 0.0
            total += weight[j]
        w, lp = -1, 0.0
        for _ in range(MAX_TRIES):
            u = rng.random() * total
            j = k
            while j > 0 and u >= weight[j]:
                u -= weight[j]
                j -= 1
            if j == 0:
                x = _in_run(cum, 0, V, 0, u / 10.0 ** tail[1])
                lp = np.float64(prob1[x]) + tail[1]
            else:
                m = j + 1
                off = V + cslot_off[m]
                i = _in_run(cum, lo_of[j], hi_of[j], off, u / 10.0 ** tail[m])
                s = np.int64(cslot[cslot_off[m] + i])
                x = _key(slots_i, slot_off, m, s, lay) % V
                lp = np.float64(_prob(slots_i, slots_f, slot_off, m, s, lay, cb_p)) + tail[m]
            ok = True
            for b in range(banned.shape[0]):
                ok = ok and banned[b] != x
            for h in range(j + 1, k + 1):  # a longer context holds x: its own order proposes it
                ok = ok and _find(slots_i, slot_off, slot_size, h + 1, ctx[h - 1] * V + x, lay) < 0
            if ok:
                w = x
                break
        if w < 0:  # the full distribution, as next_logprobs
            if row.shape[0] == 0:
                row = np.empty(V, dtype=np.float64)
            _fill_row(ctx, k, tail, row, V, slots_i, slots_f, slot_off, slot_size, prob1, lay, cb_p, cslot,
                      cslot_off, count)
            for b in range(banned.shape[0]):
                row[banned[b]] = -np.inf
            acc = 0.0
            for x in range(V):
                acc += 10.0 ** row[x]
            if not acc > 0.0:
                return -1, False
            u = rng.random() * acc
            acc = 0.0
            w = V - 1
            for x in range(V):
                acc += 10.0 ** row[x]
                if acc > u:
                    w = x
                    break
            lp = row[w]
        out_ids[t] = w
        out_lp[t] = lp
        if w == EOS_ID and stop_eos:
            return t + 1, True
        _state_step(st, w, ctx, new, tail2, nxt, V, N, slots_i, slots_f, slot_off, slot_size, prob1, bow1,
                    const_bow, use_const, lay, cb_p, cb_b)
        for j in range(N):
            st[j] = nxt[j]
    return max_tokens, False


_ENTRIES: dict = {}
_NOWHERE = np.empty(0, dtype=np.float64)  # an ``out`` that asks for no per-token scores


def _entry_point(dispatcher, args):
    """The compiled function for ``args``' types, callable without dispatch (the dispatcher
    itself if numba does not expose it); compiled (or loaded from numba's cache) without running."""
    import numba

    sig = tuple(numba.typeof(a) for a in args)
    fn = _ENTRIES.get((dispatcher, sig))
    if fn is None:
        try:
            dispatcher.compile(sig)
            fn = dispatcher.overloads[sig].entry_point
        except (AttributeError, KeyError, TypeError):
            fn = dispatcher
        _ENTRIES[dispatcher, sig] = fn
    return fn


# ---------------------------------------------------------------------------------------------
# building the buffer
# ---------------------------------------------------------------------------------------------
def _aligned(n_words: int) -> int:
    return -(-max(int(n_words), 1) // ALIGN_WORDS) * ALIGN_WORDS


def _allocate(tables, sections: dict, quant: bool, per_order, lay) -> tuple[np.ndarray, np.ndarray]:
    """A zeroed buffer with ``sections`` (name: int64 words) each on a 64-byte boundary, and its
    ``meta``: the fixed fields, the four per-order arrays and (trie) the layout ``lay``."""
    N, V = tables.order, tables.vocab_size
    offsets, pos = {}, 0
    for name, words in sections.items():
        offsets[name] = pos
        pos += _aligned(words)
    buf = np.zeros(pos, dtype=np.int64)
    meta = np.zeros(_M_HEAD + 4 * (N + 1), dtype=np.int64)
    meta[[_M_V, _M_N, _M_QUANT, _M_CONST]] = V, N, int(quant), int(tables.constant_backoff10 is not None)
    meta[_M_CBOW:_M_CBOW + 1].view(np.float64)[0] = float(tables.constant_backoff10 or 0.0)
    meta[[_M_SLOTS, _M_NSLOTS]] = offsets["slots"], sections["slots"]
    meta[[_M_PROB1, _M_BOW1, _M_CBP, _M_CBB]] = (offsets["prob1"], offsets["bow1"], offsets["cb_p"],
                                                 offsets["cb_b"])
    meta[[_M_CSLOT, _M_NCSLOT]] = offsets["cslot"], sections["cslot"]
    h = _M_HEAD
    for i, arr in enumerate(per_order):
        meta[h + i * (N + 1):h + (i + 1) * (N + 1)] = np.asarray(arr, dtype=np.int64)
    if lay is not None:
        meta = np.concatenate([meta, lay])
    return buf, meta


@njit(cache=True)
def _put_field(words, bit0, rec, off, width, values):
    """Write ``values[i]`` (< 2**width) into bits ``bit0 + i * rec + off`` on of ``words`` (uint64)."""
    for i in range(values.shape[0]):
        v = np.uint64(values[i])
        bit = bit0 + i * rec + off
        j = bit >> 6
        sh = bit & 63
        words[j] |= v << np.uint64(sh)
        if sh + width > 64:
            words[j + 1] |= v >> np.uint64(64 - sh)


@njit(cache=True)
def _trie_records(buf, meta, m, word, prob, bow, ptr):
    """Decode order m's records of a trie (``ptr``: every record's pointer, the end one too)."""
    (V, N, slots_i, slots_f, slot_off, slot_size, prob1, bow1, const_bow, use_const, lay, cb_p,
     cb_b, _, _, _) = _unpack(buf, meta)
    for s in range(word.shape[0]):
        word[s] = _field(slots_i, slot_off, lay, m, s, _F_WORD)
        prob[s] = _prob(slots_i, slots_f, slot_off, m, s, lay, cb_p)
        if m < N:
            bow[s] = _bow(slots_i, slots_f, slot_off, m, s, lay, cb_b)
    for s in range(ptr.shape[0]):
        ptr[s] = _field(slots_i, slot_off, lay, m, s, _F_PTR)


class FastTables:
    """The query engine's tables for one model (see the module docstring).

    Built from :class:`BackoffTables` (``FastTables(tables)``) or opened from a buffer
    (:meth:`from_buffer`, what :mod:`.binary` maps).  ``quant_bits`` (1..8) quantises the
    probabilities (and ``backoff_bits``, by default the same, the backoffs) of orders >= 2 into
    ``2**bits`` values per order and packs each slot into 8 bytes (KenLM's ``-q``/``-b``);
    unigrams stay exact.  ``trie`` lays the tables out as KenLM's trie (:meth:`_build_trie`)
    instead of hash tables: about a third of the size, queried by the same kernels.
    """

    def __init__(self, tables, quant_bits: int | None = None, *, backoff_bits: int | None = None,
                 trie: bool = False):
        from ...errors import ConfigError

        N, V = tables.order, tables.vocab_size
        quant = quant_bits is not None
        if backoff_bits is not None and not quant:
            raise ConfigError("backoff quantisation (-b) needs probability quantisation (-q) too, as build_binary's")
        for bits in (quant_bits, backoff_bits):
            if bits is not None and not 1 <= bits <= 8:
                raise ConfigError(f"quantisation takes 1 to 8 bits, got {bits}")
        backoff_bits = quant_bits if backoff_bits is None else backoff_bits
        if trie:
            self._build_trie(tables, quant_bits, backoff_bits)
            return
        counts = [len(tables.keys[m - 1]) for m in range(1, N + 1)]
        slot_size = np.ones(N + 1, dtype=np.int64)
        slot_size[1] = V
        for m in range(2, N + 1):
            slot_size[m] = max(int(np.ceil(1.5 * counts[m - 1])), 2)
        if quant and max([int(slot_size[m]) * V for m in range(2, N + 1)] + [0]) >= KEY_MASK:
            raise ConfigError("this model is too large for the quantised layout (keys need more than 48 bits)")
        if int(slot_size.max()) > INT32_MAX:
            raise ConfigError("this model has an order with more than 1.4 billion n-grams, more than the "
                              "query engine's 32-bit slot indexes hold")
        per = 1 if quant else 2  # int64 words per slot
        slot_off = np.zeros(N + 1, dtype=np.int64)
        total = 0
        for m in range(2, N + 1):
            slot_off[m] = total
            total += int(slot_size[m])
        cslot_off = np.zeros(N + 1, dtype=np.int64)
        n_cslot = 0
        for m in range(2, N + 1):
            cslot_off[m] = n_cslot
            n_cslot += counts[m - 1]
        sections = {"slots": per * total, "prob1": (V + 1) // 2, "bow1": (V + 1) // 2,
                    "cb_p": 128 * (N + 1), "cb_b": 128 * (N + 1),
                    "cslot": (n_cslot + 1) // 2}
        buf, meta = _allocate(tables, sections, quant, (slot_off, slot_size, cslot_off, [0] + counts), None)
        self._attach(buf, meta, quant_bits)
        self.slots_i[:] = EMPTY
        self.prob1[:V] = np.asarray(tables.logprob10[0], dtype=np.float32)
        if N > 1 and len(tables.backoff10[0]):
            self.bow1[:V] = np.asarray(tables.backoff10[0], dtype=np.float32)
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
                bcode, self.cb_b[256 * m : 256 * (m + 1)] = quantize(backs, backoff_bits, backoff=True)
                _insert_order_q(self.slots_i, slot_off[m], slot_size[m], new_keys, pcode, bcode, slot_of)
            else:
                _insert_order(self.slots_i, self.slots_f, slot_off[m], slot_size[m], new_keys, probs,
                              backs, has_back, slot_of)
            # the slots by key (prefix slot, word): a context's continuations are a run of them
            _by_key(new_keys // V, int(slot_size[m - 1]), slot_of, self.cslot[cslot_off[m]:cslot_off[m] + len(keys)])
            prev_slot = slot_of

    def _build_trie(self, tables, quant_bits: int | None, backoff_bits: int | None) -> None:
        """KenLM's trie: each order's n-grams sorted by (prefix, word) as bit-packed records
        (word id, probability, backoff, pointer to the first of its continuations one order up,
        each field as few bits as it needs; a last record holds the end pointer), so an n-gram's
        slot is its position and its continuations are the records between its pointer and the
        next record's.  Probabilities are float32 without the sign bit (31 bits) when none is
        positive, backoffs float32, or both quantised to codes; unigrams stay float32 arrays."""
        from ...errors import ConfigError

        N, V = tables.order, tables.vocab_size
        quant = quant_bits is not None
        counts = [len(k) for k in tables.keys]
        if max(counts) > INT32_MAX:
            raise ConfigError("this model has an order with more than 2 billion n-grams, more than the "
                              "trie's 32-bit pointers hold")
        widths = np.zeros((5, N + 1), dtype=np.int64)
        fields: list[dict] = [{} for _ in range(N + 1)]
        for m in range(1, N + 1):
            if m < N:  # the pointer: the start of its continuations (one more record: the end)
                parent = tables.keys[m] // V
                fields[m][_F_PTR] = np.searchsorted(parent, np.arange(counts[m - 1] + 1)).astype(np.int64)
                widths[_F_PTR, m] = max(int(counts[m]).bit_length(), 1)
            if m == 1:
                continue
            fields[m][_F_WORD] = tables.keys[m - 1] % V
            widths[_F_WORD, m] = max(int(V - 1).bit_length(), 1)
            probs = np.asarray(tables.logprob10[m - 1], np.float32)
            backs = np.asarray(tables.backoff10[m - 1], np.float32) if m < N else None
            if quant:
                fields[m][_F_PROB], fields[m]["cb_p"] = quantize(probs, quant_bits)
                widths[_F_PROB, m] = quant_bits
                if backs is not None:
                    fields[m][_F_BOW], fields[m]["cb_b"] = quantize(backs, backoff_bits, backoff=True)
                    widths[_F_BOW, m] = backoff_bits
                continue
            raw = probs.view(np.uint32).astype(np.int64)
            nonpositive = bool(np.all((raw >> 31 == 1) | (raw == 0)))
            fields[m][_F_PROB] = raw & 0x7FFFFFFF if nonpositive else raw
            widths[_F_PROB, m] = 31 if nonpositive else 32
            if backs is not None:
                fields[m][_F_BOW] = backs.view(np.uint32).astype(np.int64)
                widths[_F_BOW, m] = 32
        widths[_F_REC] = widths[_F_WORD:].sum(axis=0)
        slot_off = np.zeros(N + 1, dtype=np.int64)
        nbits = 0
        for m in range(1, N + 1):
            slot_off[m] = nbits
            nbits += int(widths[_F_REC, m]) * (counts[m - 1] + (m < N))
        slot_size = np.array([1, V] + counts[1:], dtype=np.int64)
        sections = {"slots": -(-nbits // 64) + 1, "prob1": (V + 1) // 2, "bow1": (V + 1) // 2,
                    "cb_p": 128 * (N + 1), "cb_b": 128 * (N + 1), "cslot": 0}
        lay = np.concatenate([[TRIE, N, V], widths.ravel()]).astype(np.int64)
        buf, meta = _allocate(tables, sections, quant, (slot_off, slot_size, np.zeros(N + 1, np.int64),
                                                        [0] + counts), lay)
        self._attach(buf, meta, quant_bits)
        self.prob1[:V] = np.asarray(tables.logprob10[0], dtype=np.float32)
        if N > 1 and len(tables.backoff10[0]):
            self.bow1[:V] = np.asarray(tables.backoff10[0], dtype=np.float32)
        packed = self.slots_i.view(np.uint64)
        for m in range(1, N + 1):
            at = 0
            for f in (_F_WORD, _F_PROB, _F_BOW, _F_PTR):
                if f in fields[m]:
                    _put_field(packed, slot_off[m], widths[_F_REC, m], at, widths[f, m],
                               np.asarray(fields[m][f], dtype=np.int64))
                at += int(widths[f, m])
            if quant:
                self.cb_p[256 * m : 256 * (m + 1)] = fields[m].get("cb_p", 0.0)
                self.cb_b[256 * m : 256 * (m + 1)] = fields[m].get("cb_b", 0.0)

    @classmethod
    def from_buffer(cls, buf: np.ndarray, meta: np.ndarray, quant_bits: int | None = None) -> FastTables:
        """Tables over an existing buffer (a memory map: nothing is copied or built).  Raises
        ``ValueError`` naming the problem when ``meta`` does not describe tables inside ``buf``."""
        _check_layout(len(buf), np.asarray(meta, dtype=np.int64), quant_bits)
        fast = cls.__new__(cls)
        fast._attach(buf, meta, quant_bits)
        return fast

    def _attach(self, buf: np.ndarray, meta: np.ndarray, quant_bits: int | None) -> None:
        meta = np.ascontiguousarray(meta, dtype=np.int64)
        V, N = int(meta[_M_V]), int(meta[_M_N])
        if len(meta) == _M_HEAD + 4 * (N + 1):  # a hashed layout: its ``lay`` is the kind alone
            kind = HASHED_QUANT if meta[_M_QUANT] else HASHED
            meta = np.concatenate([meta, [kind, N, V], np.zeros(5 * (N + 1), np.int64)])
        self.buf, self.meta = buf, meta
        self.trie = int(meta[_M_HEAD + 4 * (N + 1) + _L_KIND]) == TRIE
        self.order, self.vocab_size, self.quant_bits = N, V, quant_bits
        self.use_const = bool(meta[_M_CONST])
        self.const_bow = float(meta[_M_CBOW:_M_CBOW + 1].view(np.float64)[0])

        def section(at: int, words: int) -> np.ndarray:
            return buf[int(meta[at]):int(meta[at]) + int(words)]

        self.slots_i = section(_M_SLOTS, meta[_M_NSLOTS])
        self.slots_f = self.slots_i.view(np.float32)
        self.prob1 = section(_M_PROB1, (V + 1) // 2).view(np.float32)
        self.bow1 = section(_M_BOW1, (V + 1) // 2).view(np.float32)
        self.cb_p = section(_M_CBP, 128 * (N + 1)).view(np.float32)
        self.cb_b = section(_M_CBB, 128 * (N + 1)).view(np.float32)
        self.cslot = section(_M_CSLOT, meta[_M_NCSLOT]).view(np.int32)
        h = _M_HEAD
        self.slot_off, self.slot_size = meta[h:h + N + 1], meta[h + N + 1:h + 2 * (N + 1)]
        self.cslot_off = meta[h + 2 * (N + 1):h + 3 * (N + 1)]
        self._entries: dict = {}

    @property
    def hashed_meta_len(self) -> int:
        """Length of ``meta`` without ``lay`` (what a hashed layout's file holds)."""
        return _M_HEAD + 4 * (self.order + 1)

    @property
    def quant(self) -> bool:
        return self.quant_bits is not None

    def nbytes(self) -> int:
        return int(self.buf.nbytes)

    def _call(self, kernel, *args):
        """``kernel(buf, meta, *args)`` through its compiled entry point for these argument types,
        skipping the dispatcher's type resolution (KenLM-style APIs call once per word or line).
        Callers pass arguments of fixed types."""
        fn = self._entries.get(kernel)
        if fn is None:
            fn = self._entries[kernel] = _entry_point(kernel, (self.buf, self.meta, *args))
        return fn(self.buf, self.meta, *args)

    # -- states ---------------------------------------------------------------------------
    def null_state(self) -> tuple:
        """No history (KenLM's ``NullContextWrite``)."""
        return (0,) + (-1,) * (self.order - 1)

    def begin_state(self, bos_id: int = BOS_ID) -> tuple:
        """After ``<s>``."""
        if self.order == 1:
            return (0,)
        return (int(self.use_const), bos_id) + (-1,) * (self.order - 2)

    # -- queries --------------------------------------------------------------------------
    def score(self, tok: np.ndarray, kind: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """log10 p and matched length per token; ``kind`` as in :func:`_score_sequence`."""
        tok = np.ascontiguousarray(tok, dtype=np.int64)
        out_lp = np.empty(len(tok), dtype=np.float64)
        out_len = np.empty(len(tok), dtype=np.int8)
        self._call(_score_sequence, tok, np.ascontiguousarray(kind, dtype=np.int8), out_lp, out_len)
        return out_lp, out_len

    def score_rows(self, rows: np.ndarray) -> np.ndarray:
        """log10 p(last word | the others) for each row of word ids (n, m >= 2), the others taken
        as given (no ``<s>`` added)."""
        rows = np.asarray(rows, dtype=np.int64)
        n, m = rows.shape
        kind = np.zeros((n, m), dtype=np.int8)
        kind[:, 0], kind[:, 1:-1] = 1, 2
        lp, _ = self.score(rows.ravel(), kind.ravel())
        return lp.reshape(n, m)[:, -1]

    def sentence_scores(self, ids: np.ndarray, bos: bool = True, eos: bool = True, scale: float = 1.0) -> np.ndarray:
        """``scale`` * log10 p of each token of one sentence of ids (int64), then of ``</s>``."""
        out = np.empty(len(ids) + bool(eos), dtype=np.float64)
        self._call(_sentence_scores, ids, bool(bos), bool(eos), float(scale), out)
        return out

    def score_sentence(self, ids: np.ndarray, bos: bool = True, eos: bool = True) -> float:
        """Total log10 probability of one sentence of ids."""
        return self._call(_sentence_scores, np.ascontiguousarray(ids, dtype=np.int64), bool(bos), bool(eos), 1.0,
                          _NOWHERE)

    def step(self, state: tuple, w: int) -> tuple[float, int, tuple]:
        """(log10 p, matched length, next state) for one token after ``state``."""
        return self._call(_step, state, int(w))

    def step_function(self):
        """:meth:`step` as a plain function ``(state, w)`` with the tables bound (a decoder's inner
        loop)."""
        self.step(self.null_state(), 0)  # compile / load, and find the entry point
        return partial(self._entries[_step], self.buf, self.meta)

    def state_of(self, state) -> tuple:
        """``state`` itself, or the state after a sequence of fewer than ``order`` token ids from
        no history (lmlab's earlier n-gram states: the last ``order - 1`` token ids)."""
        if isinstance(state, tuple) and len(state) == self.order:
            return state
        if isinstance(state, tuple) and len(state) < self.order:
            ids = np.asarray(state, dtype=np.int64)
            if not len(ids) or (0 <= int(ids.min()) and int(ids.max()) < self.vocab_size):
                out = self.null_state()
                for t in ids.tolist():
                    out = self.step(out, t)[2]
                return out
        self._refuse(state)

    def _refuse(self, state):
        from ...errors import ConfigError

        raise ConfigError(f"{state!r} is not a state of this {self.order}-gram model: states come from its "
                          "begin_state(), null_state(), advance() and step() (or are fewer than "
                          f"{self.order} token ids)")

    def states_array(self, states) -> np.ndarray:
        """States as a (B, N) int64 array."""
        if any(len(s) != self.order for s in states if isinstance(s, tuple)):
            states = [self.state_of(s) for s in states]
        try:
            arr = np.array(states, dtype=np.int64).reshape(len(states), self.order)
        except (ValueError, TypeError, OverflowError):
            self._refuse(next((s for s in states if not isinstance(s, tuple)), states))
        bad = (arr < -1).any(axis=1) | (arr[:, 0] >= self.order) | (arr[:, 1:] >= self.slot_size[1:self.order]).any(axis=1)
        if bad.any():
            self._refuse(states[int(np.argmax(bad))])
        return arr

    def step_states(self, states, toks) -> tuple[list[tuple], np.ndarray]:
        """:meth:`step` for a batch: (next states, log10 p of each token)."""
        arr = self.states_array(states)
        out = np.empty_like(arr)
        lp = np.empty(len(arr), dtype=np.float64)
        self._call(_step_states, arr, np.ascontiguousarray(toks, dtype=np.int64), out, lp)
        return list(map(tuple, out.tolist())), lp

    def next_dists(self, states, scale: float = 1.0) -> np.ndarray:
        """(B, V) float64: ``scale`` * log10 p(w | state) for every word w of each state."""
        arr = self.states_array(states)
        out = np.empty((len(arr), self.vocab_size), dtype=np.float64)
        self._call(_next_dists, arr, float(scale), out)
        return out


    def sampler(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The sampler's tables (:func:`_build_sampler`: each context's run of continuations and
        the running probability mass), built on the first draw and kept (about 16 bytes per
        n-gram): nothing else needs them."""
        built = self.__dict__.get("_sampler")
        if built is None:
            N, V = self.order, self.vocab_size
            n_ctx = V + (int(self.slot_off[N]) if N > 2 else 0)
            n_cum = V + (int(self.cslot_off[N]) + int(self.meta[_M_HEAD + 3 * (N + 1) + N]) if N > 1 else 0)
            run_lo, run_hi = np.zeros(n_ctx, dtype=np.int32), np.zeros(n_ctx, dtype=np.int32)
            cum = np.zeros(n_cum, dtype=np.float64)
            self._call(_build_sampler, run_lo, run_hi, cum)
            built = self.__dict__["_sampler"] = (run_lo, run_hi, cum)
        return built

    def sample_tokens(self, state, rng: np.random.Generator, max_tokens: int, banned, stop_eos: bool = True
                      ) -> tuple[np.ndarray, np.ndarray, bool]:
        """Up to ``max_tokens`` tokens drawn one after another from ``state``, each exactly from
        :meth:`next_dists`' distribution without the ``banned`` ids (:func:`_sample_tokens`):
        (token ids, log10 p of each as :meth:`next_dists` gives it, True if it stopped at
        ``</s>``).  ``rng`` is advanced as the draws use it, so a seeded generator repeats."""
        from ...errors import ConfigError

        try:
            st = np.array(state, dtype=np.int64).reshape(self.order)  # checked in the kernel
        except (ValueError, TypeError, OverflowError):
            self._refuse(state)
        ids = np.empty(max_tokens, dtype=np.int64)
        lps = np.empty(max_tokens, dtype=np.float64)
        n, stopped = self._call(_sample_tokens, *self.sampler(), st, rng,
                                np.ascontiguousarray(sorted(banned), dtype=np.int64), int(max_tokens),
                                bool(stop_eos), ids, lps)
        if n == -2:
            self._refuse(state)
        if n < 0:
            raise ConfigError("no token is left to choose from (every token was banned or filtered out)")
        return ids[:n], lps[:n], bool(stopped)


def _check_layout(words: int, meta: np.ndarray, quant_bits) -> None:
    """Every section ``meta`` names lies inside a buffer of ``words`` int64 words, and every
    order's slots inside the slot section: the kernels do not check bounds."""
    if len(meta) < _M_HEAD or not 1 <= meta[_M_N] <= 255 or meta[_M_V] < 3:
        raise ValueError("its layout has no valid order and vocabulary size")
    V, N = int(meta[_M_V]), int(meta[_M_N])
    h = _M_HEAD
    trie = len(meta) == h + 4 * (N + 1) + _L_HEAD + 5 * (N + 1)
    if not trie and len(meta) != h + 4 * (N + 1) or bool(meta[_M_QUANT]) != (quant_bits is not None):
        raise ValueError("its layout does not match its order and quantisation")
    if trie:
        return _check_trie(words, meta, quant_bits is not None)
    slot_off, slot_size = meta[h:h + N + 1], meta[h + N + 1:h + 2 * (N + 1)]
    cslot_off, count = meta[h + 2 * (N + 1):h + 3 * (N + 1)], meta[h + 3 * (N + 1):]
    per = 1 if quant_bits is not None else 2
    sections = [(_M_SLOTS, int(meta[_M_NSLOTS])), (_M_PROB1, (V + 1) // 2), (_M_BOW1, (V + 1) // 2),
                (_M_CBP, 128 * (N + 1)), (_M_CBB, 128 * (N + 1)), (_M_CSLOT, int(meta[_M_NCSLOT]))]
    bad = [at for at, n in sections if meta[at] < 0 or n < 0 or meta[at] + n > words]
    orders = range(2, N + 1)
    bad += [m for m in orders if slot_off[m] < 0 or slot_size[m] < 1 or slot_size[m] < count[m]
            or per * (slot_off[m] + slot_size[m]) > meta[_M_NSLOTS] or slot_size[m] > INT32_MAX
            or cslot_off[m] < 0 or cslot_off[m] + count[m] > 2 * meta[_M_NCSLOT]]
    if bad or slot_size[1] != V:
        raise ValueError("its layout names tables outside the file's data")


def _check_trie(words: int, meta: np.ndarray, quant: bool) -> None:
    """:func:`_check_layout` for a trie: field widths the kernels can read, and every order's
    records inside the packed section (pointers read from it are clamped by the kernels)."""
    V, N = int(meta[_M_V]), int(meta[_M_N])
    h = _M_HEAD
    slot_off, slot_size = meta[h:h + N + 1], meta[h + N + 1:h + 2 * (N + 1)]
    count, lay = meta[h + 3 * (N + 1):h + 4 * (N + 1)], meta[h + 4 * (N + 1):]
    width = lay[_L_HEAD:].reshape(5, N + 1)
    value_ok = (lambda b: 1 <= b <= 8) if quant else (lambda b: b in (31, 32))
    bad = [lay[_L_KIND] != TRIE, lay[_L_N] != N, lay[_L_V] != V, slot_size[1] != V, count[1] != V,
           meta[_M_SLOTS] < 0 or meta[_M_NSLOTS] < 1 or meta[_M_SLOTS] + meta[_M_NSLOTS] > words]
    for sec, n in ((_M_PROB1, (V + 1) // 2), (_M_BOW1, (V + 1) // 2), (_M_CBP, 128 * (N + 1)),
                   (_M_CBB, 128 * (N + 1))):
        bad.append(meta[sec] < 0 or meta[sec] + n > words)
    for m in range(1, N + 1):
        wb, pb, bb, tb = (int(x) for x in width[_F_WORD:, m])
        top = m == N
        bad += [wb != 0 if m == 1 else not (V - 1).bit_length() <= wb <= 32,
                pb != 0 if m == 1 else not value_ok(pb),
                bb != 0 if m == 1 or top else not (1 <= bb <= 8 if quant else bb == 32),
                tb != 0 if top else not 1 <= tb <= 32,
                width[_F_REC, m] != wb + pb + bb + tb, slot_off[m] < 0,
                m > 1 and slot_size[m] != count[m],
                slot_off[m] + width[_F_REC, m] * (count[m] + (not top)) > 64 * (meta[_M_NSLOTS] - 1)]
    if any(bad):
        raise ValueError("its layout names tables outside the file's data")


def tables_from_fast(fast: FastTables):
    """Rebuild sorted :class:`BackoffTables` from hashed tables (for ARPA export and pruning; no
    query needs them)."""
    N, V = fast.order, fast.vocab_size
    keys, probs, backs = [np.arange(V, dtype=np.int64)], [np.array(fast.prob1[:V], np.float32)], []
    backs.append(np.array(fast.bow1[:V], np.float32) if N > 1 else np.empty(0, np.float32))
    if fast.trie:
        return _tables_from_trie(fast, keys, probs, backs)
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
    return _backoff_tables(fast, keys, probs, backs)


def _tables_from_trie(fast: FastTables, keys: list, probs: list, backs: list):
    """:func:`tables_from_fast` for a trie: its records are the sorted tables already."""
    N, V = fast.order, fast.vocab_size
    ptr = np.empty(V + 1 if N > 1 else 0, dtype=np.int64)
    none = np.empty(0, dtype=np.int64)
    fast._call(_trie_records, np.int64(1), none, np.empty(0, np.float32), np.empty(0, np.float32), ptr)
    for m in range(2, N + 1):
        n = int(fast.slot_size[m])
        word, prob = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.float32)
        bow = np.empty(n if m < N else 0, dtype=np.float32)
        nxt = np.empty(n + 1 if m < N else 0, dtype=np.int64)
        fast._call(_trie_records, np.int64(m), word, prob, bow, nxt)
        parent = np.repeat(np.arange(len(ptr) - 1), np.diff(ptr))
        keys.append(parent * V + word)
        probs.append(prob)
        if m < N:
            backs.append(bow)
        ptr = nxt
    return _backoff_tables(fast, keys, probs, backs)


def _backoff_tables(fast: FastTables, keys: list, probs: list, backs: list):
    from .tables import BackoffTables

    N, V = fast.order, fast.vocab_size
    backs.append(np.empty(0, np.float32))
    t = BackoffTables(N, V, keys, probs, backs[:N] if N > 1 else [np.empty(0, np.float32)],
                      constant_backoff10=fast.const_bow if fast.use_const else None)
    t.__dict__["_fast"] = (t._version(), fast)
    return t
