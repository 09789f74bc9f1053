"""A compiled ARPA reader: one pass over the file's bytes per section (numba).

The Python reader in :mod:`.arpa_text` splits the text into millions of string objects (seconds and
gigabytes for a 5-gram); here each section is parsed straight from the bytes into arrays: the
words of an n-gram are looked up in a hash table of the unigrams' bytes, numbers are parsed
exactly.  It only ever accepts what the Python reader accepts and gives the same result: numbers
are converted with Clinger's fast path (at most 15 significant digits and a power of ten within
10^22, where one correctly rounded multiplication or division equals Python's ``float``), and
anything else — a longer number, an irregular line, an unknown word, a duplicate — makes it
step aside (``None``) so that the Python reader handles the file and names the offending line.
"""

from __future__ import annotations

import codecs

import numpy as np
from numba import njit

_OK, _FAIL = 0, 1
_POW10 = np.array([10.0**k for k in range(23)])


@njit(cache=True, inline="always")
def _is_space(c):
    return c == 32 or c == 9 or c == 13


@njit(cache=True)
def _parse_float(buf, pos, end, pow10):
    """(ok, value, new pos) for a number at ``pos``; ok is False where the exact fast path does not apply."""
    neg = False
    if pos < end and (buf[pos] == 45 or buf[pos] == 43):
        neg = buf[pos] == 45
        pos += 1
    mant = np.int64(0)
    digits = 0
    exp10 = 0
    seen = False
    dot = False  # one loop over the integer and fraction digits; a second '.' ends the number
    while pos < end and (48 <= buf[pos] <= 57 or (buf[pos] == 46 and not dot)):
        if buf[pos] == 46:
            dot = True
            pos += 1
            continue
        if mant > 0 or buf[pos] != 48:
            digits += 1
        if digits > 15:
            return False, 0.0, pos
        mant = mant * 10 + (buf[pos] - 48)
        exp10 -= 1 if dot else 0
        seen = True
        pos += 1
    if not seen:
        return False, 0.0, pos
    if pos < end and (buf[pos] == 101 or buf[pos] == 69):  # e / E
        pos += 1
        eneg = False
        if pos < end and (buf[pos] == 45 or buf[pos] == 43):
            eneg = buf[pos] == 45
            pos += 1
        e = 0
        edigits = 0
        while pos < end and 48 <= buf[pos] <= 57:
            e = e * 10 + (buf[pos] - 48)
            edigits += 1
            if edigits > 4:
                return False, 0.0, pos
            pos += 1
        if edigits == 0:
            return False, 0.0, pos
        exp10 += -e if eneg else e
    v = float(mant)
    if mant == 0:
        v = 0.0
    elif exp10 < 0:
        if exp10 < -22:
            return False, 0.0, pos
        v = v / pow10[-exp10]
    elif exp10 > 0:
        if exp10 > 22:
            return False, 0.0, pos
        v = v * pow10[exp10]
    return True, -v if neg else v, pos


@njit(cache=True, inline="always")
def _hash(buf, a, b):
    h = np.uint64(14695981039346656037)
    for i in range(a, b):
        h = (h ^ np.uint64(buf[i])) * np.uint64(1099511628211)
    return h


@njit(cache=True)
def _same(buf, a, b, c, d):
    if b - a != d - c:
        return False
    for i in range(b - a):
        if buf[a + i] != buf[c + i]:
            return False
    return True


@njit(cache=True)
def _odd_whitespace(buf):
    """True if ``buf`` holds a character that Python's ``str.split()`` splits on besides space, tab,
    CR and LF (0x0B, 0x0C, 0x1C-0x1F, and in UTF-8 U+0085, U+00A0, U+1680, U+2000-U+200A,
    U+2028, U+2029, U+202F, U+205F, U+3000): the Python reader then decides."""
    n = buf.shape[0]
    for i in range(n):
        c = buf[i]
        if c < 0x20:
            if c == 0x0B or c == 0x0C or c >= 0x1C:
                return True
        elif c == 0xC2 and i + 1 < n:
            if buf[i + 1] == 0x85 or buf[i + 1] == 0xA0:
                return True
        elif c == 0xE1 and i + 2 < n:
            if buf[i + 1] == 0x9A and buf[i + 2] == 0x80:
                return True
        elif c == 0xE2 and i + 2 < n:
            d, e = buf[i + 1], buf[i + 2]
            if d == 0x80 and (0x80 <= e <= 0x8A or e == 0xA8 or e == 0xA9 or e == 0xAF):
                return True
            if d == 0x81 and e == 0x9F:
                return True
        elif c == 0xE3 and i + 2 < n:
            if buf[i + 1] == 0x80 and buf[i + 2] == 0x80:
                return True
    return False


@njit(cache=True)
def _build_table(buf, spans):
    """Open-addressing table of the unigrams' byte spans -> file index; -1 in [0] if a word repeats."""
    n = spans.shape[0]
    size = 1
    while size < 2 * n + 2:
        size *= 2
    table = np.full(size, -1, dtype=np.int64)
    mask = np.uint64(size - 1)
    for i in range(n):
        a, b = spans[i, 0], spans[i, 1]
        slot = _hash(buf, a, b) & mask
        while table[slot] >= 0:
            j = table[slot]
            if _same(buf, a, b, spans[j, 0], spans[j, 1]):
                return np.full(1, -2, dtype=np.int64)
            slot = (slot + np.uint64(1)) & mask
        table[slot] = i
    return table


@njit(cache=True)
def _lookup(buf, a, b, table, spans):
    mask = np.uint64(table.shape[0] - 1)
    slot = _hash(buf, a, b) & mask
    while table[slot] >= 0:
        j = table[slot]
        if _same(buf, a, b, spans[j, 0], spans[j, 1]):
            return j
        slot = (slot + np.uint64(1)) & mask
    return -1


@njit(cache=True)
def _parse_section(buf, start, end, m, n, top, table, uni, out_ids, probs, backs, pow10):
    """Parse the ``n`` lines of an m-gram section in ``buf[start:end]`` (blank lines may follow
    them, nothing else).  For m == 1 ``out_ids`` receives each word's byte span; otherwise the
    file indices of the m words (``table``/``uni`` from the unigrams).  Returns _OK or _FAIL."""
    pos = start
    i = 0
    blank_seen = False
    # sorted files repeat the previous line's first words: compare with them before hashing
    prev = np.full((max(m, 1), 2), -1, dtype=np.int64)
    while pos < end:
        eol = pos
        while eol < end and buf[eol] != 10:
            eol += 1
        p = pos
        while p < eol and _is_space(buf[p]):
            p += 1
        if p == eol:  # blank line
            blank_seen = True
            pos = eol + 1
            continue
        if blank_seen or i >= n or p != pos:
            return _FAIL
        ok, v, p = _parse_float(buf, p, eol, pow10)
        if not ok or v > 0.0:
            return _FAIL
        probs[i] = v
        for j in range(m):
            if p >= eol or not _is_space(buf[p]):
                return _FAIL
            while p < eol and _is_space(buf[p]):
                p += 1
            a = p
            while p < eol and not _is_space(buf[p]):
                p += 1
            if a == p:
                return _FAIL
            if m == 1:
                out_ids[i, 0] = a
                out_ids[i, 1] = p
            elif i > 0 and prev[j, 0] >= 0 and _same(buf, a, p, prev[j, 0], prev[j, 1]):
                out_ids[i, j] = out_ids[i - 1, j]
                prev[j, 0] = a
                prev[j, 1] = p
            else:
                w = _lookup(buf, a, p, table, uni)
                if w < 0:
                    return _FAIL
                out_ids[i, j] = w
                prev[j, 0] = a
                prev[j, 1] = p
        q = p
        while q < eol and _is_space(buf[q]):
            q += 1
        backs[i] = 0.0
        if q < eol:
            if q == p:
                return _FAIL
            ok, v, q = _parse_float(buf, q, eol, pow10)
            if not ok or (top and v != 0.0):
                return _FAIL
            backs[i] = v
            while q < eol and _is_space(buf[q]):
                q += 1
            if q != eol:
                return _FAIL
        i += 1
        pos = eol + 1
    return _OK if i == n else _FAIL


def _valid_utf8(data: bytes, chunk: int = 1 << 23) -> bool:
    dec = codecs.getincrementaldecoder("utf-8")("strict")
    try:
        for k in range(0, len(data), chunk):
            dec.decode(data[k : k + chunk])
        dec.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def parse_sections(data: bytes, body: list[tuple[int, int]], declared: list[int]):
    """The sections of an ARPA file whose m-gram bodies are ``data[start:end]``: unigram words
    (str), then per order (word-index matrix or None for order 1, log10 probs, backoffs).  ``None``
    when anything is irregular (the Python reader then reports it)."""
    if not _valid_utf8(data):
        return None
    buf = np.frombuffer(data, dtype=np.uint8)
    if _odd_whitespace(buf):
        return None
    order = len(declared)
    out = []
    table = uni = None
    words: list[str] = []
    for m in range(1, order + 1):
        n = declared[m - 1]
        start, end = body[m - 1]
        if n > data.count(b"\n", start, end) + 1:  # cannot hold that many lines: the Python reader says so
            return None
        # byte spans of the unigrams (int64: files over 2 GB), word indices of longer n-grams (int32);
        # numbers are stored as the tables keep them (float32, rounded as numpy rounds float64)
        ids = np.empty((n, 2), dtype=np.int64) if m == 1 else np.empty((n, m), dtype=np.int32)
        probs, backs = np.empty(n, dtype=np.float32), np.empty(n, dtype=np.float32)
        if m == 1:
            dummy = np.empty(1, dtype=np.int64)
            status = _parse_section(buf, start, end, 1, n, m == order, dummy, np.empty((1, 2), np.int64), ids,
                                    probs, backs, _POW10)
            if status != _OK:
                return None
            uni = ids
            table = _build_table(buf, uni)
            if table[0] == -2:
                return None
            words = [data[a:b].decode("utf-8") for a, b in uni.tolist()]
            out.append((None, probs, backs))
        else:
            status = _parse_section(buf, start, end, m, n, m == order, table, uni, ids, probs, backs, _POW10)
            if status != _OK:
                return None
            out.append((ids, probs, backs))
    return words, out
