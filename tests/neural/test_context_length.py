"""Context-length curves (lmlab.diagnostics.context): a long enough k is the full-history value for
every kind of model, an n-gram's order bounds it, and cut histories match hand values and the
model's own states."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from lmlab.diagnostics.context import context_bound, context_curve, truncated_logprobs
from lmlab.models.ngram.model import NgramLM
from lmlab.models.ngram.model_files import load_arpa
from lmlab.models.neural.adapter import TorchLM
from lmlab.models.neural.config import RNNLMConfig, WindowLMConfig
from lmlab.models.neural.build import build_model
from lmlab.text.vocab import Vocab

LINES = ["a b c a", "b b a c c a b", "c", "a c b a b c a b c", ""]
WORDS = ["a", "b", "c"]
LN10 = math.log(10)


def vocab() -> Vocab:
    return Vocab.from_tokens(WORDS)


def sentences(lm) -> list[np.ndarray]:
    return [lm.encode(x) for x in LINES]


def full(lm) -> np.ndarray:
    return np.concatenate(lm.corpus_token_logprobs(sentences(lm)))


def rnn(cell: str = "lstm") -> TorchLM:
    torch.manual_seed(0)
    v = vocab()
    cfg = RNNLMConfig(vocab_size=len(v), emsize=4, nhid=5, nlayers=2, cell=cell, dropout=0.0)
    return TorchLM(build_model(cfg).double(), cfg, v)


def window() -> TorchLM:
    torch.manual_seed(0)
    v = vocab()
    cfg = WindowLMConfig(vocab_size=len(v), emsize=4, nhid=5, context=3, dropout=0.0)
    return TorchLM(build_model(cfg).double(), cfg, v)


def ngram(order: int) -> NgramLM:
    return NgramLM(order, "witten_bell").fit(LINES)


LONGEST = max(len(x.split()) for x in LINES) + 1  # <s> and every word


@pytest.mark.parametrize("make", [lambda: rnn("lstm"), lambda: rnn("gru_cho"), window, lambda: ngram(3)])
def test_a_context_at_least_the_longest_history_is_the_full_value(make):
    lm = make()
    want = full(lm)
    for k in (LONGEST, LONGEST + 7):
        np.testing.assert_allclose(truncated_logprobs(lm, sentences(lm), k, use_bound=False), want, rtol=1e-10)
    rec = context_curve("m", lm, sentences(lm), [1, LONGEST])
    assert rec[-1]["perplexity"] == pytest.approx(rec[-1]["full_perplexity"], rel=1e-10) and rec[-1]["cut"] == 0
    assert rec[0]["cut"] == sum(len(x.split()) for x in LINES)  # every prediction but the first of each line
    assert rec[0]["tokens"] == sum(len(x.split()) + 1 for x in LINES)


@pytest.mark.parametrize("order", [2, 3, 4])
def test_an_ngrams_order_bounds_its_context(order):
    lm = ngram(order)
    assert context_bound(lm) == order - 1
    want = full(lm)
    for k in range(order - 1, order + 2):  # recomputed through the states, not taken from the bound
        np.testing.assert_allclose(truncated_logprobs(lm, sentences(lm), k, use_bound=False), want, rtol=1e-12)
    shorter = truncated_logprobs(lm, sentences(lm), order - 2, use_bound=False)
    assert not np.allclose(shorter, want)
    np.testing.assert_array_equal(truncated_logprobs(lm, sentences(lm), order - 2), shorter)


ARPA = """\\data\\
ngram 1=6
ngram 2=3
ngram 3=1

\\1-grams:
-1.0\t<unk>\t0
-99\t<s>\t-0.3
-0.5\t</s>\t0
-0.6\ta\t-0.2
-0.7\tb\t-0.1
-0.8\tc\t0

\\2-grams:
-0.2\t<s> a\t-0.05
-0.4\ta b\t-0.15
-0.3\tb </s>

\\3-grams:
-0.1\t<s> a b

\\end\\
"""


def test_hand_values_of_a_trigram(tmp_path):
    path = tmp_path / "hand.arpa"
    path.write_text(ARPA)
    lm = load_arpa(path)
    sent = [lm.encode("a b")]
    hand = {  # log10 P(a | ...), P(b | ...), P(</s> | ...)
        None: [-0.2, -0.1, -0.15 - 0.3],  # full: <s> a, <s> a b, backoff(a b) + P(</s> | b)
        1: [-0.2, -0.4, -0.3],  # one token: P(a | <s>), P(b | a), P(</s> | b)
        0: [-0.6, -0.7, -0.5],  # none: unigrams
    }
    np.testing.assert_allclose(np.concatenate(lm.corpus_token_logprobs(sent)),
                               np.array(hand[None]) * LN10, rtol=1e-6)
    for k in (1, 0):
        got = truncated_logprobs(lm, sent, k)
        np.testing.assert_allclose(got, np.array(hand[k]) * LN10, rtol=1e-6)


@pytest.mark.parametrize("cell", ["lstm", "rnn_tanh", "gru"])
def test_recurrent_fast_path_is_the_models_own_states(cell, monkeypatch):
    """The batched re-run of each window equals reading the window token by token through the
    LanguageModel states (numpy stepper) and ln P(target | window) by hand (lm.logprob)."""
    lm = rnn(cell)
    sents = sentences(lm)
    fast = truncated_logprobs(lm, sents, 2)
    import lmlab.diagnostics.context as ctx

    monkeypatch.setattr(ctx, "COLUMNS", 3)  # several chunks
    np.testing.assert_allclose(truncated_logprobs(lm, sents, 2), fast, rtol=1e-12)
    words = LINES[1].split()  # 'b b a c c a b': the prediction of words[4] reads words[2:4] only
    offset = len(LINES[0].split()) + 1
    assert fast[offset + 4] == pytest.approx(lm.logprob(words[4], words[2:4]), rel=1e-5)
    assert fast[offset + len(words)] == pytest.approx(lm.logprob("</s>", words[-2:]), rel=1e-5)
    # the first two predictions of a line have histories of 1 and 2 tokens: not cut
    np.testing.assert_array_equal(fast[offset : offset + 2], full(lm)[offset : offset + 2])


def test_mixture_and_window_bounds():
    from lmlab.models.mixture import MixtureLM

    assert context_bound(window()) == 3 and context_bound(rnn()) is None
    assert context_bound(MixtureLM([ngram(2), ngram(4)])) == 3
    assert context_bound(MixtureLM([ngram(2), rnn()])) is None
