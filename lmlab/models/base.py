"""The one :class:`LanguageModel` interface that every n-gram and neural model implements.

Conventions (the same for every model, so numbers are comparable):

* natural log everywhere (log10 only at ARPA/KenLM edges, in names that say so);
* a sentence is scored as ``<s> w1 .. wk </s>``: every word and one ``</s>`` are predicted,
  ``<s>`` never is (its log-probability in a next-token distribution is ``-inf``);
* a token outside the vocabulary is scored as ``<unk>`` and counted as an OOV.

A *state* is an immutable, hashable summary of the history, advanced one token at a time.  An
n-gram model's state is its query engine's: a tuple of ints naming the history's suffixes in the
model (:mod:`lmlab.models.ngram.fastkernels`), so histories that predict alike have equal states.

Perplexity, scoring, generation, completion, interpolation and the server are written once
against this interface.  Models whose next-token scores do not sum to one (stupid backoff) set
``normalized = False``; code that needs probabilities checks it and refuses.

nltk.lm's conventions break these (``order - 1`` paddings, ``<s>`` has a probability), so its
models are :class:`lmlab.models.ngram.nltk_lm.NltkLM`, which is not a ``LanguageModel``: it has
nltk's contract and refuses every operation of this interface (``NotALanguageModelError``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Hashable, Sequence

import numpy as np

from ..errors import InputTypeError
from ..text.inputs import sentence_tokens, words_of
from ..text.specials import EOS_ID, UNK_ID
from ..text.vocab import Vocab

State = Hashable


class LanguageModel(ABC):
    """Next-token log-probabilities over a fixed :class:`Vocab`."""

    #: True when every next-token distribution sums to 1.
    normalized: bool = True

    def not_probabilities(self) -> str:
        """Why this model's scores are not probabilities (for the refusal of what needs them)."""
        return f"{type(self).__name__} gives scores, not probabilities"

    @property
    @abstractmethod
    def vocab(self) -> Vocab: ...

    # -- states ---------------------------------------------------------------------------
    @abstractmethod
    def begin_state(self) -> State:
        """State after ``<s>`` (the start of a sentence)."""

    @abstractmethod
    def null_state(self) -> State:
        """State with no history at all (KenLM's ``NullContextWrite``)."""

    @abstractmethod
    def advance(self, state: State, token_id: int) -> State:
        """State after appending ``token_id`` to the history of ``state``."""

    def advance_many(self, states: Sequence[State], token_ids: Sequence[int]) -> list[State]:
        """:meth:`advance` for a batch (a beam search's hypotheses); models may batch it."""
        return [self.advance(s, int(t)) for s, t in zip(states, token_ids, strict=True)]

    def sample_tokens(self, state: State, rng: np.random.Generator, max_tokens: int, banned_ids,
                      stop_at_eos: bool = True) -> tuple[list[int], list[float], bool] | None:
        """Tokens drawn one after another from ``state`` (up to ``max_tokens``), each exactly from
        :meth:`next_logprobs`' distribution without ``banned_ids``, renormalised (temperature 1):
        (token ids, the natural-log probability of each as :meth:`next_logprobs` gives it, True
        if it stopped at ``</s>`` with ``stop_at_eos``), the same for the same ``rng`` state.
        ``None`` (the default) when the model has no faster way than its full next-token
        distributions, which :func:`lmlab.generate.decode.generate` then samples itself."""
        return None

    # -- scores ---------------------------------------------------------------------------
    @abstractmethod
    def next_logprobs(self, states: Sequence[State]) -> np.ndarray:
        """Next-token log-probabilities for a batch of states.

        Shape: ``(B, V)`` float64, natural log; ``-inf`` at ``<s>``.
        """

    def step(self, state: State, token_id: int) -> tuple[float, State]:
        """Log-probability of ``token_id`` after ``state`` and the advanced state."""
        return float(self.next_logprobs([state])[0, token_id]), self.advance(state, token_id)

    def token_logprobs(self, ids: Sequence[int], *, bos: bool = True, eos: bool = True) -> np.ndarray:
        """Per-token log-probabilities of one sentence of token ids.

        With ``eos`` the last entry is the log-probability of ``</s>``.  Shape ``(len(ids) + eos,)``.
        """
        state = self.begin_state() if bos else self.null_state()
        seq = (ids.tolist() if isinstance(ids, np.ndarray) else [int(t) for t in ids]) + ([EOS_ID] if eos else [])
        step, out = self.step, []
        for t in seq:
            lp, state = step(state, t)
            out.append(lp)
        return np.array(out, dtype=np.float64)

    def corpus_token_logprobs(self, sentences: Sequence[Sequence[int]]) -> list[np.ndarray]:
        """:meth:`token_logprobs` of every sentence (with ``<s>`` and ``</s>``).

        Models override this with a batched implementation; results must be identical.
        """
        return [self.token_logprobs(s) for s in sentences]

    # -- conveniences written once --------------------------------------------------------
    def encode(self, sentence: str | Sequence[str]) -> np.ndarray:
        return self.vocab.encode(sentence_tokens(sentence, self.vocab.tokenize))

    def sentence_logprob(self, sentence: str | Sequence[str], *, bos: bool = True, eos: bool = True) -> float:
        """Natural-log probability of a sentence (a string is tokenized with the vocab's tokenizer)."""
        return float(np.sum(self.token_logprobs(self.encode(sentence), bos=bos, eos=eos)))

    def logprob(self, word: str, context: Sequence[str] = ()) -> float:
        """ln P(word | context); the context is taken as it is (no ``<s>`` added)."""
        if not isinstance(word, str):
            raise InputTypeError(f"a word must be a string, not {type(word).__name__} ({word!r})")
        state = self.null_state()
        for t in words_of(context):
            state = self.advance(state, self.vocab.lookup(t))
        return float(self.next_logprobs([state])[0, self.vocab.lookup(word)])

    def is_oov(self, ids: np.ndarray) -> np.ndarray:
        return np.asarray(ids) == UNK_ID
