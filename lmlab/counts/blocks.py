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
from numba import njit

from .._progress import advance, stage

#: rows gathered from (or counted into) a memory-mapped array between two page releases
GATHER_ROWS = 1 << 16


class Block:
    """Rows ``lo:hi`` of order ``m`` and their contexts ``c_lo:c_hi`` (see the module docstring)."""

    def __init__(self, m: int, lo: int, hi: int, c_lo: int, c_hi: int, prefix: np.ndarray | None):
        self.m, self.lo, self.hi, self.c_lo, self.c_hi = m, lo, hi, c_lo, c_hi
        self.rows, self.ctx = slice(lo, hi), slice(c_lo, c_hi)
        #: each row's context, counted from ``c_lo`` (order 1: every row has the one empty context)
        self.rel = (np.asarray(prefix[lo:hi], dtype=np.int64) - c_lo if prefix is not None
                    else np.zeros(hi - lo, dtype=np.int64))

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
    out = counts.new_array(n, np.int64)
    out[:] = 0
    for s in row_chunks(len(ids), GATHER_ROWS):
        _count_into(np.asarray(ids[s], dtype=np.int64), out)
        counts.release_pages()
    return out


@njit(cache=True)
def _count_into(ids, out):
    for i in range(len(ids)):
        out[ids[i]] += 1


def compress(counts, src: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """``src[keep]`` (``keep`` a boolean mask), written a block of rows at a time."""
    if counts.block_rows is None:
        return src[keep]
    n = sum(int(np.count_nonzero(keep[s])) for s in row_chunks(len(keep), counts.block_rows))
    out = counts.new_array(n, src.dtype)
    pos = 0
    for s in row_chunks(len(keep), counts.block_rows):
        part = src[s][keep[s]]
        out[pos: pos + len(part)] = part
        pos += len(part)
        counts.release_pages()
    return out
