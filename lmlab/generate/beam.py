"""One beam search for every conditional decoder: seq2seq decoders, conditional LMs and LanguageModels.

The search knows nothing about models: it drives a :class:`StepDecoder`, whose one method takes
a batch of decoder states and the token each has just been given and returns the next-token
log-probabilities ``(B, V)`` and the new states (a seq2seq decoder's hidden state, a
:class:`~lmlab.models.base.LanguageModel` state, ...).  :class:`LMDecoder` is that protocol for
any LanguageModel (``advance_many`` then ``next_logprobs``); no torch is imported here.

Scores are natural-log probabilities.  A hypothesis's *length* is the number of tokens it
generated, ``</s>`` included when it ended with one; it is ranked by GNMT's length-normalised
score ``logprob / lp`` with ``lp = ((5 + length) / 6) ** alpha`` (Wu et al. 2016; ``alpha = 0``
ranks by the log-probability itself).  ``max_len`` counts generated tokens, ``</s>`` included
(as :func:`lmlab.generate.decode.generate`'s ``max_tokens``).

Two ways to end hypotheses (``finish``):

* ``"compete"`` (the default; Nematus/OpenNMT style): at each step the ``width`` best
  one-token extensions of all live hypotheses are kept, ``</s>`` competing with every other
  token; an extension ending in ``</s>`` is finished and the width shrinks by one, so the search
  ends when ``beam`` hypotheses have finished (or after ``max_len`` tokens, when the live ones
  are returned unfinished, ranked after every finished one).  Beam 1 is greedy decoding.
* ``"every"``: every live hypothesis is also finished (its ``</s>`` extension is recorded), the
  beam keeps ``beam`` live extensions without ``</s>``, and extensions that can no longer beat
  the ``nbest``-th finished score are dropped (a bound that needs log-probabilities <= 0).  This
  is the search that completes a word being typed (:func:`lmlab.generate.complete.complete_word`).

Ties go to the earlier hypothesis, then to the lower token id; n-best lists are sorted by score
(best first) and distinct (each hypothesis is a distinct path of the search tree).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from ..errors import ConfigError
from ..models.base import LanguageModel
from ..text.specials import BOS_ID, EOS_ID, UNK
from .prompt import prompt_state, prompt_tokens


class StepDecoder(Protocol):
    def step(self, states: Sequence[Any], tokens: Sequence[int | None]) -> tuple[np.ndarray, list[Any]]:
        """Give each state its token (``None``: the state has already read its history) and return
        the next-token log-probabilities ``(B, V)`` after it and the new states."""


@dataclass(frozen=True)
class Hypothesis:
    tokens: tuple[int, ...]  # generated token ids, without </s>
    logprob: float  # natural-log probability of the tokens (and of </s> when finished)
    score: float  # logprob / length_penalty(length, alpha): the ranking key
    finished: bool  # True when it ended with </s>

    @property
    def length(self) -> int:
        return len(self.tokens) + self.finished


def length_penalty(length: int, alpha: float) -> float:
    """GNMT's ``((5 + length) / 6) ** alpha``."""
    return ((5.0 + length) / 6.0) ** alpha


def top_ids(lp: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` largest finite values, best first; equal values go to the lower index."""
    k = min(k, int(np.isfinite(lp).sum()))
    if k <= 0:
        return np.empty(0, dtype=np.int64)
    kth = lp[np.argpartition(-lp, k - 1)[k - 1]]
    cand = np.flatnonzero(lp >= kth)  # ascending ids, ties at the boundary included
    return cand[np.argsort(-lp[cand], kind="stable")][:k]


@dataclass
class _Live:
    tokens: tuple[int, ...]
    logprob: float
    state: Any  # the decoder state before it has read ``last``
    last: int | None


def beam_search(
    decoder: StepDecoder,
    start_state: Any,
    *,
    start_token: int | None = BOS_ID,
    beam: int = 4,
    nbest: int = 1,
    max_len: int = 50,
    alpha: float = 0.0,
    eos: int = EOS_ID,
    banned: Sequence[int] = (),
    min_len: int = 0,
    finish: str = "compete",
) -> list[Hypothesis]:
    """The ``nbest`` best hypotheses from ``start_state`` (given ``start_token`` first), best first.

    ``banned`` token ids are never generated; ``</s>`` not before ``min_len`` tokens.  See the
    module's docstring for ``finish`` and the scores."""
    problems = []
    if beam < 1:
        problems.append(f"beam must be >= 1, got {beam}")
    if nbest < 1 or (finish == "compete" and nbest > beam):
        problems.append(f"nbest must be in 1..beam ({beam}), got {nbest}")
    if max_len < 1:
        problems.append(f"max_len must be >= 1, got {max_len}")
    if alpha < 0:
        problems.append(f"alpha must be >= 0, got {alpha}")
    if finish not in ("compete", "every"):
        problems.append(f"finish must be 'compete' or 'every', got {finish!r}")
    if problems:
        raise ConfigError(problems)
    banned = sorted({int(b) for b in banned})
    live = [_Live((), 0.0, start_state, start_token)]
    done: list[Hypothesis] = []

    def finished(tokens, logprob):
        return Hypothesis(tokens, logprob, logprob / length_penalty(len(tokens) + 1, alpha), True)

    for step in range(max_len):
        if not live:
            break
        lps, states = decoder.step([h.state for h in live], [h.last for h in live])
        lps = np.array(lps, dtype=np.float64)  # a copy: bans must not write into the decoder's array
        if banned:
            lps[:, banned] = -np.inf
        can_end = step >= min_len
        cand: list[tuple[float, int, int]] = []
        if finish == "compete":
            if not can_end:
                lps[:, eos] = -np.inf
            width = beam - len(done)
            for h, hyp in enumerate(live):
                for j in top_ids(lps[h], width):
                    cand.append((hyp.logprob + float(lps[h, j]), h, int(j)))
            cand = sorted(cand, key=lambda c: -c[0])[:width]
            nxt = []
            for s, h, j in cand:
                if j == eos:
                    done.append(finished(live[h].tokens, s))
                else:
                    nxt.append(_Live(live[h].tokens + (j,), s, states[h], j))
            live = nxt
            continue
        # finish == "every"
        end = lps[:, eos].copy()
        lps[:, eos] = -np.inf
        for h, hyp in enumerate(live):
            if can_end and np.isfinite(end[h]):
                done.append(finished(hyp.tokens, hyp.logprob + float(end[h])))
            if step == max_len - 1:
                continue
            for j in top_ids(lps[h], beam):
                cand.append((hyp.logprob + float(lps[h, j]), h, int(j)))
        scores = sorted((d.score for d in done), reverse=True)
        nth = scores[nbest - 1] if len(scores) >= nbest else -np.inf
        best_lp = length_penalty(max_len, alpha)  # the most a live hypothesis's score can gain
        cand = [c for c in sorted(cand, key=lambda c: -c[0])[:beam] if c[0] / best_lp > nth]
        live = [_Live(live[h].tokens + (j,), s, states[h], j) for s, h, j in cand]
    if finish == "compete":
        done.sort(key=lambda d: -d.score)
        rest = sorted((Hypothesis(h.tokens, h.logprob, h.logprob / length_penalty(len(h.tokens), alpha), False)
                       for h in live), key=lambda d: -d.score)
        return (done + rest)[:nbest]
    return sorted(done, key=lambda d: -d.score)[:nbest]


class LMDecoder:
    """The :class:`StepDecoder` of a :class:`LanguageModel`: its states are the model's states."""

    def __init__(self, lm: LanguageModel):
        self.lm = lm

    def step(self, states, tokens):
        if all(t is not None for t in tokens):
            new = self.lm.advance_many(states, [int(t) for t in tokens])
        else:
            new = [s if t is None else self.lm.advance(s, int(t)) for s, t in zip(states, tokens, strict=True)]
        return self.lm.next_logprobs(new), list(new)


def lm_beam_search(
    lm: LanguageModel,
    prompt: str | Sequence[str] = "",
    *,
    beam: int = 4,
    nbest: int = 1,
    max_len: int = 30,
    alpha: float = 0.0,
    banned: Sequence[str] = (UNK,),
) -> list[Hypothesis]:
    """Beam search over a LanguageModel's continuations of ``prompt`` from the start of a sentence.

    ``<s>`` and the ``banned`` tokens (by default ``<unk>``) are never generated, as in
    :func:`lmlab.generate.decode.generate`, whose greedy output is ``beam=1``'s."""
    state = prompt_state(lm, prompt_tokens(lm, prompt))
    ban = {BOS_ID} | {lm.vocab.lookup(b) for b in banned if b in lm.vocab}
    return beam_search(LMDecoder(lm), state, start_token=None, beam=beam, nbest=nbest, max_len=max_len,
                       alpha=alpha, banned=sorted(ban))


__all__ = ["Hypothesis", "LMDecoder", "StepDecoder", "beam_search", "length_penalty", "lm_beam_search", "top_ids"]
