"""The LanguageModel contract for every neural model (the same checks as the n-gram models)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from lmlab.eval.perplexity import evaluate  # noqa: E402
from lmlab.models.neural.adapter import TorchLM  # noqa: E402
from lmlab.models.neural.build import build_model  # noqa: E402
from lmlab.models.neural.checkpoint import save_model  # noqa: E402
from lmlab.models.neural.config import CELLS, RNNLMConfig, WindowLMConfig  # noqa: E402
from lmlab.text.vocab import Vocab  # noqa: E402

TRAIN = [s.split() for s in ["the cat sat", "a dog saw the cat", "the mat", ""]]
TEST = ["the cat sat on the mat", "", "dog", "zebra the"]
VOCAB = Vocab.build(TRAIN)
CONFIGS = [RNNLMConfig(vocab_size=len(VOCAB), emsize=6, nhid=6, nlayers=2, cell=c, dropout=0.1,
                       tied=(c == "lstm")) for c in CELLS] + [WindowLMConfig(vocab_size=len(VOCAB), context=3,
                                                                              emsize=4, nhid=5, direct=True)]


@pytest.fixture(params=CONFIGS, ids=lambda c: getattr(c, "cell", c.kind))
def lm(request):
    torch.manual_seed(1)
    return TorchLM(build_model(request.param), request.param, VOCAB)


def test_distributions_sum_to_one(lm):
    states = [lm.begin_state(), lm.null_state(), lm.advance(lm.begin_state(), 3)]
    d = lm.next_logprobs(states)
    np.testing.assert_allclose(np.exp(d).sum(axis=1), 1.0, atol=1e-9)
    assert np.all(np.isneginf(d[:, VOCAB.bos_id]))


def test_stepwise_equals_batch(lm):
    sents = [VOCAB.encode(s.split()) for s in TEST]
    batch = lm.corpus_token_logprobs(sents)
    for s, b in zip(sents, batch, strict=True):
        assert len(b) == len(s) + 1
        np.testing.assert_allclose(lm.token_logprobs(s), b, rtol=0, atol=1e-5)
    for text, b in zip(TEST, batch, strict=True):
        assert lm.sentence_logprob(text) == pytest.approx(float(b.sum()), abs=1e-5)


def test_states_hash_by_history(lm):
    a = lm.advance(lm.begin_state(), 3)
    b = lm.advance(lm.begin_state(), 3)
    assert a == b and hash(a) == hash(b) and a != lm.begin_state()


def test_save_load_identical(lm, tmp_path):
    save_model(tmp_path / "m", lm.model, lm.config, VOCAB)
    back = TorchLM.load(tmp_path / "m")
    sents = [VOCAB.encode(s.split()) for s in TEST]
    for a, b in zip(lm.corpus_token_logprobs(sents), back.corpus_token_logprobs(sents), strict=True):
        assert np.array_equal(a, b)
    assert evaluate(back, TEST).perplexity == pytest.approx(evaluate(lm, TEST).perplexity, rel=1e-12)


def test_advance_many_equals_advance(lm):
    """The batched step of a beam search gives the states one step at a time gives."""
    s0 = lm.begin_state()
    states = [s0, lm.advance(s0, 3), lm.advance(lm.advance(s0, 4), 5), lm.null_state()]
    tokens = [3, 4, 5, 6]
    many = lm.advance_many(states, tokens)
    one = [lm.advance(s, t) for s, t in zip(states, tokens, strict=True)]
    assert [m.tokens for m in many] == [o.tokens for o in one]
    np.testing.assert_allclose(lm.next_logprobs(many), lm.next_logprobs(one), rtol=0, atol=1e-6)
    if lm._np is not None:  # the batched numpy path was taken
        for m, o in zip(many, one, strict=True):
            for a, b in zip(m.hidden, o.hidden, strict=True):
                assert a.shape == b.shape
                np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)


def test_scoring_in_chunks_equals_scoring_at_once(lm, monkeypatch):
    """Long texts over big vocabularies are scored a few rows of log-probabilities at a time
    (bounded memory); the result does not depend on the chunk size."""
    sents = [VOCAB.encode(s.split()) for s in TEST]
    whole = lm.corpus_token_logprobs(sents)
    monkeypatch.setattr(type(lm), "SCORE_CHUNK", 3 * len(VOCAB))  # three rows at a time
    for a, b in zip(whole, lm.corpus_token_logprobs(sents), strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)  # float32 products over other row counts
