"""Classification by per-class LMs (SST-2) and noisy-channel spelling correction."""

from __future__ import annotations

import pytest

from lmlab.eval.applications import LMClassifier, accuracy, correct, edits1
from lmlab.models.ngram.model import NgramLM
from lmlab.text.vocab import Vocab
from tests.conftest import read_lines


def test_edits1():
    e = edits1("ab")
    assert {"a", "b", "ba", "abc", "xab", "ax"} <= e and "ab" not in e


def test_spelling_correction_uses_context():
    train = ["the pear salad was fresh", "a pair of shoes", "he ate a pear", "the pair of socks"] * 4
    lm = NgramLM(3, "witten_bell").fit(train)
    tokens, fixes = correct(lm, "a pailr of shoes")
    assert tokens == ["a", "pair", "of", "shoes"] and fixes[0].original == "pailr"
    tokens, _ = correct(lm, "the peear salad")
    assert tokens[1] == "pear"


def test_sst2_classification_by_class_lms(data_root):
    def load(split):
        rows = [ln.split(" ", 1) for ln in read_lines(data_root / "sst" / f"stsa.binary.{split}")]
        return [r[1] for r in rows], [r[0] for r in rows]

    texts, labels = load("train")
    vocab = Vocab.build(t.split() for t in texts)
    models = {c: NgramLM(2, "witten_bell").fit([t for t, y in zip(texts, labels, strict=True) if y == c], vocab=vocab)
              for c in ("0", "1")}
    clf = LMClassifier(models)
    test_texts, test_labels = load("test")
    acc = accuracy(clf.predict(test_texts), test_labels)
    assert acc > 0.72  # measured 0.761 (bigram Witten-Bell per class); chance is 0.50
