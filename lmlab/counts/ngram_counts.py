"""N-gram counts of any order, counted with vectorised numpy.

Layout.  The n-grams of order ``m`` are numbered ``0 .. n_m - 1``.  An m-gram ``w1 .. wm`` is
stored as its *prefix* (the id of the (m-1)-gram ``w1 .. w(m-1)``) and its last *word*; the key
``prefix * V + word`` is sorted, so the n-grams that share a context are contiguous and a lookup
is a binary search.  Unigram ids are word ids.  ``suffix[m]`` is the id of ``w2 .. wm`` at order
m-1, which is what Kneser-Ney's continuation counts and interpolation need::

    order 1:   word id                        (size V)
    order 2:   key = w1 * V + w2              prefix = w1            suffix = w2
    order 3:   key = id(w1 w2) * V + w3       prefix = id(w1 w2)     suffix = id(w2 w3)

Sentences are counted as KenLM counts them: ``<s> w1 .. wk </s>`` per line, n-grams never cross a
line, ``<s>`` only appears first and ``</s>`` only last, and an empty line gives ``<s> </s>``.
"""

from __future__ import annotations

import itertools
import mmap
import os
from dataclasses import dataclass, field

import numpy as np

from ..errors import ConfigError, CorpusError
from ..text.specials import BOS_ID


@dataclass
class NgramCounts:
    """Raw counts of every n-gram of order 1..``order`` in a corpus.

    Attributes (lists indexed by ``m - 1``; entries for m = 1 are per word id):
        keys: int64 sorted keys ``prefix * V + word`` (unigrams: ``arange(V)``).
        prefix: id of the (m-1)-gram prefix (unigrams: ``-1``).
        word: int32 last word.
        suffix: id of the (m-1)-gram suffix ``w2 .. wm`` (unigrams: ``-1``).
        count: raw count.
        bos_first: bool, whether the n-gram starts with ``<s>``.

    ``prefix``, ``suffix`` and ``count`` have the dtype :func:`index_dtype` gives for the corpus's
    ``n_tokens + n_sentences`` token positions (int32 below 2**31 of them, else int64): no id or
    count can exceed that number.
    """

    order: int
    vocab_size: int
    keys: list[np.ndarray]
    prefix: list[np.ndarray]
    word: list[np.ndarray]
    suffix: list[np.ndarray]
    count: list[np.ndarray]
    bos_first: list[np.ndarray]
    n_sentences: int
    n_tokens: int  # words + one </s> per sentence (the predicted tokens)
    #: counted on disk (:mod:`lmlab.counts.external`): the temporary folder where :meth:`keep` puts arrays
    folder: str | None = None
    _kept: list = field(default_factory=list, repr=False)
    #: rows per block of estimation (:mod:`lmlab.counts.blocks`); None: each order in one block
    block_rows: int | None = None

    def sizes(self) -> list[int]:
        return [len(c) for c in self.count]

    def each_order(self, first: int = 1):
        """The orders ``first .. order``; after each, the pages of memory-mapped counts (counted on
        disk, :mod:`lmlab.counts.external`) leave resident memory (see :func:`release_pages`)."""
        for m in range(first, self.order + 1):
            yield m
            self.release_pages()

    def release_pages(self) -> None:
        release_pages(*self.keys, *self.prefix, *self.word, *self.suffix, *self.count, *self.bos_first, *self._kept)

    def keep(self, a: np.ndarray) -> np.ndarray:
        """``a`` (as long as an order's n-grams), kept while later orders are worked on: itself for
        counts in memory; for counts made on disk, a copy in a memory-mapped file of the temporary
        folder, whose pages leave resident memory after each order (:meth:`each_order`)."""
        a = np.asarray(a)
        if self.folder is None or a.nbytes < KEEP_IN_MEMORY or is_mapped(a):
            return a
        out = self.new_array(a.size, a.dtype).reshape(a.shape)
        out[...] = a
        return out

    def new_array(self, n: int, dtype) -> np.ndarray:
        """An uninitialised array of ``n`` values: in memory, or for counts made on disk (when it is
        not small) a memory-mapped file of the temporary folder whose pages leave resident memory
        with the counts' (:meth:`release_pages`)."""
        dtype = np.dtype(dtype)
        if self.folder is None or n * dtype.itemsize < KEEP_IN_MEMORY or n == 0:
            return np.empty(n, dtype=dtype)
        path = os.path.join(self.folder, f"kept{next(_KEPT_NAMES)}")
        out = np.memmap(path, dtype=dtype, mode="w+", shape=(n,)).view(np.ndarray)
        self._kept.append(out)
        return out

    def lookup(self, m: int, prefix: np.ndarray, word: np.ndarray) -> np.ndarray:
        """Ids of the m-grams (prefix, word); -1 where absent.  Vectorised."""
        return lookup_keys(self.keys[m - 1], self.vocab_size, prefix, word)

    def ngram_words(self, m: int, ids: np.ndarray) -> np.ndarray:
        """The words of the given m-grams as an int array of shape (len(ids), m)."""
        out = np.empty((len(ids), m), dtype=np.int64)
        cur = np.asarray(ids, dtype=np.int64)
        for j in range(m, 0, -1):
            out[:, j - 1] = self.word[j - 1][cur]
            cur = self.prefix[j - 1][cur]
        return out


def index_dtype(positions: int) -> np.dtype:
    """The dtype of n-gram ids and counts of a corpus of ``positions`` tokens (``<s>`` and
    ``</s>`` included): int32 while they fit, int64 beyond (an id or count is below ``positions``)."""
    return np.dtype(np.int32) if positions < np.iinfo(np.int32).max else np.dtype(np.int64)


KEEP_IN_MEMORY = 1 << 20  # bytes: smaller arrays stay in memory (NgramCounts.keep)
_KEPT_NAMES = itertools.count()


def is_mapped(a: np.ndarray) -> bool:
    """Whether ``a`` is a view of a memory-mapped file."""
    return _mapping(a) is not None


def _mapping(a):
    base = a
    while base is not None and not isinstance(base, mmap.mmap):
        base = getattr(base, "base", None)
    return base


def release_pages(*arrays: np.ndarray) -> None:
    """Hand the pages of memory-mapped arrays back to the page cache (``MADV_DONTNEED``): they
    leave the process's resident memory and are read back from the file when next touched.
    Arrays in memory are left alone."""
    for a in arrays:
        base = _mapping(a)
        if base is not None and not base.closed:
            base.madvise(mmap.MADV_DONTNEED)


def lookup_keys(keys: np.ndarray, vocab_size: int, prefix: np.ndarray, word: np.ndarray) -> np.ndarray:
    """Binary-search ``prefix * V + word`` in the sorted ``keys``; -1 where absent or prefix < 0."""
    prefix = np.asarray(prefix, dtype=np.int64)
    q = prefix * vocab_size + np.asarray(word, dtype=np.int64)
    pos = np.searchsorted(keys, q)
    pos_c = np.minimum(pos, len(keys) - 1) if len(keys) else pos
    found = (prefix >= 0) & (pos < len(keys))
    if len(keys):
        found &= keys[pos_c] == q
    return np.where(found, pos_c, -1)


def count_ngrams(ids: np.ndarray, starts: np.ndarray, order: int, vocab_size: int) -> NgramCounts:
    """Count every n-gram of order 1..``order`` in a flat id array from ``encode_corpus``.

    Args:
        ids: int array of sentences, each ``<s> w1 .. wk </s>`` (or padded more), concatenated.
        starts: offset of each sentence in ``ids`` (``len(sentences) + 1`` entries).
        order: highest order (any positive integer).
        vocab_size: V; every id must be below it.

    n-grams never cross a sentence; within one, every window counts.
    """
    n_sentences = len(starts) - 1
    if not isinstance(order, int | np.integer) or order < 1:
        raise ConfigError(f"order must be a positive integer, got {order!r}")
    if n_sentences == 0:
        raise CorpusError("the training corpus is empty (no lines)")
    tok = np.asarray(ids)
    if tok.dtype != np.int32 and tok.dtype != np.int64:
        tok = tok.astype(np.int64)
    V = int(vocab_size)
    idx = index_dtype(len(tok))  # n-gram ids and counts (each below len(tok))
    # Positions i whose token may end an m-gram of order >= 2: not the first of a sentence.
    can_extend = np.ones(len(tok), dtype=bool)
    first = np.asarray(starts[:-1], dtype=np.int64)
    can_extend[first[first < len(tok)]] = False  # an empty last sentence (order 1: no padding) starts at the end

    unigram = np.bincount(tok, minlength=V).astype(idx)
    keys = [np.arange(V, dtype=np.int64)]
    prefix = [np.full(V, -1, dtype=idx)]
    word = [np.arange(V, dtype=np.int32)]
    suffix = [np.full(V, -1, dtype=idx)]
    counts = [unigram]
    bos_first = [np.arange(V) == BOS_ID]

    prev_ids = tok  # id at order m-1 of the (m-1)-gram ending at each position (or -1)
    pos = np.flatnonzero(can_extend)
    del can_extend
    for m in range(2, order + 1):
        pos = pos[prev_ids[pos - 1] >= 0]
        if len(pos) == 0:
            # No m-grams at all (every line shorter than m-1 words): empty higher orders.
            for _ in range(m, order + 1):
                keys.append(np.empty(0, np.int64))
                prefix.append(np.empty(0, idx))
                word.append(np.empty(0, np.int32))
                suffix.append(np.empty(0, idx))
                counts.append(np.empty(0, idx))
                bos_first.append(np.empty(0, bool))
            break
        k = prev_ids[pos - 1].astype(np.int64)
        k *= V
        k += tok[pos]
        uniq, inverse, cnt = _unique(k, idx)
        del k
        cur_ids = np.full(len(tok), -1, dtype=idx)
        cur_ids[pos] = inverse
        keys.append(uniq)
        prefix.append((uniq // V).astype(idx))
        word.append((uniq % V).astype(np.int32))
        suf = np.empty(len(uniq), dtype=idx)
        suf[inverse] = prev_ids[pos]  # every occurrence of an n-gram has the same suffix
        del inverse
        suffix.append(suf)
        counts.append(cnt)
        bos_first.append(bos_first[-1][prefix[-1]])
        prev_ids = cur_ids
    del prev_ids, pos

    n_tokens = int(np.count_nonzero(tok != BOS_ID))
    return NgramCounts(order, V, keys, prefix, word, suffix, counts, bos_first, n_sentences, n_tokens)


def _unique(k: np.ndarray, idx) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``np.unique(k, return_inverse=True, return_counts=True)`` with the inverse and the counts
    as ``idx`` (and fewer temporaries: they are a corpus's worth of positions)."""
    order = np.argsort(k)
    sk = k[order]
    new = np.empty(len(sk), dtype=bool)
    new[:1] = True
    np.not_equal(sk[1:], sk[:-1], out=new[1:])
    uniq = sk[new]
    del sk
    group = np.cumsum(new, dtype=idx)
    group -= 1
    inverse = np.empty(len(k), dtype=idx)
    inverse[order] = group
    del order, group
    first = np.flatnonzero(new)
    cnt = np.empty(len(first), dtype=idx)
    np.subtract(first[1:], first[:-1], out=cnt[:-1], casting="unsafe")
    if len(first):
        cnt[-1] = len(k) - first[-1]
    return uniq, inverse, cnt
