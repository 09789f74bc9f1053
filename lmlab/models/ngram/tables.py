"""Backoff tables: the sorted form of every n-gram model (ARPA semantics).

Every smoother ends as the same structure ARPA files hold: for each n-gram a log10 probability
and, for n-grams that are contexts, a log10 backoff weight.  A query for ``w`` after context
``h`` uses the longest n-gram ``(h', w)`` in the table, ``h'`` a suffix of ``h``, and adds the
backoff weights of the longer suffixes of ``h`` that are in the table::

    log10 p(w | h) = logprob10(h' w) + sum of backoff10(g) for g in suffixes of h longer than h'

n-grams are stored as in :mod:`lmlab.counts.ngram_counts`: order m is a sorted int64 key array
``prefix_id * V + word``; ids are positions in it.  The id of the history's suffix of length m
is the key lookup of (id of its length m-1 prefix, last word), so scoring a token and advancing
the state are the same lookups.  Values are float32 log10, as in ARPA files, so writing and
reading an ARPA file (``%.9g``) gives identical numbers; the public API converts to natural log.

The tables are what estimation produces and ARPA files hold; queries run on the hashed copy
(:attr:`BackoffTables.fast`, :mod:`.fastkernels`), the one implementation of the backoff rule.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from ...counts.ngram_counts import lookup_keys

LN10 = float(np.log(10.0))
_BUILD_LOCK = threading.RLock()


@dataclass
class BackoffTables:
    """Probabilities and backoff weights of an n-gram model, per order.

    Attributes (lists indexed by ``m - 1``):
        keys: int64 sorted keys (order 1: ``arange(V)``, i.e. unigram id == word id).
        logprob10: float32 log10 probability of each n-gram.
        backoff10: float32 log10 backoff weight of each n-gram (0 where it is not a context;
            the highest order has none and holds an empty array).
    """

    order: int
    vocab_size: int
    keys: list[np.ndarray]
    logprob10: list[np.ndarray]
    backoff10: list[np.ndarray]
    #: If set, every backoff step costs this log10 weight whether or not the context is in the
    #: table (stupid backoff); otherwise a context not in the table has weight 0 (ARPA).
    constant_backoff10: float | None = None

    # -- structure ------------------------------------------------------------------------
    def sizes(self) -> list[int]:
        return [len(k) for k in self.keys]

    def prefix(self, m: int) -> np.ndarray:
        return self.keys[m - 1] // self.vocab_size if m > 1 else np.full(self.vocab_size, -1, np.int64)

    def word(self, m: int) -> np.ndarray:
        return self.keys[m - 1] % self.vocab_size

    def lookup(self, m: int, prefix: np.ndarray, word: np.ndarray) -> np.ndarray:
        if m == 1:
            w = np.asarray(word, dtype=np.int64)
            return np.where((w >= 0) & (w < self.vocab_size), w, -1)
        return lookup_keys(self.keys[m - 1], self.vocab_size, prefix, word)

    def ngram_words(self, m: int, ids: np.ndarray) -> np.ndarray:
        out = np.empty((len(ids), m), dtype=np.int64)
        cur = np.asarray(ids, dtype=np.int64)
        for j in range(m, 0, -1):
            key = self.keys[j - 1][cur]
            out[:, j - 1] = key % self.vocab_size if j > 1 else key
            cur = key // self.vocab_size
        return out

    # -- batch scoring --------------------------------------------------------------------
    @property
    def fast(self):
        """Hashed, compiled copy of the tables (built on first use; see :mod:`.fastquery`)."""
        cached = self.__dict__.get("_fast")
        if cached is None or cached[0] != self._version():
            from .fastquery import FastTables

            with _BUILD_LOCK:  # concurrent first queries build them once
                cached = self.__dict__.get("_fast")
                if cached is None or cached[0] != self._version():
                    cached = (self._version(), FastTables(self))
                    self.__dict__["_fast"] = cached
        return cached[1]

    def _version(self) -> tuple:
        return (self.order, tuple(id(k) for k in self.keys), tuple(id(p) for p in self.logprob10),
                tuple(id(b) for b in self.backoff10), self.constant_backoff10)

    def score_flat(self, ids: np.ndarray, starts: np.ndarray, n_bos: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """log10 p and matched n-gram length of every predicted token in a flat corpus.

        ``ids``/``starts`` come from :func:`lmlab.text.vocab.encode_corpus` (``<s> .. </s>`` per
        sentence; the first ``n_bos`` tokens of each are context).  Returns arrays of length
        ``len(ids)``; entries at context positions are 0.  Runs the compiled kernel
        (tests/ngram_reference.py is the independent reference the tests compare it with).
        """
        return self.fast.score(ids, context_kinds(len(ids), starts, n_bos))


def context_kinds(n: int, starts: np.ndarray, n_bos: int = 1) -> np.ndarray:
    """Per position: 1 at each sentence start, 2 on the other ``n_bos - 1`` padding tokens, else 0."""
    kind = np.zeros(n, dtype=np.int8)
    first = np.asarray(starts[:-1], dtype=np.int64)
    if n_bos == 0 or len(first) == 0:
        return kind  # no padding (nltk.lm at order 1): every token is scored
    for j in range(1, n_bos):
        kind[first + j] = 2
    kind[first] = 1
    return kind
