"""The contract every registered LanguageModel must pass (STYLE principle 13).

Parametrized automatically over every smoothing method and form in the registry, so a new
smoother is checked the day it is registered.  Normalised models: every next-token distribution
sums to 1 and ``<s>`` is never predicted.  Every model: stepwise scoring == batch scoring,
the sum of token scores == the sentence score, ARPA write -> read gives identical scores.
Scorers that are not normalised (MLE, stupid backoff) are checked for what they promise.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from lmlab.models.ngram.model import NgramLM
from lmlab.models.ngram.smoothing.registry import SMOOTHERS

TRAIN = [
    "the cat sat on the mat",
    "the dog sat on the log",
    "a cat and a dog",
    "",
    "the cat saw the dog",
    "the mat is on the floor",
    "a dog saw a cat on the mat",
    "the dog and the cat sat",
]
TEST = ["the cat sat on the log", "a bird sat", "", "the the the", "dog"]

CASES = [
    (name, interp, order)
    for name, spec in SMOOTHERS.items()
    for interp in spec.forms
    for order in (1, 2, 3, 4)
]


def _fit(name, interp, order):
    return NgramLM(order, name, interpolate=interp, discount_fallback=(0.5, 1.0, 1.5)).fit(TRAIN)


def _contexts(lm):
    v = lm.vocab
    ids = [v.lookup(w) for w in "the cat sat on a dog bird".split()]
    ctxs = [lm.begin_state(), lm.null_state()]
    st = lm.begin_state()
    for i in ids:
        st = lm.advance(st, i)
        ctxs.append(st)
    ctxs.append(lm.advance(lm.advance(lm.null_state(), ids[4]), ids[6]))
    return ctxs


@pytest.mark.parametrize(("name", "interp", "order"), CASES)
def test_distributions(name, interp, order):
    lm = _fit(name, interp, order)
    dists = lm.next_logprobs(_contexts(lm))
    assert dists.shape == (len(_contexts(lm)), len(lm.vocab))
    assert np.all(np.isneginf(dists[:, lm.vocab.bos_id])), "<s> must never be predicted"
    sums = np.exp(dists).sum(axis=1)
    if lm.normalized:
        np.testing.assert_allclose(sums, 1.0, atol=1e-6)
    elif name == "mle":
        # MLE promises a distribution in every context it has seen in full (here: after <s>).
        assert sums[0] == pytest.approx(1.0, abs=1e-6)
    else:  # stupid backoff: scores, each at most 1, relative frequencies at the top order
        assert np.all(np.exp(dists) <= 1.0 + 1e-6)


@pytest.mark.parametrize(("name", "interp", "order"), CASES)
def test_stepwise_equals_batch_and_sentence_score(name, interp, order):
    lm = _fit(name, interp, order)
    sents = [lm.vocab.encode(s.split()) for s in TEST]
    batch = lm.corpus_token_logprobs(sents)
    for s, b in zip(sents, batch, strict=True):
        step = lm.token_logprobs(s)
        np.testing.assert_allclose(step, b, rtol=0, atol=1e-9)
        assert len(b) == len(s) + 1  # every word and one </s>
    for text, b in zip(TEST, batch, strict=True):
        assert lm.sentence_logprob(text) == pytest.approx(float(np.sum(b)), abs=1e-9)


@pytest.mark.parametrize(("name", "interp", "order"), [c for c in CASES if c[0] != "stupid_backoff"])
def test_arpa_round_trip_identical(name, interp, order, tmp_path):
    lm = _fit(name, interp, order)
    path = tmp_path / "m.arpa.gz"
    lm.to_arpa(path)
    back = NgramLM.from_arpa(path)
    assert back.vocab.tokens == lm.vocab.tokens
    for m in range(order):
        assert np.array_equal(back.tables.keys[m], lm.tables.keys[m])
        assert np.array_equal(back.tables.logprob10[m], lm.tables.logprob10[m])
        assert np.array_equal(back.tables.backoff10[m], lm.tables.backoff10[m])
    sents = [lm.vocab.encode(s.split()) for s in TEST]
    for a, b in zip(lm.corpus_token_logprobs(sents), back.corpus_token_logprobs(sents), strict=True):
        assert np.array_equal(a, b)


def test_perplexity_refused_for_scorers():
    from lmlab.errors import NotNormalizedError

    lm = NgramLM(3, "stupid_backoff").fit(TRAIN)
    with pytest.raises(NotNormalizedError, match="not probabilities"):
        lm.perplexity(TEST)


def test_generate_is_seeded_and_only_emits_possible_words():
    lm = NgramLM(3, discount_fallback=(0.5, 1.0, 1.5)).fit(TRAIN)
    a = lm.generate(20, random_seed=7)
    assert a == lm.generate(20, random_seed=7)
    assert "<s>" not in a
    state = lm.begin_state()
    for w in a:
        lp, state = lm.step(state, lm.vocab.lookup(w))
        assert math.isfinite(lp)
        if w == "</s>":
            state = lm.begin_state()


def test_stupid_backoff_refuses_arpa(tmp_path):
    from lmlab.errors import LmlabError

    lm = NgramLM(3, "stupid_backoff").fit(TRAIN)
    with pytest.raises(LmlabError, match="cannot be written as ARPA"):
        lm.to_arpa(tmp_path / "sb.arpa")
    assert not (tmp_path / "sb.arpa").exists()


@pytest.mark.parametrize(("name", "interp", "order"), CASES)
def test_compiled_scorer_equals_numpy_reference(name, interp, order):
    from lmlab.text.vocab import flatten_ids

    lm = _fit(name, interp, order)
    ids, starts = flatten_ids([lm.vocab.encode(s.split()) for s in TEST + TRAIN])
    a, al = lm.tables.score_flat(ids, starts)
    b, bl = lm.tables.score_flat_numpy(ids, starts)
    assert np.array_equal(al, bl)
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
