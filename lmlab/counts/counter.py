"""``NgramCounter``: n-gram counts looked up by words, with nltk.lm's ``NgramCounter`` meaning.

A read-only view of :class:`~lmlab.counts.ngram_counts.NgramCounts` (``lm.counts``)::

    counts["the"]              # count of the unigram "the" (0 for a word never counted)
    counts[["the"]]["market"]  # count of "the market": counts[context] is the words after it
    counts[2][("the",)]        # the same through the order: counts[m] maps contexts to words
    counts[1]                  # every unigram's count; counts.unigrams is the same
    counts.N()                 # the total of every count of every order

Words after a context (and ``counts[1]``) are :class:`FreqCounts`: a ``collections.Counter`` with
nltk's ``FreqDist`` methods ``N()`` and ``freq(word)``; a context never counted gives an empty one.
How words map to ids (and back) is the model's business: the view takes two functions.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence

import numpy as np

from .ngram_counts import NgramCounts


class FreqCounts(Counter):
    """Counts of words (nltk's ``FreqDist``: ``N()`` is the total, ``freq(w)`` the share of ``w``)."""

    def N(self) -> int:  # noqa: N802 - nltk's name
        return sum(self.values())

    def freq(self, word: str) -> float:
        n = self.N()
        return self[word] / n if n else 0.0


class ContextCounts(Mapping):
    """``counts[m]`` for m >= 2: each (m-1)-word context that was counted -> :class:`FreqCounts`."""

    def __init__(self, counter: NgramCounter, m: int):
        self._counter, self._m = counter, m

    def __getitem__(self, context) -> FreqCounts:
        context = tuple(context)
        if len(context) != self._m - 1:
            return FreqCounts()
        return self._counter[context]

    def __contains__(self, context) -> bool:
        return len(self[context]) > 0

    def _context_ids(self) -> np.ndarray:
        c = self._counter.raw
        return np.unique(c.prefix[self._m - 1]) if self._m <= c.order else np.empty(0, np.int64)

    def __iter__(self) -> Iterator[tuple[str, ...]]:
        c, word = self._counter.raw, self._counter.to_word
        for cid in self._context_ids():
            yield tuple(word(int(w)) for w in c.ngram_words(self._m - 1, np.array([cid]))[0])

    def __len__(self) -> int:
        return len(self._context_ids())

    def N(self) -> int:  # noqa: N802 - nltk's name
        c = self._counter.raw
        return int(c.count[self._m - 1].sum()) if self._m <= c.order else 0


class NgramCounter:
    """nltk.lm's ``NgramCounter`` interface over lmlab's counts (see the module docstring).

    Args:
        counts: the counts.
        to_id: a word's id, or -1 for a word that was never counted.
        to_word: an id's word.
    """

    def __init__(self, counts: NgramCounts, to_id: Callable[[str], int], to_word: Callable[[int], str]):
        self.raw, self.to_id, self.to_word = counts, to_id, to_word

    def _ngram_id(self, words: Sequence[str]) -> int:
        """Id of the n-gram ``words`` at order ``len(words)`` (-1 if it was not counted)."""
        c, cur = self.raw, -1
        for m, w in enumerate(words, start=1):
            wid = self.to_id(w)
            if wid < 0 or m > c.order:
                return -1
            cur = wid if m == 1 else int(c.lookup(m, np.array([cur]), np.array([wid]))[0])
            if cur < 0:
                return -1
        return cur

    def _followers(self, context: tuple[str, ...]) -> FreqCounts:
        c = self.raw
        m = len(context) + 1
        if m == 1:
            nz = np.flatnonzero(c.count[0])
            return FreqCounts({self.to_word(int(i)): int(c.count[0][i]) for i in nz})
        cid = self._ngram_id(context) if m <= c.order else -1
        if cid < 0:
            return FreqCounts()
        lo, hi = np.searchsorted(c.prefix[m - 1], [cid, cid + 1])  # keys sorted by prefix
        return FreqCounts({self.to_word(int(w)): int(n) for w, n in zip(c.word[m - 1][lo:hi], c.count[m - 1][lo:hi],
                                                                          strict=True)})

    def __getitem__(self, item):
        if isinstance(item, int):
            return self.unigrams if item == 1 else ContextCounts(self, item)
        if isinstance(item, str):
            uid = self._ngram_id([item])
            return int(self.raw.count[0][uid]) if uid >= 0 else 0
        if isinstance(item, Sequence):
            return self._followers(tuple(item))
        raise TypeError(f"counts[...] takes an order (int), a word (str) or a context (sequence of words), "
                        f"not {type(item).__name__}")

    @property
    def unigrams(self) -> FreqCounts:
        return self._followers(())

    def N(self) -> int:  # noqa: N802 - nltk's name
        """The total of every count of every order (nltk's ``NgramCounter.N``)."""
        return int(sum(int(x.sum()) for x in self.raw.count))

    def __len__(self) -> int:
        return self.raw.order

    def __contains__(self, order) -> bool:
        return isinstance(order, int) and 1 <= order <= self.raw.order

    def __repr__(self) -> str:
        return f"<NgramCounter with {len(self)} ngram orders and {self.N()} ngrams>"
