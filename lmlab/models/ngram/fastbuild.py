"""Building the query engine's buffer (:mod:`.fastlayout`) from :class:`BackoffTables`, checking
one read from a file, and reading the tables back out of it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numba import njit

if TYPE_CHECKING:
    from .fastquery import FastTables

from .fastlayout import (ALIGN_WORDS, EMPTY, INT32_MAX, KEY_MASK, TRIE, _F_BOW, _F_PROB, _F_PTR, _F_REC, _F_WORD,
                         _L_HEAD, _L_KIND, _L_N, _L_V, _M_BOW1, _M_CBB, _M_CBOW, _M_CBP, _M_CONST, _M_CSLOT,
                         _M_HEAD, _M_N, _M_NCSLOT, _M_NSLOTS, _M_PROB1, _M_QUANT, _M_SLOTS, _M_V, _bow, _field,
                         _prob, _slot, _unpack, Views)


def build(tables, quant_bits: int | None, backoff_bits: int | None, trie: bool) -> tuple[np.ndarray, np.ndarray]:
    """``(buf, meta)`` of ``tables`` in the hashed layout (quantised with ``quant_bits``) or the
    trie (see :class:`.fastquery.FastTables`)."""
    from ...errors import ConfigError

    quant = quant_bits is not None
    if backoff_bits is not None and not quant:
        raise ConfigError("backoff quantisation (-b) needs probability quantisation (-q) too, as build_binary's")
    for bits in (quant_bits, backoff_bits):
        if bits is not None and not 1 <= bits <= 8:
            raise ConfigError(f"quantisation takes 1 to 8 bits, got {bits}")
    backoff_bits = quant_bits if backoff_bits is None else backoff_bits
    return (_build_trie if trie else _build_hashed)(tables, quant_bits, backoff_bits)


def _build_hashed(tables, quant_bits: int | None, backoff_bits: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Each order >= 2 an open-addressing hash table, 1.5 slots per n-gram (KenLM's probing)."""
    from ...errors import ConfigError

    N, V = tables.order, tables.vocab_size
    quant = quant_bits is not None
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
    t = Views(buf, meta)
    t.slots_i[:] = EMPTY
    t.prob1[:V] = np.asarray(tables.logprob10[0], dtype=np.float32)
    if N > 1 and len(tables.backoff10[0]):
        t.bow1[:V] = np.asarray(tables.backoff10[0], dtype=np.float32)
    prev_slot = np.arange(V, dtype=np.int64)  # order 1: slot == word id
    for m in range(2, N + 1):
        keys = tables.keys[m - 1]
        new_keys = prev_slot[keys // V] * V + keys % V
        slot_of = np.empty(len(keys), dtype=np.int64)
        has_back = m < N
        probs = np.asarray(tables.logprob10[m - 1], np.float32)
        backs = np.asarray(tables.backoff10[m - 1], np.float32) if has_back else np.zeros(len(keys), np.float32)
        if quant:
            pcode, t.cb_p[256 * m : 256 * (m + 1)] = quantize(probs, quant_bits)
            bcode, t.cb_b[256 * m : 256 * (m + 1)] = quantize(backs, backoff_bits, backoff=True)
            _insert_order_q(t.slots_i, slot_off[m], slot_size[m], new_keys, pcode, bcode, slot_of)
        else:
            _insert_order(t.slots_i, t.slots_f, slot_off[m], slot_size[m], new_keys, probs,
                          backs, has_back, slot_of)
        # the slots by key (prefix slot, word): a context's continuations are a run of them
        _by_key(new_keys // V, int(slot_size[m - 1]), slot_of, t.cslot[cslot_off[m]:cslot_off[m] + len(keys)])
        prev_slot = slot_of
    return buf, meta


def _build_trie(tables, quant_bits: int | None, backoff_bits: int | None) -> tuple[np.ndarray, np.ndarray]:
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
    t = Views(buf, meta)
    t.prob1[:V] = np.asarray(tables.logprob10[0], dtype=np.float32)
    if N > 1 and len(tables.backoff10[0]):
        t.bow1[:V] = np.asarray(tables.backoff10[0], dtype=np.float32)
    packed = t.slots_i.view(np.uint64)
    for m in range(1, N + 1):
        at = 0
        for f in (_F_WORD, _F_PROB, _F_BOW, _F_PTR):
            if f in fields[m]:
                _put_field(packed, slot_off[m], widths[_F_REC, m], at, widths[f, m],
                           np.asarray(fields[m][f], dtype=np.int64))
            at += int(widths[f, m])
        if quant:
            t.cb_p[256 * m : 256 * (m + 1)] = fields[m].get("cb_p", 0.0)
            t.cb_b[256 * m : 256 * (m + 1)] = fields[m].get("cb_b", 0.0)
    return buf, meta


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


def check_layout(words: int, meta: np.ndarray, quant_bits) -> None:
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
    """:func:`check_layout` for a trie: field widths the kernels can read, and every order's
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
