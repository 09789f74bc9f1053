"""A compiled ARPA writer: formats probabilities and n-gram text straight into bytes (numba).

Formatting 2.3 M lines one by one in Python takes seconds; here each order is formatted in
blocks of n-grams, each block one compiled pass over the words of its n-grams (so the writer's
memory is a block's, whatever the size of the model).  Numbers are written in fixed notation with 9 significant digits
and trailing zeros dropped: enough for float32 to round-trip exactly.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ..._progress import advance, stage
from ...counts.ngram_counts import release_pages


_E_MIN, _E_MAX = -50, 40  # decimal exponents of float32 values (denormals included), with margin


@njit(cache=True)
def _powers():
    """``(10.0 ** e for e in [_E_MIN, _E_MAX])`` and the scale ``10.0 ** (8 - e)`` of each, computed
    as the formatter did inline (so the digits are the same)."""
    lows = np.empty(_E_MAX - _E_MIN + 1, dtype=np.float64)
    scales = np.empty(_E_MAX - _E_MIN + 1, dtype=np.float64)
    for i in range(lows.shape[0]):
        e = i + _E_MIN
        lows[i] = 10.0 ** e
        scales[i] = 10.0 ** (8 - e)
    return lows, scales


_LOWS, _SCALES = _powers()


@njit(cache=True, inline="always")
def _exponent10(v, lows):
    """``floor(log10(v))`` for a positive float32 value, from the table of powers (the result of
    ``np.log10`` for every such value: tests/unit/test_arpa_writer_digits.py checks them all)."""
    e = int(np.floor((math.frexp(v)[1] - 1) * 0.30102999566398120))  # within one of the answer
    i = max(0, min(e - _E_MIN, lows.shape[0] - 1))
    while i + 1 < lows.shape[0] and lows[i + 1] <= v:
        i += 1
    while i > 0 and lows[i] > v:
        i -= 1
    return i + _E_MIN


@njit(cache=True, inline="always")
def _put_float(v, out, pos):
    """Write ``v`` (a float32 value as float64) with 9 significant digits, trailing zeros after
    the decimal point dropped; returns the new pos.  The digits are written straight into
    ``out`` (no scratch array: this runs once per probability and backoff)."""
    if v == 0.0:
        out[pos] = 48  # '0'
        return pos + 1
    if v < 0:
        out[pos] = 45  # '-'
        pos += 1
        v = -v
    e = _exponent10(v, _LOWS)
    digits = np.int64(np.round(v * _SCALES[e - _E_MIN]))
    if digits >= 1000000000:
        e += 1
        digits = np.int64(np.round(v * _SCALES[e - _E_MIN]))
    elif digits < 100000000:
        e -= 1
        digits = np.int64(np.round(v * _SCALES[e - _E_MIN]))
    last = 8  # drop trailing zeros (after the decimal point only)
    while last > 0 and last > e and digits % 10 == 0:
        digits //= 10
        last -= 1
    ndig = last + 1  # the digits left, most significant first
    if e > 8:  # large integers (not in ARPA files, but correct): 9 digits, then zeros
        for k in range(8, -1, -1):
            out[pos + k] = 48 + digits % 10
            digits //= 10
        for k in range(9, e + 1):
            out[pos + k] = 48
        return pos + e + 1
    if e >= 0:
        dot = 1 if ndig > e + 1 else 0
        for k in range(ndig - 1, -1, -1):
            out[pos + k + (dot if k > e else 0)] = 48 + digits % 10
            digits //= 10
        if dot:
            out[pos + e + 1] = 46  # '.'
        return pos + ndig + dot
    out[pos] = 48
    out[pos + 1] = 46
    pos += 2
    for _ in range(-e - 1):
        out[pos] = 48
        pos += 1
    for k in range(ndig - 1, -1, -1):
        out[pos + k] = 48 + digits % 10
        digits //= 10
    return pos + ndig


@njit(cache=True)
def _write_rows(words, probs, backs, has_back, tok_buf, tok_off, out):
    """Lines ``prob \\t w1 .. wm [\\t backoff] \\n`` of a block of m-grams (one row of words each)."""
    pos = 0
    for i in range(words.shape[0]):
        pos = _put_float(probs[i], out, pos)
        out[pos] = 9
        pos += 1
        for j in range(words.shape[1]):
            if j:
                out[pos] = 32
                pos += 1
            w = words[i, j]
            for a in range(tok_off[w], tok_off[w + 1]):
                out[pos] = tok_buf[a]
                pos += 1
        if has_back:
            out[pos] = 9
            pos = _put_float(backs[i], out, pos + 1)
        out[pos] = 10
        pos += 1
    return pos


BLOCK_ROWS = 1 << 16  # n-grams formatted per chunk: the writer's memory does not grow with the model


def arpa_sections(tables, tokens: list[str]):
    """Yield, per order, an iterator over the bytes of its n-gram lines in id order (in chunks of
    :data:`BLOCK_ROWS` lines, each written from its n-grams' words)."""
    enc = [t.encode("utf-8") for t in tokens]
    tok_off = np.zeros(len(enc) + 1, dtype=np.int64)
    np.cumsum([len(t) for t in enc], out=tok_off[1:])
    tok_buf = np.frombuffer(b"".join(enc), dtype=np.uint8) if enc else np.zeros(0, np.uint8)
    tok_len = np.diff(tok_off)
    for m in range(1, tables.order + 1):
        yield _order_chunks(tables, m, tok_buf, tok_off, tok_len)


def _order_chunks(tables, m: int, tok_buf, tok_off, tok_len):
    n = len(tables.keys[m - 1])
    has_back = m < tables.order
    stage(f"writing {m}-grams", n)
    for lo in range(0, n, BLOCK_ROWS):
        ids = np.arange(lo, min(n, lo + BLOCK_ROWS), dtype=np.int64)
        words = tables.ngram_words(m, ids)
        size = int(tok_len[words].sum()) + len(ids) * (2 * 20 + 3 + m)
        out = np.empty(size, dtype=np.uint8)
        probs = np.asarray(tables.logprob10[m - 1][lo: lo + len(ids)], dtype=np.float32).astype(np.float64)
        backs = (np.asarray(tables.backoff10[m - 1][lo: lo + len(ids)], dtype=np.float32).astype(np.float64)
                 if has_back else np.zeros(1))
        end = _write_rows(words, probs, backs, has_back, tok_buf, tok_off, out)
        # tables estimated on disk: the pages of this chunk (and of the lower orders' keys its
        # words came from) leave resident memory once it is formatted
        release_pages(*tables.keys, *tables.logprob10, *tables.backoff10)
        yield memoryview(out[:end])
        advance(len(ids))
