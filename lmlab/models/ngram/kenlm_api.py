"""A drop-in for users of KenLM's Python module (``import kenlm``), backed by lmlab.

    from lmlab import kenlm
    model = kenlm.Model("lm.arpa")
    model.score("this is a sentence .", bos=True, eos=True)   # log10, as KenLM
    for prob, length, oov in model.full_scores("this is a sentence ."): ...
    state, out = kenlm.State(), kenlm.State()
    model.BeginSentenceWrite(state)
    model.BaseScore(state, "this", out)

Scores are log10 (KenLM's unit).  Sentences are split as KenLM splits them: on ASCII whitespace
only (space, tab, newline, carriage return, vertical tab, form feed); a no-break space (U+00A0), an
ideographic space (U+3000) or any other Unicode space is part of a word.  This is KenLM's rule, for
this drop-in only: lmlab's own tokenizer (:mod:`lmlab.text`) has its own documented policy.  A word
outside the vocabulary is scored as ``<unk>`` and reported as an OOV.  Unlike KenLM, lmlab also gives the
whole next-word distribution: ``model.lm.next_logprobs([...])`` (natural log).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from itertools import repeat
from typing import NamedTuple

import numpy as np

from ...errors import LmlabError
from ...text.specials import UNK_ID


def _words(sentence: str | bytes) -> list[str]:
    """KenLM's split: its module encodes the sentence as UTF-8 and splits the bytes, so only ASCII
    whitespace (`` \\t\\n\\r\\v\\f``) separates words (``str.split`` would also split on U+00A0,
    U+3000, U+0085, U+001C-U+001F, ...)."""
    data = sentence if isinstance(sentence, bytes) else sentence.encode("utf-8")
    return [w.decode("utf-8", "surrogateescape") for w in data.split()]


class FullScoreReturn(NamedTuple):
    log_prob: float
    ngram_length: int
    oov: bool


class State:
    """A query state (KenLM's ``kenlm.State``): the query engine's state tuple (the slots of the
    history's suffixes in the model; see :mod:`lmlab.models.ngram.fastkernels`)."""

    __slots__ = ("ctx",)

    def __init__(self):
        self.ctx: tuple | None = None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, State) and self.ctx == other.ctx

    def __hash__(self) -> int:
        return hash(self.ctx)

    def __copy__(self) -> State:
        s = State()
        s.ctx = self.ctx
        return s


class Config:
    """Accepted for compatibility with ``kenlm.Config``; lmlab has nothing to configure here."""

    def __init__(self):
        self.load_method = None


class Model:
    """An n-gram model with KenLM's Python API (``kenlm.Model``)."""

    def __init__(self, path: str | os.PathLike, config: Config | None = None):
        from .loading import load_ngram as load
        from .model import NgramLM

        lm = load(path)
        if not isinstance(lm, NgramLM):
            raise LmlabError(f"{path}: kenlm.Model needs an n-gram model")
        self.lm = lm
        self.path = os.fspath(path)
        self.order = lm.order
        self._fast = lm.fast
        self._step = self._fast.step_function()
        self._index = lm.vocab._index  # noqa: SLF001 - hot path
        self._bos_ctx = self._fast.begin_state(lm.vocab.bos_id)
        self._null_ctx = self._fast.null_state()

    def __contains__(self, word: str) -> bool:
        return word in self._index and word != "<unk>"

    def __repr__(self) -> str:
        return f"<lmlab.kenlm.Model from {self.path}>"

    def _ids(self, sentence: str | bytes) -> np.ndarray:
        words = _words(sentence)
        return np.fromiter(map(self._index.get, words, repeat(UNK_ID)), dtype=np.int64, count=len(words))

    def score(self, sentence: str, bos: bool = True, eos: bool = True) -> float:
        """log10 probability of a whitespace-tokenised sentence."""
        return float(self._fast.score_sentence(self._ids(sentence), bos, eos))

    def perplexity(self, sentence: str) -> float:
        words = len(_words(sentence)) + 1
        return 10.0 ** (-self.score(sentence) / words)

    def full_scores(self, sentence: str, bos: bool = True, eos: bool = True) -> Iterator[tuple]:
        """(log10 prob, n-gram length, oov) for every word and, with ``eos``, ``</s>``."""
        ids = self._ids(sentence)
        seq = np.concatenate([[1] if bos else [], ids, [2] if eos else []]).astype(np.int64)
        if len(seq) == int(bos):  # nothing to score (an empty sentence without </s>): as KenLM
            return iter([])
        kind = np.zeros(len(seq), dtype=np.int8)
        kind[0] = bos  # <s> starts the context; without it, no history at all (NullContextWrite)
        lps, lens = self._fast.score(seq, kind)
        lps, lens = lps[int(bos):], lens[int(bos):]
        oov = seq[int(bos):] == UNK_ID
        return iter(list(zip(lps.tolist(), lens.tolist(), oov.tolist(), strict=True)))

    def BeginSentenceWrite(self, state: State) -> None:  # noqa: N802 - KenLM's name
        state.ctx = self._bos_ctx

    def NullContextWrite(self, state: State) -> None:  # noqa: N802
        state.ctx = self._null_ctx

    def BaseFullScore(self, in_state: State, word: str, out_state: State) -> FullScoreReturn:  # noqa: N802
        wid = self._index.get(word, UNK_ID)
        lp, m, out_state.ctx = self._step(in_state.ctx or self._null_ctx, wid)
        return FullScoreReturn(lp, m, wid == UNK_ID)

    def BaseScore(self, in_state: State, word: str, out_state: State) -> float:  # noqa: N802
        # BaseFullScore without building its return value: the call a decoder makes per word
        lp, _, out_state.ctx = self._step(in_state.ctx or self._null_ctx, self._index.get(word, UNK_ID))
        return lp


LanguageModel = Model  # KenLM's older name
