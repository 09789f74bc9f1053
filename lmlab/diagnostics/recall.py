"""The synthetic recall task: remember one of 8 symbols across ``k`` blanks.

An example is ``SYMBOL _ _ ... _ ?`` (the symbol, ``k`` blanks, the query token) and its answer is
the symbol (chance: 1/8).  The symbol is exactly ``k + 1`` tokens before the query, so the answer
needs information from exactly that far back.  :func:`recall_examples` gives id arrays for a
task model; :func:`recall_lines` the same examples as text lines (``s3 _ _ _ ? s3``) that ``lmlab
train`` reads as a language-modelling corpus, and :func:`recall_accuracy` scores any
:class:`~lmlab.models.base.LanguageModel` trained on such lines: the most probable of the 8
symbols after ``SYMBOL _ ... _ ?`` must be the symbol.
"""

from __future__ import annotations

import numpy as np

from ..errors import ConfigError
from ..models.base import LanguageModel

N_SYMBOLS = 8
SYMBOLS = tuple(f"s{i}" for i in range(N_SYMBOLS))
BLANK, QUERY = "_", "?"
BLANK_ID, QUERY_ID = N_SYMBOLS, N_SYMBOLS + 1  # ids 0..7 are the symbols


def recall_examples(k: int, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` examples at distance ``k``: inputs ``(n, k + 2)`` (symbol, ``k`` blanks, query) and
    targets ``(n,)`` (the symbol), ids as :data:`BLANK_ID`, :data:`QUERY_ID`, 0..7 the symbols."""
    if k < 0 or n < 1:
        raise ConfigError(f"the recall task needs k >= 0 blanks and n >= 1 examples, got k={k} n={n}")
    rng = np.random.default_rng(seed)
    targets = rng.integers(0, N_SYMBOLS, n)
    inputs = np.full((n, k + 2), BLANK_ID, dtype=np.int64)
    inputs[:, 0] = targets
    inputs[:, -1] = QUERY_ID
    return inputs, targets


def _token(i: int) -> str:
    return SYMBOLS[i] if i < N_SYMBOLS else BLANK if i == BLANK_ID else QUERY


def recall_lines(k: int, n: int, seed: int = 0) -> list[str]:
    """The examples as text lines, the answer last: ``s3 _ _ _ ? s3``."""
    inputs, targets = recall_examples(k, n, seed)
    return [" ".join([*map(_token, row), SYMBOLS[t]]) for row, t in zip(inputs.tolist(), targets.tolist(),
                                                                         strict=True)]


def recall_accuracy(lm: LanguageModel, k: int, n: int = 1000, seed: int = 1) -> float:
    """Fraction of ``n`` fresh examples (``seed``) where ``lm``'s most probable symbol after the
    query is the answer (only the 8 symbols compete; each example read from ``<s>``)."""
    ids = [lm.vocab.lookup(s) for s in SYMBOLS]
    if len(set(ids)) != N_SYMBOLS:
        raise ConfigError("the model does not know the recall task's symbols s0..s7 (train it on recall_lines)")
    inputs, targets = recall_examples(k, n, seed)
    blank, query = lm.vocab.lookup(BLANK), lm.vocab.lookup(QUERY)
    to_vocab = np.array([*ids, blank, query])
    states = []
    for row in to_vocab[inputs].tolist():
        state = lm.begin_state()
        for t in row:
            state = lm.advance(state, t)
        states.append(state)
    lp = lm.next_logprobs(states)[:, ids]
    return float(np.mean(lp.argmax(axis=1) == targets))


def recall_labelled(k: int, n: int, seed: int = 0) -> list[str]:
    """The examples as a classifier's ``LABEL<TAB>TEXT`` lines (``s3<tab>s3 _ _ _ ?``): ``lmlab
    train --kind classify --pooling last --unidirectional`` trains a recurrent cell on the task
    through the generic trainer (the answer must be carried in the state to the query), and
    ``lmlab evaluate RUN --test FILE`` reports its accuracy."""
    inputs, targets = recall_examples(k, n, seed)
    return [f"{SYMBOLS[t]}\t{' '.join(map(_token, row))}" for row, t in zip(inputs.tolist(), targets.tolist(),
                                                                            strict=True)]
