"""Completion for predictive typing: exact top-k, prefix filter, and character-model word completion
against brute-force enumeration."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from lmlab.generate.complete import _prefix_ids, complete, complete_text, complete_word
from lmlab.models.ngram.model import NgramLM
from lmlab.text.specials import BOS_ID, EOS_ID, UNK_ID
from lmlab.text.tokenize import Tokenizer
from lmlab.text.vocab import Vocab

WORDS = ["the cat sat on the mat", "the car is red", "a cart and a cat", "the cat ate the carrot", "über café"]


@pytest.fixture(scope="module")
def word_lm():
    return NgramLM(3, "witten_bell").fit(WORDS)


@pytest.fixture(scope="module")
def char_lm():
    return NgramLM(3, "witten_bell", tokenizer=Tokenizer(kind="character")).fit(WORDS)


def test_complete_is_the_exact_top_k(word_lm):
    lp = word_lm.next_logprobs([word_lm.advance(word_lm.begin_state(), word_lm.vocab.lookup("the"))])[0]
    # ties (equal probabilities) go to the lower id
    want = sorted(((lp[i], word_lm.vocab[i], i) for i in range(len(lp)) if i not in (BOS_ID, EOS_ID, UNK_ID)),
                  key=lambda x: (-x[0], x[2]))
    got = complete(word_lm, "the", 4)
    assert [w for w, _ in got] == [w for _, w, _ in want[:4]]
    np.testing.assert_allclose([p for _, p in got], [p for p, _, _ in want[:4]], rtol=1e-12)
    every = complete(word_lm, "the", 1000)
    assert math.fsum(math.exp(p) for _, p in every) == pytest.approx(1 - math.exp(lp[UNK_ID]) - math.exp(lp[EOS_ID]))
    # specials are never words to offer, whatever was typed (a "<" matches all three)
    assert complete(word_lm, "the", 10, partial="<") == []
    assert "</s>" not in {w for w, _ in complete(word_lm, "the cat sat on the mat", 1000)}
    part = complete(word_lm, "the", 10, partial="ca")
    assert {w for w, _ in part} == {w for w in word_lm.vocab.tokens if w.startswith("ca")}
    assert complete(word_lm, "the", 5, partial="zz") == []


@pytest.mark.parametrize("prefix", ["", "c", "ca", "cat", "carrot", "ü", "über", "zzz", "<"])
def test_prefix_index_equals_a_scan(prefix):
    vocab = Vocab.build(s.split() for s in WORDS)
    got = sorted(_prefix_ids(vocab, prefix).tolist())
    assert got == [i for i, t in enumerate(vocab.tokens) if t.startswith(prefix)]


def _brute_force(lm, text, max_chars):
    """Every string of word characters up to ``max_chars`` long, scored as complete_word defines."""
    vocab = lm.vocab
    word_chars = [t for t in vocab.tokens if len(t) == 1 and (t.isalnum() or t in "'-")]
    ends = [i for i, t in enumerate(vocab.tokens) if t not in word_chars and i not in (BOS_ID, UNK_ID)]
    base = lm.begin_state()
    for t in vocab.tokenize(text):
        base = lm.advance(base, vocab.lookup(t))
    stem = text.split()[-1] if text and not text[-1].isspace() else ""
    out = {}
    for n in range(0 if stem else 1, max_chars + 1):
        for chars in itertools.product(word_chars, repeat=n):
            s, lp = base, 0.0
            for c in chars:
                i = vocab.lookup(c)
                lp += lm.next_logprobs([s])[0][i]
                s = lm.advance(s, i)
            lp += math.log(np.exp(lm.next_logprobs([s])[0][ends]).sum())
            out[stem + "".join(chars)] = lp
    return sorted(out.items(), key=lambda kv: -kv[1])


@pytest.mark.parametrize("text", ["the ca", "a ", "the cat s"])
def test_char_word_completion_equals_brute_force(char_lm, text):
    want = _brute_force(char_lm, text, 3)[:5]
    got = complete_word(char_lm, text, 5, beam=10_000, max_chars=3)
    assert [w for w, _ in got] == [w for w, _ in want]
    np.testing.assert_allclose([p for _, p in got], [p for _, p in want], rtol=1e-9)
    # the default beam finds the same best word
    assert complete_word(char_lm, text, 1)[0][0] == want[0][0]


def test_complete_text_word_and_char_models(word_lm, char_lm):
    out, stem = complete_text(word_lm, "the ca", 3, partial=True)
    assert stem == "ca" and all(w.startswith("ca") for w, _ in out)
    out, stem = complete_text(word_lm, "the ", 3, partial=True)  # a space: the next word
    assert stem == "" and out == complete(word_lm, "the", 3)
    out, stem = complete_text(char_lm, "the ca", 3)
    assert stem == "ca" and out == complete_word(char_lm, "the ca", 3) and out[0][0] in ("cat", "car", "cart")


def test_complete_cli_with_a_character_model(char_lm, tmp_path, capsys):
    from lmlab.cli.main import main

    char_lm.to_arpa(tmp_path / "c.arpa")
    assert main(["complete", str(tmp_path / "c.arpa"), "the ca", "-k", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    want, _ = complete_text(char_lm, "the ca", 2)  # what the API proposes, best first
    assert [ln.split("\t")[0] for ln in lines] == [w for w, _ in want] and all(w.startswith("ca") for w, _ in want)
    assert [float(ln.split("\t")[1]) for ln in lines] == pytest.approx([math.exp(lp) for _, lp in want], abs=1e-6)


def test_char_completion_keeps_combining_marks():
    """With NFD normalisation an accent is a token of its own: it belongs to the word."""
    import unicodedata

    lm = NgramLM(3, "witten_bell", tokenizer=Tokenizer(kind="character", unicode_normalization="NFD")).fit(
        ["the café is open", "the café was full", "the cat sat"] * 2)
    out, stem = complete_text(lm, "the caf", 2)
    assert stem == "caf" and out[0][0] == unicodedata.normalize("NFD", "café")
    out, stem = complete_text(lm, "the café", 2)
    assert stem == unicodedata.normalize("NFD", "café") and out[0][0] == stem
