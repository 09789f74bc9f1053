"""A compiled ARPA writer: formats probabilities and n-gram text straight into bytes (numba).

Formatting 2.3 M lines one by one in Python takes seconds; here each order is one pass over
arrays.  The text of an m-gram is the text of its prefix (copied from the previous order's
output) + a space + its word.  Numbers are written in fixed notation with 9 significant digits
and trailing zeros dropped: enough for float32 to round-trip exactly.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _put_float(v, out, pos):
    """Write ``v`` (a float32 value as float64) with 9 significant digits; returns the new pos."""
    if v == 0.0:
        out[pos] = 48  # '0'
        return pos + 1
    if v < 0:
        out[pos] = 45  # '-'
        pos += 1
        v = -v
    e = int(np.floor(np.log10(v)))
    digits = np.int64(np.round(v * 10.0 ** (8 - e)))
    if digits >= 1000000000:
        e += 1
        digits = np.int64(np.round(v * 10.0 ** (8 - e)))
    elif digits < 100000000:
        e -= 1
        digits = np.int64(np.round(v * 10.0 ** (8 - e)))
    buf = np.empty(9, dtype=np.uint8)
    for k in range(8, -1, -1):
        buf[k] = 48 + digits % 10
        digits //= 10
    last = 8  # drop trailing zeros (after the decimal point only)
    while last > 0 and buf[last] == 48 and last > e:
        last -= 1
    if e >= 0:
        for k in range(0, min(e + 1, 9)):
            out[pos] = buf[k]
            pos += 1
        for k in range(9, e + 1):  # large integers (not in ARPA files, but correct)
            out[pos] = 48
            pos += 1
        if last > e:
            out[pos] = 46  # '.'
            pos += 1
            for k in range(e + 1, last + 1):
                out[pos] = buf[k]
                pos += 1
    else:
        out[pos] = 48
        out[pos + 1] = 46
        pos += 2
        for _ in range(-e - 1):
            out[pos] = 48
            pos += 1
        for k in range(0, last + 1):
            out[pos] = buf[k]
            pos += 1
    return pos


@njit(cache=True)
def _write_order(prefix, word, probs, backs, has_back, tok_buf, tok_off, prev_out, prev_start, prev_len,
                 out, start, length):
    """Lines ``prob \\t text [\\t backoff] \\n`` of one order; records where each text starts."""
    pos = 0
    for i in range(word.shape[0]):
        pos = _put_float(probs[i], out, pos)
        out[pos] = 9
        pos += 1
        start[i] = pos
        if prefix[i] >= 0:
            s, n = prev_start[prefix[i]], prev_len[prefix[i]]
            out[pos : pos + n] = prev_out[s : s + n]
            pos += n
            out[pos] = 32
            pos += 1
        w = word[i]
        a, b = tok_off[w], tok_off[w + 1]
        out[pos : pos + b - a] = tok_buf[a:b]
        pos += b - a
        length[i] = pos - start[i]
        if has_back:
            out[pos] = 9
            pos = _put_float(backs[i], out, pos + 1)
        out[pos] = 10
        pos += 1
    return pos


def arpa_sections(tables, tokens: list[str]):
    """Yield the bytes of each order's n-gram lines, in id order."""
    enc = [t.encode("utf-8") for t in tokens]
    tok_off = np.zeros(len(enc) + 1, dtype=np.int64)
    np.cumsum([len(t) for t in enc], out=tok_off[1:])
    tok_buf = np.frombuffer(b"".join(enc), dtype=np.uint8) if enc else np.zeros(0, np.uint8)
    V = tables.vocab_size
    prev_out = np.zeros(1, np.uint8)
    prev_start = np.zeros(1, np.int64)
    prev_len = np.zeros(1, np.int64)
    tok_len = np.diff(tok_off)
    for m in range(1, tables.order + 1):
        keys = np.asarray(tables.keys[m - 1], dtype=np.int64)
        if m == 1:
            prefix, word = np.full(len(keys), -1, np.int64), keys
            text_len = tok_len[word]
        else:
            prefix, word = keys // V, keys % V
            text_len = prev_len[prefix] + 1 + tok_len[word]
        n = len(keys)
        has_back = m < tables.order
        size = int(text_len.sum()) + n * (2 * 20 + 3)
        out = np.empty(size, dtype=np.uint8)
        start = np.empty(n, dtype=np.int64)
        length = np.empty(n, dtype=np.int64)
        probs = np.asarray(tables.logprob10[m - 1], dtype=np.float32).astype(np.float64)
        backs = (np.asarray(tables.backoff10[m - 1], dtype=np.float32).astype(np.float64) if has_back
                 else np.zeros(1))
        end = _write_order(prefix, word, probs, backs, has_back, tok_buf, tok_off, prev_out, prev_start,
                           prev_len, out, start, length)
        yield memoryview(out[:end])
        prev_out, prev_start, prev_len = out, start, length
