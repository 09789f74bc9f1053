"""Working through an order's n-grams in blocks cut at context boundaries (bounded memory).

The n-grams of order m are sorted by ``prefix * V + word``, so the n-grams that share a context
(their prefix, an (m-1)-gram) are contiguous.  A :class:`Block` is a run of whole contexts: rows
``lo:hi`` of order m and the contexts ``c_lo:c_hi`` of order m-1 they belong to (the blocks of an
order cover every row and every context once, in order; a context without n-grams belongs to the
block before it).  Everything a smoother computes per n-gram or per context is computed one block
at a time, so its temporaries are a block's, whatever the size of the model.

Sums over a context are :func:`numpy.bincount` sums, which add each bin's values in row order:
the same in a block as over the whole order, so blocked results are bit for bit those of one
block.  Counts in memory (``block_rows`` None) are one block per order; counted on disk
(:mod:`.external`) they come in blocks of about ``block_rows`` rows, and the pages of the
memory-mapped arrays leave resident memory after each block.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from .._progress import advance, stage

#: rows gathered from (or counted into) a memory-mapped array between two page releases
GATHER_ROWS = 1 << 16


class Block:
    """Rows ``lo:hi`` of order ``m`` and their contexts ``c_lo:c_hi`` (see the module docstring)."""

    def __init__(self, m: int, lo: int, hi: int, c_lo: int, c_hi: int, prefix: np.ndarray | None):
        self.m, self.lo, self.hi, self.c_lo, self.c_hi = m, lo, hi, c_lo, c_hi
        self.rows, self.ctx = slice(lo, hi), slice(c_lo, c_hi)
        #: each row's context, counted from ``c_lo`` (order 1: every row has the one empty context)
        if prefix is None:
            self.rel = np.zeros(hi - lo, dtype=np.int64)
        else:  # the first block's (the only one in memory) is the prefixes themselves, not a copy
            self.rel = prefix[lo:hi] if c_lo == 0 else np.asarray(prefix[lo:hi], dtype=np.int64) - c_lo

    def sums(self, values: np.ndarray) -> np.ndarray:
        """Sum of ``values`` (one per row) over each context (order 1: the one sum of all)."""
        if self.m == 1:
            return np.array([values.sum()], dtype=np.float64)
        return np.bincount(self.rel, weights=values, minlength=self.c_hi - self.c_lo)

    def has_children(self) -> np.ndarray:
        """Whether each context of the block is followed by some word."""
        out = np.zeros(self.c_hi - self.c_lo, dtype=bool)
        out[self.rel] = True
        return out


def context_blocks(counts, m: int) -> Iterator[Block]:
    """Order ``m``'s n-grams of ``counts`` in blocks of whole contexts of about ``counts.block_rows``
    rows (one block when it is None; order 1 is always one block).  A context with more n-grams
    than that is a block of its own.  Pages of memory-mapped arrays are released after each."""
    n = len(counts.count[m - 1])
    if m == 1:
        yield Block(1, 0, n, 0, 1, None)
        return
    prefix, n_ctx = counts.prefix[m - 1], len(counts.count[m - 2])
    rows = counts.block_rows or max(n, 1)
    stage(f"estimating {m}-grams", n)
    lo = c_lo = 0
    while True:
        hi = n
        if lo + rows < n:
            hi = int(np.searchsorted(prefix, prefix[lo + rows], "left"))  # the start of that row's context
            if hi <= lo:  # one context longer than a block
                hi = int(np.searchsorted(prefix, prefix[lo], "right"))
        c_hi = int(prefix[hi]) if hi < n else n_ctx
        yield Block(m, lo, hi, c_lo, c_hi, prefix)
        counts.release_pages()
        advance(hi - lo)
        if hi >= n:
            return
        lo, c_lo = hi, c_hi


def blockwise(counts, m: int, fn, kinds: str, n_ctx: int | None = None) -> list[np.ndarray]:
    """Arrays made a block at a time: ``fn(block)`` returns one array per letter of ``kinds``, ``r``
    for one value per row of the block, ``c`` for one per context (``n_ctx`` of them: default the
    (m-1)-grams; order 1 has one).  With one block (counts in memory) its arrays are the result,
    not copied; otherwise they are written into arrays of ``counts`` (memory-mapped on disk)."""
    if n_ctx is None:
        n_ctx = 1 if m == 1 else len(counts.count[m - 2])
    sizes = {"r": len(counts.count[m - 1]), "c": n_ctx}
    outs = None
    for b in context_blocks(counts, m):
        parts = fn(b)
        if counts.block_rows is None or m == 1:  # the one block
            return list(parts)
        if outs is None:
            outs = [counts.new_array(sizes[k], p.dtype) for k, p in zip(kinds, parts, strict=True)]
        for out, k, part in zip(outs, kinds, parts, strict=True):
            out[b.rows if k == "r" else b.ctx] = part
    return outs


def appended(counts, m: int, fn, sizes: list[int]) -> list[np.ndarray]:
    """Arrays of ``sizes`` values made by appending, block after block, the arrays ``fn(block)``
    returns (a block's kept rows, say); with one block, its arrays are the result."""
    outs, pos = None, [0] * len(sizes)
    for b in context_blocks(counts, m):
        parts = fn(b)
        if counts.block_rows is None or m == 1:
            return list(parts)
        if outs is None:
            outs = [counts.new_array(n, p.dtype) for n, p in zip(sizes, parts, strict=True)]
        for j, (out, part) in enumerate(zip(outs, parts, strict=True)):
            out[pos[j]: pos[j] + len(part)] = part
            pos[j] += len(part)
    return outs


def chunkwise(counts, n: int, fn, whole: bool = False) -> np.ndarray:
    """``fn(slice)`` over ``0:n`` in chunks of ``counts.block_rows`` rows, into one array (with
    one chunk, or ``whole``, its array itself)."""
    if whole or counts.block_rows is None or n <= counts.block_rows:
        return fn(slice(0, n))
    out = None
    for s in row_chunks(n, counts.block_rows):
        part = fn(s)
        if out is None:
            out = counts.new_array(n, part.dtype)
        out[s] = part
        counts.release_pages()
    return out


def row_chunks(n: int, rows: int | None) -> Iterator[slice]:
    """``0:n`` in slices of ``rows`` (one slice when None)."""
    step = rows or max(n, 1)
    for lo in range(0, max(n, 1), step):
        yield slice(lo, min(n, lo + step))


def gather(counts, src: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``src[idx]``; from a memory-mapped ``src`` in pieces, releasing its pages after each, so
    random indices do not make the whole array resident."""
    if counts.folder is None:
        return src[idx]
    out = np.empty(len(idx), dtype=src.dtype)
    for s in row_chunks(len(idx), GATHER_ROWS):
        out[s] = src[idx[s]]
        counts.release_pages()
    return out


def occurrences(counts, ids: np.ndarray, n: int) -> np.ndarray:
    """How often each of ``0 .. n-1`` occurs in ``ids`` (``np.bincount``), into an array of
    ``counts`` (memory-mapped when counted on disk) a piece of ``ids`` at a time."""
    if counts.block_rows is None:
        return np.bincount(ids, minlength=n).astype(np.int64, copy=False)
    from .external import count_into  # numba: only on this path (it costs memory to load)

    out = counts.new_array(n, np.int64)
    out[:] = 0
    for s in row_chunks(len(ids), GATHER_ROWS):
        count_into(np.asarray(ids[s], dtype=np.int64), out)
        counts.release_pages()
    return out
