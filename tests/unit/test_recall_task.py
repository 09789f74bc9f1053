"""The synthetic recall task (lmlab.diagnostics.recall): the distance is exact, the text form
matches the ids, and a model that sees far enough back solves it while one that does not stays
near chance."""

from __future__ import annotations

import numpy as np
import pytest

from lmlab.diagnostics.recall import (BLANK_ID, N_SYMBOLS, QUERY_ID, SYMBOLS, recall_accuracy, recall_examples,
                                      recall_lines)
from lmlab.errors import ConfigError
from lmlab.models.ngram.model import NgramLM


@pytest.mark.parametrize("k", [0, 1, 5, 50, 100])
def test_the_symbol_is_exactly_k_plus_one_tokens_before_the_query(k):
    inputs, targets = recall_examples(k, 200, seed=k)
    assert inputs.shape == (200, k + 2)
    for row, t in zip(inputs, targets, strict=True):
        symbols = np.flatnonzero(row < N_SYMBOLS)
        query = np.flatnonzero(row == QUERY_ID)
        assert symbols.tolist() == [0] and query.tolist() == [k + 1] and query[0] - symbols[0] == k + 1
        assert row[0] == t and (row[1:-1] == BLANK_ID).all()
    assert set(targets.tolist()) == set(range(N_SYMBOLS))  # every symbol occurs


def test_seeds_repeat_and_lines_spell_the_ids():
    a, ta = recall_examples(3, 50, seed=7)
    b, tb = recall_examples(3, 50, seed=7)
    assert (a == b).all() and (ta == tb).all() and not (recall_examples(3, 50, seed=8)[1] == ta).all()
    lines = recall_lines(3, 50, seed=7)
    assert all(line.split() == [SYMBOLS[t], "_", "_", "_", "?", SYMBOLS[t]] for line, t in zip(lines, ta, strict=True))
    with pytest.raises(ConfigError):
        recall_examples(-1, 5)


def test_a_window_that_reaches_the_symbol_solves_it_and_one_that_does_not_is_at_chance():
    k = 2  # symbol _ _ ? answer: a 5-gram sees the symbol, a trigram sees only "_ ?"
    train = recall_lines(k, 2000, seed=0)
    assert recall_accuracy(NgramLM(5, "witten_bell").fit(train), k, 800) == 1.0
    assert recall_accuracy(NgramLM(3, "witten_bell").fit(train), k, 800) < 0.25
    with pytest.raises(ConfigError, match="symbols"):
        recall_accuracy(NgramLM(2, "witten_bell").fit(["a b c"] * 3), k)
