"""A conditional LM with its condition fixed, behind the :class:`LanguageModel` interface.

``ConditionedLM(model, label="1")`` or ``ConditionedLM(model, features=vector)`` is an ordinary
language model: generation (:func:`lmlab.generate.decode.generate`: temperature, top-k, top-p,
seed), the one beam search (:func:`lmlab.generate.beam.lm_beam_search`) and perplexity
(:func:`lmlab.eval.perplexity.evaluate`) run on it unchanged.  States compare by their token
history and carry the decoder's hidden tensors (each ``(L, 1, H)``); scoring a corpus runs whole
sentences in padded batches (:meth:`ConditionedLM.corpus_token_logprobs`), equal to stepping.

:func:`label_marginal` is the unconditional model of a label-conditioned LM: the mixture over the
labels with the training prior, ``p(x) = sum_l prior(l) p(x | l)``
(:class:`~lmlab.models.posterior_mixture.PosteriorMixture`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from ...errors import UnknownLabelError
from ...tensors.batch import Batch
from ...text.specials import BOS_ID
from ...text.vocab import Vocab
from ..base import LanguageModel
from .conditional import ConditionalLM


@dataclass(frozen=True)
class ConditionedState:
    tokens: tuple[int, ...]
    hidden: tuple = field(default=(), compare=False, hash=False, repr=False)


def label_id(model: ConditionalLM, label: str) -> int:
    """The id of ``label``; one the model was not trained with is an error naming the known ones."""
    if model.labels is None:
        raise UnknownLabelError("this conditional LM is conditioned on feature vectors, not labels")
    if label not in model.labels:
        raise UnknownLabelError(f"unknown label {label!r}; the model's labels: {', '.join(model.labels.labels)}")
    return int(model.labels.encode([label])[0])


class ConditionedLM(LanguageModel):
    """``model`` given one condition: a ``label`` of its label set or a ``features`` vector."""

    def __init__(self, model: ConditionalLM, *, label: str | None = None, features: Sequence[float] | None = None,
                 batch_size: int = 64):
        self.model = model.eval()
        self.device = next(model.parameters()).device
        self.batch_size = batch_size
        self.label = label
        if label is not None:
            self._condition = {"labels": torch.tensor([label_id(model, label)], device=self.device)}
        else:
            f = torch.as_tensor(np.asarray(features, dtype=np.float32)).reshape(1, -1).to(self.device)
            self._condition = {"features": f}
        with torch.no_grad():
            self._c = model.condition_vectors(Batch(self._condition, 1))  # (1, C)
            self._h0 = tuple(h.detach() for h in model.initial_hidden(self._c))

    @property
    def vocab(self) -> Vocab:
        return self.model.tokens

    def null_state(self) -> ConditionedState:
        return ConditionedState((), self._h0)

    def begin_state(self) -> ConditionedState:
        return self.advance(self.null_state(), BOS_ID)

    def advance(self, state: ConditionedState, token_id: int) -> ConditionedState:
        return self.advance_many([state], [token_id])[0]

    def advance_many(self, states: Sequence[ConditionedState], token_ids: Sequence[int]) -> list[ConditionedState]:
        """One batched decoder step for all states."""
        hidden = tuple(torch.cat([s.hidden[k] for s in states], dim=1) for k in range(len(self._h0)))
        tok = torch.tensor([int(t) for t in token_ids], dtype=torch.int64, device=self.device)
        new = self.model.step(tok, hidden, self._c.expand(len(states), -1))
        return [ConditionedState((*s.tokens, int(t)), tuple(h[:, b : b + 1] for h in new))
                for b, (s, t) in enumerate(zip(states, token_ids, strict=True))]

    @torch.no_grad()
    def next_logprobs(self, states: Sequence[ConditionedState]) -> np.ndarray:
        top = torch.cat([s.hidden[0][-1] for s in states], dim=0)  # (B, H)
        return torch.log_softmax(self.model.logits(top).double(), dim=-1).cpu().numpy()

    def corpus_token_logprobs(self, sentences: Sequence[Sequence[int]]) -> list[np.ndarray]:
        """Every sentence from ``<s>`` under this condition, in padded batches (``</s>`` last)."""
        cond = next(iter(self._condition.values())).cpu().numpy()
        return token_logprobs(self.model, sentences, np.repeat(cond, len(sentences), axis=0), self.batch_size)


def token_logprobs(model: ConditionalLM, sentences: Sequence[Sequence[int]], conditions: np.ndarray,
                   batch_size: int = 64) -> list[np.ndarray]:
    """Per sentence of token ids, given its own condition (``conditions``: label ids ``(N,)`` or
    vectors ``(N, F)``): the natural-log probability of each token and of ``</s>``, in padded batches."""
    from ...tensors.conditional import id_batches

    rows = [np.asarray(s, dtype=np.int64) for s in sentences]
    out: list[np.ndarray | None] = [None] * len(rows)
    device = next(model.parameters()).device
    for b in model.predict_batches(id_batches(rows, conditions, model.tokens, batch_size=batch_size), device):
        for i, lp in zip(*b, strict=True):
            out[i] = lp
    return out  # type: ignore[return-value]


def label_marginal(model: ConditionalLM, batch_size: int = 64) -> LanguageModel:
    """The unconditional model of a label-conditioned LM: ``sum_l prior(l) p(x | l)`` over its labels."""
    from ..posterior_mixture import PosteriorMixture

    if model.labels is None:
        raise UnknownLabelError("a feature-conditioned LM has no label prior: it has no unconditional model")
    parts = [ConditionedLM(model, label=label, batch_size=batch_size) for label in model.labels.labels]
    return PosteriorMixture(parts, model.label_prior)


__all__ = ["ConditionedLM", "ConditionedState", "label_id", "label_marginal", "token_logprobs"]
