"""The memory-lean estimation path gives what the plain one gives: the streamed encoding equals
building the vocabulary then encoding, the narrow count dtypes hold the same values, and a fitted
model's counts (recounted on demand) equal counting the text."""

from __future__ import annotations

import numpy as np
import pytest

from lmlab.counts.ngram_counts import count_ngrams, index_dtype
from lmlab.models.ngram.model import NgramLM
from lmlab.text.vocab import Vocab, encode_corpus, encode_text

LINES = ["the cat sat", "", "a <s> dog </s> the cat", "the dog sat on the mat", "<unk> mat cat", "x y z x"]


@pytest.mark.parametrize("batch_lines", [1, 2, 4096])
@pytest.mark.parametrize("limits", [{}, {"min_count": 2}, {"max_size": 6}])
def test_streamed_encoding_equals_build_then_encode(batch_lines, limits):
    toks = [ln.split() for ln in LINES]
    want_vocab = Vocab.build(toks, **limits)
    want_ids, want_starts = encode_corpus(want_vocab, toks)
    vocab, ids, starts = encode_text(iter(LINES), str.split, **limits, batch_lines=batch_lines)
    assert vocab.tokens == want_vocab.tokens
    assert ids.dtype == want_ids.dtype and np.array_equal(ids, want_ids) and np.array_equal(starts, want_starts)
    given, ids2, _ = encode_text(toks, str.split, want_vocab, n_bos=2, n_eos=2, batch_lines=batch_lines)
    assert given is want_vocab and np.array_equal(ids2, encode_corpus(want_vocab, toks, n_bos=2, n_eos=2)[0])


def test_no_sentences_give_no_vocabulary():
    vocab, ids, starts = encode_text([], str.split)
    assert vocab is None and len(ids) == 0 and starts.tolist() == [0]


def test_index_dtype_widens_past_int32():
    assert index_dtype(10) == np.int32 and index_dtype(2**31 - 2) == np.int32
    assert index_dtype(2**31 - 1) == np.int64 and index_dtype(2**40) == np.int64


def test_narrow_counts_hold_the_int64_values():
    toks = [ln.split() for ln in LINES * 3]
    vocab = Vocab.build(toks)
    ids, starts = encode_corpus(vocab, toks)
    narrow = count_ngrams(ids, starts, 4, len(vocab))
    wide = count_ngrams(ids.astype(np.int64), starts, 4, len(vocab))
    for f in ("prefix", "suffix", "count"):
        for a, b in zip(getattr(narrow, f), getattr(wide, f), strict=True):
            assert a.dtype == np.int32 and np.array_equal(a, b)
    assert narrow.count[1].sum() == sum(max(len(t) + 1, 1) for t in toks)  # every bigram, </s> included


def test_fitted_counts_are_recounted_equal():
    lm = NgramLM(3, "witten_bell").fit(LINES)
    assert lm._counts is None  # noqa: SLF001 - only the corpus ids are kept after fitting
    c = lm.ngram_counts
    toks = [ln.split() for ln in LINES]
    want = count_ngrams(*encode_corpus(lm.vocab, toks), 3, len(lm.vocab))
    for f in ("keys", "prefix", "word", "suffix", "count", "bos_first"):
        for a, b in zip(getattr(c, f), getattr(want, f), strict=True):
            assert np.array_equal(a, b), f
    assert lm.counts[["the"]]["cat"] == 2 and lm.ngram_counts is c
