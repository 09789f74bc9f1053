"""Generation: exact answers on hand-made distributions and on small models."""

from __future__ import annotations

import numpy as np
import pytest

from lmlab.errors import ConfigError
from lmlab.generate import sampling
from lmlab.generate.decode import generate
from lmlab.models.ngram.model import NgramLM

LP = np.log(np.array([0.05, 0.5, 0.3, 0.1, 0.05]))
TRAIN = ["the cat sat on the mat", "the dog sat on the log", "a cat saw a dog", "the cat ran"] * 3


def test_top_p_keeps_exactly_the_nucleus():
    assert np.isfinite(sampling.top_p(LP, 0.5)).tolist() == [False, True, False, False, False]
    assert np.isfinite(sampling.top_p(LP, 0.8)).tolist() == [False, True, True, False, False]
    assert np.isfinite(sampling.top_p(LP, 0.81)).tolist() == [False, True, True, True, False]
    kept = sampling.top_p(LP, 0.85)
    assert np.exp(kept).sum() == pytest.approx(1.0)
    assert np.exp(kept[1]) == pytest.approx(0.5 / 0.9)


def test_top_k_and_temperature():
    assert np.isfinite(sampling.top_k(LP, 2)).tolist() == [False, True, True, False, False]
    assert sampling.greedy(sampling.top_k(LP, 1)) == 1
    t0 = sampling.apply_temperature(LP, 0)
    assert np.exp(t0).tolist() == [0, 1, 0, 0, 0]
    sharp = sampling.apply_temperature(LP, 0.5)
    assert np.exp(sharp)[1] == pytest.approx(0.25 / (0.0025 * 2 + 0.25 + 0.09 + 0.01))
    with pytest.raises(ConfigError):
        sampling.top_p(LP, 0)


@pytest.fixture(scope="module")
def lm():
    return NgramLM(3, "witten_bell").fit(TRAIN)


def test_greedy_matches_argmax(lm):
    g = generate(lm, "the", greedy=True, max_tokens=8)
    state = lm.begin_state()
    state = lm.advance(state, lm.vocab.lookup("the"))
    for tok in g.tokens:
        lp = lm.next_logprobs([state])[0]
        lp[[0, 1]] = -np.inf  # <unk>, <s> are never emitted
        assert lm.vocab[int(np.argmax(lp))] == tok
        state = lm.advance(state, lm.vocab.lookup(tok))
    assert generate(lm, "the", top_k=1, seed=3, max_tokens=8).tokens == g.tokens
    assert generate(lm, "the", temperature=0, seed=5, max_tokens=8).tokens == g.tokens


def test_seeded_sampling_and_possible_tokens(lm):
    a = generate(lm, "the cat", seed=11, max_tokens=20, stop_at_eos=False)
    assert a == generate(lm, "the cat", seed=11, max_tokens=20, stop_at_eos=False)
    assert len(a.tokens) == 20 and not {"<unk>", "<s>", "</s>"} & set(a.tokens) and not a.stopped
    # each log-probability is the model's, for that token after the prompt and the tokens before it
    state = lm.advance(lm.advance(lm.begin_state(), lm.vocab.lookup("the")), lm.vocab.lookup("cat"))
    for tok, lp in zip(a.tokens, a.logprobs, strict=True):
        assert lp == lm.next_logprobs([state])[0, lm.vocab.lookup(tok)]
        state = lm.advance(state, lm.vocab.lookup(tok))


def test_sampling_follows_the_model_distribution(lm):
    """Over many seeds, the first sampled token after "the" has the model's distribution, with
    <unk> and <s> removed and the rest renormalised (</s> ends the generation at once)."""
    state = lm.advance(lm.begin_state(), lm.vocab.lookup("the"))
    p = np.exp(sampling.ban(lm.next_logprobs([state])[0], {0, 1}))
    n = 3000
    counts = np.zeros(len(lm.vocab))
    for s in range(n):
        g = generate(lm, "the", seed=s, max_tokens=1)
        counts[lm.vocab.lookup(g.tokens[0]) if g.tokens else 2] += 1
        assert g.stopped == (not g.tokens)
    freq = counts / n
    assert counts[[0, 1]].sum() == 0
    np.testing.assert_array_less(np.abs(freq - p), 4.5 * np.sqrt(p * (1 - p) / n) + 1e-9)
    assert (counts > 0).sum() >= 5  # several words are possible after "the", and each is drawn


def test_top_p_sampling_stays_in_nucleus(lm):
    for s in range(30):
        g = generate(lm, "the", seed=s, top_p=0.3, max_tokens=1, stop_at_eos=False)
        state = lm.advance(lm.begin_state(), lm.vocab.lookup("the"))
        lp = sampling.ban(lm.next_logprobs([state])[0], {0, 1, 2})
        assert np.isfinite(sampling.top_p(lp, 0.3)[lm.vocab.lookup(g.tokens[0])])
