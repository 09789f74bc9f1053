"""``PosteriorMixture``: a mixture of language models at the *sentence* level.

    P(x) = sum_k prior_k P_k(x)        (a whole sentence x from one component k)

as opposed to :class:`~lmlab.models.mixture.MixtureLM`'s per-token interpolation.  As a
LanguageModel it predicts each token with the components weighted by their posterior given the
history, ``P(w | h) = sum_k P(k | h) P_k(w | h)`` with ``P(k | h) ∝ prior_k P_k(h)``, so the
per-token probabilities of a sentence multiply to exactly ``sum_k prior_k P_k(x)`` and sampling
from it is sampling a component from the prior, then a sentence from it.  This is the
unconditional model of a label-conditioned LM (components: the LM given each label; prior: the
training labels' frequencies).  A state is ``(the components' states, log P(k | h) for each k)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .base import LanguageModel
from .mixture import MixtureLM, _logsumexp


class PosteriorMixture(MixtureLM):
    """``models`` with ``prior`` weights (summing to 1), mixed per sentence (module docstring)."""

    def __init__(self, models: Sequence[LanguageModel], prior: Sequence[float] | None = None):
        super().__init__(models, prior)
        with np.errstate(divide="ignore"):
            self._log_prior = tuple(float(x) for x in np.log(self.weights))

    def begin_state(self):
        return self._start(MixtureLM.begin_state(self))

    def null_state(self):
        return self._start(MixtureLM.null_state(self))

    def _start(self, parts):
        return (parts, self._log_prior)

    def _component_logprobs(self, states) -> np.ndarray:
        """(K, B, V) next-token log-probabilities of each component at each state."""
        return np.stack([m.next_logprobs([s[0][k] for s in states]) for k, m in enumerate(self.models)])

    def advance(self, state, token_id: int):
        return self.advance_many([state], [token_id])[0]

    def advance_many(self, states, token_ids):
        lp = self._component_logprobs(states)  # the token's probability under each component updates the posterior
        parts = MixtureLM.advance_many(self, [s[0] for s in states], token_ids)
        out = []
        for b, (s, t) in enumerate(zip(states, token_ids, strict=True)):
            logw = np.asarray(s[1]) + lp[:, b, int(t)]
            with np.errstate(invalid="ignore"):
                logw = logw - _logsumexp(logw, axis=0)
            out.append((parts[b], tuple(float(x) for x in logw)))
        return out

    def next_logprobs(self, states) -> np.ndarray:
        logw = np.array([s[1] for s in states]).T  # (K, B)
        with np.errstate(divide="ignore"):  # <s>: -inf under every component
            return _logsumexp(self._component_logprobs(states) + logw[:, :, None], axis=0)

    def corpus_token_logprobs(self, sentences: Sequence[Sequence[int]]) -> list[np.ndarray]:
        """``log P(w_t | w_<t)`` of each token: the running posterior over components, batched."""
        per = [m.corpus_token_logprobs(sentences) for m in self.models]
        logp = np.asarray(self._log_prior)[:, None]
        out = []
        for i in range(len(sentences)):
            lp = np.stack([p[i] for p in per])  # (K, n + 1)
            before = logp + np.concatenate([np.zeros((lp.shape[0], 1)), np.cumsum(lp, axis=1)[:, :-1]], axis=1)
            with np.errstate(divide="ignore"):
                out.append(_logsumexp(before + lp, axis=0) - _logsumexp(before, axis=0))
        return out


__all__ = ["PosteriorMixture"]
