"""Modified Kneser-Ney on KenLM's toy corpus, against hand-computed values and KenLM's own ARPA.

The toy corpus (6 lines, one empty) is ../shared/reference/kenlm/toy.txt.  Its unigram
continuation counts (distinct left neighbours, <s> included) are:
    the 3 (<s>, on, saw)   </s> 5 (mat, log, dog, <s>, floor)
    cat, sat, on, dog, a 2      mat, log, and, saw, is, floor 1
so the total is 24 and the counts-of-counts are t1 = 6, t2 = 5, t3 = 1, t4 = 0 (</s> has 5):
    Y = 6 / (6 + 2*5) = 0.375
    D1 = 1 - 2 Y t2/t1 = 0.375    D2 = 2 - 3 Y t3/t2 = 1.775    D3+ = 3 - 4 Y t4/t3 = 3
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from lmlab.models.ngram.arpa import read_arpa
from lmlab.models.ngram.model import NgramLM
from tests.conftest import read_lines


@pytest.fixture(scope="module")
def toy_lm(kenlm_ref):
    return NgramLM(3, discount_fallback=(0.5, 1.0, 1.5)).fit(read_lines(kenlm_ref / "toy.txt"))


def test_unigram_discounts_by_hand(toy_lm):
    assert toy_lm.discounts[0][1:] == pytest.approx([0.375, 1.775, 3.0], abs=1e-12)
    # Orders 2 and 3 have no n-gram with adjusted count 3 -> KenLM's fallback discounts.
    assert toy_lm.discounts[1][1:].tolist() == [0.5, 1.0, 1.5]


def test_unigram_probabilities_by_hand(toy_lm):
    gamma = (0.375 * 6 + 1.775 * 5 + 3.0 * 2) / 24  # left-over unigram mass
    uniform = gamma / 14  # 13 words + <unk>, <s> excluded
    expect = {
        "the": (3 - 3.0) / 24 + uniform,
        "cat": (2 - 1.775) / 24 + uniform,
        "mat": (1 - 0.375) / 24 + uniform,
        "</s>": (5 - 3.0) / 24 + uniform,
        "<unk>": uniform,
    }
    for word, p in expect.items():
        assert toy_lm.score(word) == pytest.approx(p, rel=1e-6), word


def test_bigram_backoff_by_hand(toy_lm):
    # "the" is followed by cat(1 left ext.: <s>), mat(2: on, <s>), dog(2), log(1), floor(1):
    # gamma(the) = (0.5*3 + 1.0*2) / 7 = 0.5
    t = toy_lm.tables
    the = toy_lm.vocab.lookup("the")
    assert 10 ** float(t.backoff10[0][the]) == pytest.approx(0.5, rel=1e-6)


def test_matches_kenlm_arpa_exactly(toy_lm, kenlm_ref):
    ref, ref_vocab, _ = read_arpa(kenlm_ref / "toy.o3.arpa")
    assert toy_lm.vocab.tokens == ref_vocab.tokens  # same ids: first-appearance order, as lmplz
    assert toy_lm.tables.sizes() == ref.sizes()
    for m in range(1, 4):
        assert np.array_equal(toy_lm.tables.keys[m - 1], ref.keys[m - 1])
        got, want = toy_lm.tables.logprob10[m - 1], ref.logprob10[m - 1]
        if m == 1:  # <s>: KenLM writes 0, lmlab -99 (never predicted either way)
            got, want = np.delete(got, 1), np.delete(want, 1)
        np.testing.assert_allclose(got, want, atol=2e-7)
        if m < 3:
            np.testing.assert_allclose(toy_lm.tables.backoff10[m - 1], ref.backoff10[m - 1], atol=2e-7)


def test_query_matches_kenlm_query_output(toy_lm, kenlm_ref):
    lines = read_lines(kenlm_ref / "toytest.txt")
    expected = read_lines(kenlm_ref / "toy.query.txt")
    enc = [toy_lm.vocab.encode(s.split()) for s in lines]
    lp, length, ids = toy_lm.corpus_log10(enc)
    pos = 0
    for line, exp in zip(lines, expected, strict=False):
        fields = exp.split("\t")[:-1]
        for f in fields:
            word_id, n, val = f.split(" ")
            assert int(word_id.rsplit("=", 1)[1]) == ids[pos]
            assert int(n) == length[pos]
            assert lp[pos] == pytest.approx(float(val), abs=1e-6)
            pos += 1
    assert pos == len(lp) == 12
    ppl = 10 ** (-lp.sum() / len(lp))
    assert ppl == pytest.approx(4.496275899691412, rel=1e-6)
    assert math.isclose(toy_lm.perplexity(lines), ppl, rel_tol=1e-12)
