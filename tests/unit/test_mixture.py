"""MixtureLM: normalised, EM never lowers the held-out likelihood, beats its parts."""

from __future__ import annotations

import numpy as np
import pytest

from lmlab.errors import ConfigError, VocabMismatchError
from lmlab.eval.mixture import MixtureLM, em_weights
from lmlab.eval.perplexity import evaluate
from lmlab.models.ngram.model import NgramLM
from lmlab.text.vocab import Vocab


def test_em_monotone_and_hand_case():
    rng = np.random.default_rng(0)
    lp = np.log(rng.dirichlet(np.ones(5), size=(3, 400))[:, :, 0])
    w, hist = em_weights(lp, iters=50, tol=0)
    assert all(b >= a - 1e-12 for a, b in zip(hist, hist[1:], strict=False))
    assert w.sum() == pytest.approx(1.0)
    # one model always better: its weight goes to 1
    lp2 = np.log(np.array([[0.5] * 100, [0.1] * 100]))
    w2, _ = em_weights(lp2, iters=500, tol=0)
    assert w2[0] > 0.99


def test_mixture_of_ngram_models(ptb):
    train, valid, test = ptb["train"][:20000], ptb["valid"][:1000], ptb["test"][:1000]
    vocab = Vocab.build(s.split() for s in train)
    kn = NgramLM(3).fit(train, vocab=vocab)
    wb = NgramLM(2, "witten_bell").fit(train, vocab=vocab)
    mix = MixtureLM.tuned([kn, wb], valid)
    d = mix.next_logprobs([mix.begin_state(), mix.advance(mix.begin_state(), 5)])
    np.testing.assert_allclose(np.exp(d).sum(axis=1), 1.0, atol=1e-6)
    ppl = evaluate(mix, test).perplexity
    assert ppl < evaluate(kn, test).perplexity and ppl < evaluate(wb, test).perplexity
    enc = [vocab.encode(s.split()) for s in test[:20]]
    for s, b in zip(enc, mix.corpus_token_logprobs(enc), strict=True):
        np.testing.assert_allclose(mix.token_logprobs(s), b, atol=1e-9)


def test_mixture_errors():
    a = NgramLM(2, "witten_bell").fit(["a b", "b c"])
    b = NgramLM(2, "witten_bell").fit(["x y"])
    with pytest.raises(VocabMismatchError):
        MixtureLM([a, b])
    with pytest.raises(ConfigError, match="summing to 1"):
        MixtureLM([a, a], [0.5, 0.6])
