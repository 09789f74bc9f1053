"""Next-word completion for predictive typing."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..models.base import LanguageModel
from ..text.specials import BOS_ID, UNK_ID


def complete(
    lm: LanguageModel,
    prefix: str | Sequence[str],
    k: int = 5,
    *,
    partial: str = "",
    sentence_start: bool = True,
    include_unk: bool = False,
) -> list[tuple[str, float]]:
    """The ``k`` most likely next tokens after ``prefix``, as (token, natural-log prob), best first.

    ``partial`` keeps only tokens that start with it (completing a word being typed).
    ``<s>`` is never proposed, and ``<unk>`` only with ``include_unk``.
    """
    tokens = lm.vocab.tokenize(prefix) if isinstance(prefix, str) else list(prefix)
    state = lm.begin_state() if sentence_start else lm.null_state()
    for t in tokens:
        state = lm.advance(state, lm.vocab.lookup(t))
    lp = lm.next_logprobs([state])[0].copy()
    lp[BOS_ID] = -np.inf
    if not include_unk:
        lp[UNK_ID] = -np.inf
    if partial:
        mask = np.fromiter((t.startswith(partial) for t in lm.vocab.tokens), dtype=bool, count=len(lp))
        lp[~mask] = -np.inf
    k = min(k, int(np.isfinite(lp).sum()))
    if k <= 0:
        return []
    top = np.argpartition(-lp, k - 1)[:k]
    top = top[np.argsort(-lp[top], kind="stable")]
    return [(lm.vocab[int(i)], float(lp[i])) for i in top]
