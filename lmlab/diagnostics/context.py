"""Perplexity as a function of the context length a model may use.

Every line is scored as ``lmlab perplexity`` scores it (from ``<s>``, each word and one ``</s>``
predicted), except that the history of each prediction is cut to its last ``k`` tokens (``<s>``
counts as one): the model reads only those ``k`` tokens from its empty state (an RNN's zero
state, an n-gram's null context) and predicts the next one.  A prediction whose history has at
most ``k`` tokens is scored as usual, so with ``k`` at least the longest line plus one the value
is the full-history perplexity.

* An n-gram model of order N sees N - 1 tokens: ``k >= N - 1`` is its full value (its window
  bounds it), and below that its own state after the last ``k`` tokens is used.
* A recurrent LM is re-run over the last ``k`` tokens of every history longer than ``k``: all
  such windows side by side as the columns of one batch (chunks of :data:`COLUMNS`), through the
  model's own batched forward and output layer, so each ``k`` costs one pass of ``k`` steps.
* Any other :class:`LanguageModel` (a window LM, a mixture) goes through its states
  (:meth:`null_state`, :meth:`advance`, :meth:`step`), one prediction at a time.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import ConfigError
from ..eval.perplexity import report_from_scores
from ..models.base import LanguageModel
from ..models.mixture import MixtureLM
from ..models.ngram.model import NgramLM
from ..text.specials import BOS_ID, EOS_ID

COLUMNS = 512  # windows per batch of the recurrent fast path


def context_bound(lm: LanguageModel) -> int | None:
    """The most history tokens ``lm`` can use (an n-gram's order - 1, a window LM's context),
    None when unbounded (a recurrent LM, a mixture with one)."""
    if isinstance(lm, NgramLM):
        return max(lm.order - 1, 0)
    if isinstance(lm, MixtureLM):
        bounds = [context_bound(m) for m in lm.models]
        return None if None in bounds else max(bounds)
    if getattr(lm, "is_rnn", True) is False:  # a neural window LM (TorchLM: the n-gram path imports no torch)
        return lm.config.context
    return None


class Positions:
    """Every prediction of a list of sentences (token ids, no ``<s>``/``</s>``): the padded
    sequence ``<s> w1 .. wn </s>`` of all sentences end to end, and for each prediction the index
    of its target in it and its history length (``<s>`` included)."""

    def __init__(self, sentences: Sequence[Sequence[int]]):
        seqs = [np.concatenate([[BOS_ID], np.asarray(s, dtype=np.int64), [EOS_ID]]) for s in sentences]
        self.flat = np.concatenate(seqs) if seqs else np.zeros(0, dtype=np.int64)
        starts = np.cumsum([0] + [len(s) for s in seqs])[:-1]
        self.target = np.concatenate([st + np.arange(1, len(s)) for st, s in zip(starts, seqs, strict=True)]) \
            if seqs else np.zeros(0, dtype=np.int64)
        self.history = np.concatenate([np.arange(1, len(s)) for s in seqs]) if seqs else np.zeros(0, dtype=np.int64)

    def longer_than(self, k: int) -> np.ndarray:
        """Indices (into the predictions) of those whose history has more than ``k`` tokens."""
        return np.flatnonzero(self.history > k)

    def windows(self, which: np.ndarray, k: int) -> np.ndarray:
        """(len(which), k) the last ``k`` history tokens of the predictions ``which``."""
        return self.flat[self.target[which][:, None] + np.arange(-k, 0)[None, :]]


def truncated_logprobs(lm: LanguageModel, sentences: Sequence[Sequence[int]], k: int, *,
                       full: np.ndarray | None = None, use_bound: bool = True) -> np.ndarray:
    """Flat natural-log probabilities of every prediction (the order of
    ``corpus_token_logprobs``, concatenated) with each history cut to its last ``k`` tokens.

    ``full``: the full-history values if already computed; ``use_bound``: take them for ``k`` at or
    above :func:`context_bound` (``False`` recomputes through the states: the tests' check)."""
    if k < 0:
        raise ConfigError(f"a context length is a number of tokens >= 0, not {k}")
    pos = Positions(sentences)
    if full is None:
        full = np.concatenate(lm.corpus_token_logprobs(sentences)) if len(sentences) else np.zeros(0)
    bound = context_bound(lm)
    if use_bound and bound is not None and k >= bound:
        return full
    out = np.array(full, dtype=np.float64, copy=True)
    which = pos.longer_than(k)
    if not len(which):
        return out
    model = getattr(lm, "model", None)
    if getattr(lm, "is_rnn", False) and model is not None:
        out[which] = _recurrent(lm, pos.windows(which, k), pos.flat[pos.target[which]])
    else:
        out[which] = _through_states(lm, pos.windows(which, k), pos.flat[pos.target[which]])
    return out


def _through_states(lm: LanguageModel, windows: np.ndarray, targets: np.ndarray) -> np.ndarray:
    out = np.empty(len(targets), dtype=np.float64)
    for j, (row, target) in enumerate(zip(windows.tolist(), targets.tolist(), strict=True)):
        state = lm.null_state()
        for t in row:
            state = lm.advance(state, t)
        out[j] = lm.step(state, target)[0]
    return out


def _recurrent(lm, windows: np.ndarray, targets: np.ndarray) -> np.ndarray:
    import torch

    from ..models.neural.scoring import target_logprobs

    model = lm.model.eval()
    device = next(model.parameters()).device
    out = np.empty(len(targets), dtype=np.float64)
    with torch.no_grad():
        for a in range(0, len(targets), COLUMNS):
            tok = torch.as_tensor(windows[a : a + COLUMNS].T.copy(), device=device)  # (k, C): time first
            top, _ = model.top_states(tok, model.init_hidden(tok.shape[1]))
            logits = model.logits(top[-1])
            tgt = torch.as_tensor(targets[a : a + COLUMNS], device=device)
            out[a : a + COLUMNS] = target_logprobs(logits, tgt, inplace=True).cpu().numpy()
    return out


def context_curve(name: str, lm: LanguageModel, sentences: Sequence[Sequence[int]], lengths: Sequence[int]) -> list[dict]:
    """One record per context length ``k``: the perplexity (with and without OOVs) when every
    history is cut to ``k`` tokens, how many predictions were cut, and the full-history value."""
    pos = Positions(sentences)
    full = np.concatenate(lm.corpus_token_logprobs(sentences))
    targets = pos.flat[pos.target]
    whole = report_from_scores(full, targets, len(sentences))
    bound = context_bound(lm)
    records = []
    for k in lengths:
        rep = report_from_scores(truncated_logprobs(lm, sentences, k, full=full), targets, len(sentences))
        records.append({"model": name, "context": int(k), "perplexity": rep.perplexity,
                        "perplexity_excluding_oovs": rep.perplexity_excluding_oovs, "tokens": rep.tokens,
                        "cut": int(len(pos.longer_than(k))), "window": bound,
                        "full_perplexity": whole.perplexity,
                        "full_perplexity_excluding_oovs": whole.perplexity_excluding_oovs})
    return records
