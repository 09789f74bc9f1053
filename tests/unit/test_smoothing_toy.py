"""Every smoother on a corpus small enough to work out on paper (lmlab's default conventions).

Corpus (3 lines):  a b a  /  b a c  /  a c
    sentences   <s> a b a </s>    <s> b a c </s>    <s> a c </s>
    predicted unigrams (N = 11):  a 4, b 2, c 2, </s> 3        (<s> is never predicted)
    bigrams:  <s> a 2, <s> b 1, a b 1, a </s> 1, a c 2, b a 2, c </s> 2
    vocabulary: <unk> <s> </s> a b c   ->  |V| without <s> = 5
    after "a": b 1, </s> 1, c 2  (total 4, 3 types)
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from lmlab.models.ngram.model import NgramLM
from tests.conftest import TOY


def p(lm, word, context):
    return math.exp(lm.logprob(word, context))


def test_counts():
    lm = NgramLM(2, "witten_bell").fit(TOY)
    c = lm.ngram_counts
    v = lm.vocab
    assert {v[i]: int(n) for i, n in enumerate(c.count[0]) if n} == {"<s>": 3, "</s>": 3, "a": 4, "b": 2, "c": 2}
    bigrams = {" ".join(v.decode(w)): int(n) for w, n in zip(c.ngram_words(2, range(len(c.count[1]))), c.count[1],
                                                              strict=True)}
    assert bigrams == {"<s> a": 2, "<s> b": 1, "a b": 1, "a </s>": 1, "a c": 2, "b a": 2, "c </s>": 2}


def test_counts_by_words_as_nltk():
    c = NgramLM(2, "witten_bell").fit(TOY).counts
    assert (c["a"], c["<s>"], c["zebra"]) == (4, 3, 0)
    assert c[["a"]] == {"b": 1, "</s>": 1, "c": 2} and c[["a"]]["c"] == 2 and c[["a"]]["zebra"] == 0
    assert c[2][("a",)] == c[["a"]] and c[["a"]].N() == 4 and c[["a"]].freq("c") == 0.5
    assert c[["zebra"]] == {} and ("zebra",) not in c[2] and ("a",) in c[2]
    assert set(c[2]) == {("<s>",), ("a",), ("b",), ("c",)}
    assert dict(c[1]) == dict(c.unigrams) == {"<s>": 3, "</s>": 3, "a": 4, "b": 2, "c": 2}
    assert c.N() == 14 + 11 and len(c) == 2 and 2 in c and 3 not in c


def test_witten_bell():
    lm = NgramLM(2, "witten_bell").fit(TOY)
    # unigrams: c(w)/(N + T) + gamma0/|V|, T = 4 types, gamma0 = 4/15
    assert p(lm, "a", []) == pytest.approx(4 / 15 + (4 / 15) / 5, rel=1e-6)
    assert p(lm, "<unk>", []) == pytest.approx((4 / 15) / 5, rel=1e-6)
    # after "a": gamma = 3/(4+3); p(c|a) = 2/7 + 3/7 * p(c) with p(c) = 2/15 + 4/75 = 14/75
    assert p(lm, "c", ["a"]) == pytest.approx(2 / 7 + 3 / 7 * 14 / 75, rel=1e-6)
    assert p(lm, "zebra", ["a"]) == pytest.approx(3 / 7 * 4 / 75, rel=1e-6)


def test_absolute_discounting():
    lm = NgramLM(2, "absolute_discounting", discount=0.5).fit(TOY)
    # unigrams: (c - 0.5)/11 + gamma0/5, gamma0 = 0.5 * 4/11
    p_c = 1.5 / 11 + (2 / 11) / 5
    assert p(lm, "c", []) == pytest.approx(p_c, rel=1e-6)
    # after "a": (2 - 0.5)/4 + (0.5 * 3/4) p(c)
    assert p(lm, "c", ["a"]) == pytest.approx(1.5 / 4 + 0.375 * p_c, rel=1e-6)


def test_kneser_ney():
    lm = NgramLM(2, "kneser_ney", discount=0.5).fit(TOY)
    # continuation counts: a {<s>, b} 2, b {<s>, a} 2, c {a} 1, </s> {a, c} 2; total 7
    p_c = (1 - 0.5) / 7 + (0.5 * 4 / 7) / 5
    assert p(lm, "c", []) == pytest.approx(p_c, rel=1e-6)
    assert p(lm, "c", ["a"]) == pytest.approx(1.5 / 4 + 0.375 * p_c, rel=1e-6)
    # "<s> b" starts with <s>: highest order here, raw count 1 of 3 after <s>
    p_b = (2 - 0.5) / 7 + (0.5 * 4 / 7) / 5
    assert p(lm, "b", ["<s>"]) == pytest.approx(0.5 / 3 + (0.5 * 2 / 3) * p_b, rel=1e-6)


def test_estimated_discounts():
    lm = NgramLM(2, "kneser_ney").fit(TOY)
    # bigram counts-of-counts: n1 = 3, n2 = 4 -> D = 3 / (3 + 8)
    assert lm.discounts[1][1] == pytest.approx(3 / 11)


def test_good_turing_katz():
    lm = NgramLM(2, "good_turing").fit(TOY)
    # Unigrams: no word seen once, so one is assumed: P0 = 1/11 for the unseen words, spread over
    # the 5 words of |V| (interpolate_unigrams); the seen words keep 10/11 of their frequency.
    p_uni = {w: 10 / 11 * c / 11 + (1 / 11) / 5 for w, c in {"a": 4, "b": 2, "c": 2, "</s>": 3}.items()}
    assert p(lm, "a", []) == pytest.approx(p_uni["a"], rel=1e-6)
    assert p(lm, "<unk>", []) == pytest.approx((1 / 11) / 5, rel=1e-6)
    # Bigram Katz discounts are undefined here (r* > r), so Katz keeps the counts, and each context
    # keeps 1/(c(h) + 1) for its unseen words: after "a" (b 1, </s> 1, c 2): p(c|a) = 2/4 * 4/5.
    assert p(lm, "c", ["a"]) == pytest.approx(2 / 4 * 4 / 5, rel=1e-6)
    assert p(lm, "b", ["<s>"]) == pytest.approx(1 / 3 * 3 / 4, rel=1e-6)
    # ... which the backoff weight passes on: bow(a) = (1/5) / (1 - p(b) - p(</s>) - p(c))
    bow_a = (1 / 5) / (1 - p_uni["b"] - p_uni["</s>"] - p_uni["c"])
    assert p(lm, "<unk>", ["a"]) == pytest.approx(bow_a * (1 / 11) / 5, rel=1e-6)
    assert p(lm, "zebra", ["a"]) == p(lm, "<unk>", ["a"])
    dist = np.exp(lm.next_logprobs([lm.begin_state(), lm.advance(lm.null_state(), lm.vocab.lookup("a")), lm.null_state()]))
    np.testing.assert_allclose(dist.sum(axis=1), 1.0, atol=1e-6)


@pytest.mark.parametrize("interpolate", [False, True])
def test_good_turing_unseen_word_mass_is_goods_estimate(interpolate):
    # N = 13 predicted tokens (a 4, b 2, c 2, d 1, </s> 4); one word seen once: P0 = n1/N = 1/13.
    corpus = [*TOY, "d"]
    lm = NgramLM(1, "good_turing", interpolate=interpolate).fit(corpus)
    assert p(lm, "a", []) == pytest.approx(12 / 13 * 4 / 13 + (1 / 13) / 6, rel=1e-6)  # |V| = 6 without <s>
    assert p(lm, "zebra", []) == pytest.approx((1 / 13) / 6, rel=1e-6)
    srilm = NgramLM(1, "good_turing", interpolate=interpolate, interpolate_unigrams=False).fit(corpus)
    assert p(srilm, "zebra", []) == pytest.approx(1 / 13, rel=1e-6)  # SRILM: the left-over mass to <unk>
    assert p(srilm, "d", []) == pytest.approx(12 / 13 * 1 / 13, rel=1e-6)


def test_good_turing_discounts_by_hand():
    from lmlab.models.ngram.smoothing.good_turing import katz_discounts
    import numpy as np

    # counts-of-counts n1..n4 = 10, 5, 2, 1 with k = 3: common = 4 n4/n1 = 0.4
    c = np.array([1] * 10 + [2] * 5 + [3] * 2 + [4])
    d = katz_discounts(c, 3)
    # d1 = (r*/r - 0.4)/(1 - 0.4), r* = 2 * 5/10 = 1
    assert d[1] == pytest.approx((1.0 - 0.4) / 0.6)
    assert d[2] == pytest.approx((3 * 2 / 5 / 2 - 0.4) / 0.6)
    assert d[3] == pytest.approx((4 * 1 / 2 / 3 - 0.4) / 0.6)


def test_additive():
    lm = NgramLM(2, "additive", k=1.0).fit(TOY)  # Laplace
    assert p(lm, "c", ["a"]) == pytest.approx(3 / 9, rel=1e-6)  # (2 + 1)/(4 + 5)
    assert p(lm, "zebra", ["a"]) == pytest.approx(1 / 9, rel=1e-6)
    assert p(lm, "a", ["<s>"]) == pytest.approx(3 / 8, rel=1e-6)  # (2 + 1)/(3 + 5)
    lid = NgramLM(2, "additive", k=0.5).fit(TOY)  # Lidstone
    assert p(lid, "c", ["a"]) == pytest.approx(2.5 / 6.5, rel=1e-6)


def test_mle():
    lm = NgramLM(2, "mle").fit(TOY)
    assert p(lm, "c", ["a"]) == pytest.approx(0.5, rel=1e-6)
    assert p(lm, "b", ["a"]) == pytest.approx(0.25, rel=1e-6)
    assert p(lm, "zebra", ["a"]) < 1e-90  # 0: MLE gives unseen events nothing


def test_stupid_backoff():
    lm = NgramLM(2, "stupid_backoff").fit(TOY)
    assert p(lm, "c", ["a"]) == pytest.approx(0.5, rel=1e-6)
    assert p(lm, "b", ["c"]) == pytest.approx(0.4 * 2 / 11, rel=1e-6)  # backoff: 0.4 * c(b)/N
    assert not lm.normalized
