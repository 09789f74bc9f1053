"""The query engine's buffer layout and the compiled primitives that read it (numba).

Everything a model's tables hold lives in one int64 array (``buf``) described by a small int64
array (``meta``: sizes and offsets, the ``_M_*`` fields; then, at its end, ``lay``: the layout
kind and the trie's field widths, the ``_L_*``/``_F_*`` fields).  Three layouts share it:

- hashed (KenLM's ``probing``): each order m >= 2 an open-addressing hash table (linear probing,
  1.5 slots per n-gram); a slot holds the key and the n-gram's log10 probability and backoff side
  by side (16 bytes), so a lookup touches one cache line.  An n-gram's key is
  ``slot(prefix) * V + word``: the slot index of its prefix one order down (unigrams: the word
  id), so the ids a state carries are slot indices.  Each order also lists its slots sorted by
  key (``cslot``, 4 bytes per n-gram): a context's continuations are one run of it.
- hashed and quantised (``-q``/``-b``): one int64 per slot, the key in the low 48 bits and the
  probability and backoff codes in the top 16.
- trie (KenLM's ``trie``): each order's n-grams sorted by (prefix, word) as bit-packed records
  (word id, probability, backoff, pointer to the first continuation one order up); an n-gram's
  slot is its record's position, so states and kernels are the same.

The builders are in :mod:`.fastbuild`, the backoff rule and the query kernels in
:mod:`.fastkernels`, sampling in :mod:`.fastsample`, the Python object in :mod:`.fastquery`.

numba's on-disk cache keys each kernel on its own file only, and those modules inline the
primitives here: :func:`drop_stale_kernels` (run when this module is imported) clears the cached
kernels of every ``fast*`` module when any of their sources changed since they were cached.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
from numba import njit, types
from numba.extending import intrinsic

from ..._io import write_text_atomic


def drop_stale_kernels(here: Path | None = None) -> None:
    """Delete numba's cached kernels of the ``fast*`` modules (``__pycache__/fast*.nb[ic]``) when
    the sources' digest differs from the one stamped beside them (a developer's edit; an installed
    package's files only change by reinstalling, which numba's own mtime check sees).  Silent when
    the cache folder is not writable (numba then caches elsewhere, per file as before)."""
    here = Path(__file__).resolve().parent if here is None else here
    try:
        sources = sorted(here.glob("fast*.py"))
        digest = hashlib.sha1(b"".join(p.read_bytes() for p in sources)).hexdigest()
        cache = here / "__pycache__"
        stamp = cache / "fast-sources.sha1"
        if stamp.is_file() and stamp.read_text() == digest:
            return
        for p in [*cache.glob("fast*.nbi"), *cache.glob("fast*.nbc")]:
            p.unlink(missing_ok=True)
        cache.mkdir(exist_ok=True)
        write_text_atomic(stamp, digest)
    except OSError:
        pass


drop_stale_kernels()

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
def _value(slots_i, slots_f, slot_off, m, s, lay, codebook, f):
    """Field ``f`` (``_F_PROB`` or ``_F_BOW``) of n-gram ``s`` of order m, in any layout."""
    kind = lay[_L_KIND]
    if kind == TRIE:
        return _trie_value(_field(slots_i, slot_off, lay, m, s, f), _width(lay, f, m), codebook, m)
    at = f - _F_PROB  # 0: the probability, 1: the backoff
    if kind == HASHED_QUANT:
        return codebook[256 * m + ((slots_i[slot_off[m] + s] >> (48 + 8 * at)) & 0xFF)]
    return slots_f[4 * (slot_off[m] + s) + 2 + at]


@njit(cache=True, inline="always")
def _prob(slots_i, slots_f, slot_off, m, s, lay, cb_p):
    return _value(slots_i, slots_f, slot_off, m, s, lay, cb_p, _F_PROB)


@njit(cache=True, inline="always")
def _bow(slots_i, slots_f, slot_off, m, s, lay, cb_b):
    return _value(slots_i, slots_f, slot_off, m, s, lay, cb_b, _F_BOW)


class Views:
    """Python views of a buffer's sections (what the builders fill and :class:`.fastquery.FastTables`
    reads): ``slots_i``/``slots_f`` the tables (int64 and float32 views of one section), ``prob1``
    and ``bow1`` the unigrams, ``cb_p``/``cb_b`` the quantisation codebooks (256 per order),
    ``cslot`` the slots sorted by key, and the per-order ``slot_off``, ``slot_size``, ``cslot_off``."""

    def __init__(self, buf: np.ndarray, meta: np.ndarray):
        V, N = int(meta[_M_V]), int(meta[_M_N])

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



