"""lmlab against KenLM's own outputs (../shared/reference/kenlm), without building KenLM.

Tiny Shakespeare, lines 1-36,000 train and 36,001-40,000 test, word level: lmlab's modified-KN
3- and 5-grams must contain exactly lmplz's n-grams with the same log10 probabilities and
backoffs, and score the test set exactly as KenLM's ``query`` did (2,125 OOVs).
"""

from __future__ import annotations

import numpy as np
import pytest

from lmlab.models.ngram.arpa import read_arpa
from lmlab.models.ngram.model import NgramLM
from tests.conftest import read_lines

pytestmark = pytest.mark.peer


@pytest.fixture(scope="module")
def shakes(data_root):
    lines = read_lines(data_root / "tinyshakespeare" / "input.txt")
    assert len(lines) == 40000
    return lines[:36000], lines[36000:]


@pytest.fixture(scope="module", params=[3, 5])
def pair(request, shakes, kenlm_ref):
    order = request.param
    lm = NgramLM(order).fit(shakes[0])
    ref_tables, ref_vocab, _ = read_arpa(kenlm_ref / f"shakes.o{order}.arpa.gz")
    return order, lm, ref_tables, ref_vocab


def test_same_ngrams_and_values_as_lmplz(pair):
    order, lm, ref, ref_vocab = pair
    assert lm.vocab.tokens == ref_vocab.tokens
    assert lm.tables.sizes() == ref.sizes()
    for m in range(1, order + 1):
        assert np.array_equal(lm.tables.keys[m - 1], ref.keys[m - 1]), f"{m}-gram sets differ"
        got = lm.tables.logprob10[m - 1].astype(np.float64)
        want = ref.logprob10[m - 1].astype(np.float64)
        if m == 1:
            got, want = np.delete(got, 1), np.delete(want, 1)  # <s>: -99 vs KenLM's 0
        np.testing.assert_allclose(got, want, atol=1e-5, rtol=0)
        if m < order:
            np.testing.assert_allclose(lm.tables.backoff10[m - 1], ref.backoff10[m - 1], atol=1e-5, rtol=0)


def test_query_matches_kenlm_query(pair, shakes, kenlm_ref):
    order, lm, _, _ = pair
    expected = read_lines(kenlm_ref / f"query.o{order}.txt")
    test = shakes[1]
    enc = [lm.vocab.encode(s.split()) for s in test]
    lp, length, ids = lm.corpus_log10(enc)
    want_lp, want_len, want_ids = [], [], []
    for line in expected[: len(test)]:
        for field in line.split("\t")[:-1]:
            word_id, n, val = field.rsplit(" ", 2)
            want_ids.append(int(word_id.rsplit("=", 1)[1]))
            want_len.append(int(n))
            want_lp.append(float(val))
    assert len(want_lp) == len(lp) == 21893
    assert np.array_equal(ids, want_ids)
    assert np.array_equal(length, want_len)
    np.testing.assert_allclose(lp, want_lp, atol=2e-5, rtol=0)
    summary = dict(line.split(":\t") for line in expected[len(test):])
    from lmlab.eval.perplexity import evaluate

    rep = evaluate(lm, test)
    assert rep.tokens == int(summary["Tokens"])
    assert rep.oovs == int(summary["OOVs"]) == 2125
    assert rep.perplexity == pytest.approx(float(summary["Perplexity including OOVs"]), rel=1e-5)
    assert rep.perplexity_excluding_oovs == pytest.approx(float(summary["Perplexity excluding OOVs"]), rel=1e-5)
