"""A prompt (text typed so far, a prefix to complete or continue) as a model state: the one
encoding path of completion, generation and beam search.

A prompt is text, so it is encoded as scored text is (:meth:`~lmlab.text.vocab.Vocab.encode`): a
literal ``<s>`` or ``</s>`` in it is an unknown word (``<unk>``), never a sentence boundary, as in
``score``, ``perplexity`` and ``rerank``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..models.base import LanguageModel
from ..text.inputs import words_of


def check_count(name: str, value, minimum: int = 1) -> list[str]:
    """The problem with a count argument (``k``, ``max_tokens``...): not an integer, or below
    ``minimum``; none when it is fine.  A bad count is refused, never read as "nothing to do"."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        return [f"{name} must be an integer >= {minimum}, got {value!r}"]
    return []


def prompt_tokens(lm: LanguageModel, prompt: str | Sequence[str]) -> list[str]:
    """The tokens of ``prompt``: a string is tokenised with the model's tokenizer; a sequence is
    taken as its tokens (each a string)."""
    return lm.vocab.tokenize(prompt) if isinstance(prompt, str) else words_of(prompt, "prompt")


def prompt_state(lm: LanguageModel, tokens: Sequence[str], *, sentence_start: bool = True):
    """The model's state after ``tokens`` (from ``<s>``, or from no context at all)."""
    state = lm.begin_state() if sentence_start else lm.null_state()
    for i in lm.vocab.encode(list(tokens)).tolist():
        state = lm.advance(state, i)
    return state
