"""Accuracy, macro F1 and the per-class report, checked by hand; unseen gold labels are counted."""

from __future__ import annotations

import pytest

from lmlab.errors import ConfigError
from lmlab.eval.metrics import (
    accuracy,
    classification_report,
    format_report,
    macro_f1,
    per_class,
    tagging_report,
)

GOLD = ["pos", "pos", "pos", "neg", "neg", "neu"]
PRED = ["pos", "pos", "neg", "neg", "pos", "pos"]


def test_hand_computed_figures():
    assert accuracy(PRED, GOLD) == 3 / 6
    per = per_class(PRED, GOLD)
    # pos: 2 of 4 predictions right, 2 of 3 gold found; neg: 1/2, 1/2; neu: never predicted
    assert per["pos"] == {"precision": 0.5, "recall": 2 / 3, "f1": pytest.approx(4 / 7), "support": 3}
    assert per["neg"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    assert per["neu"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert macro_f1(PRED, GOLD) == pytest.approx((4 / 7 + 0.5 + 0) / 3)
    # a label only predicted (never gold) is not averaged into macro F1
    assert macro_f1(["x", "a"], ["a", "a"]) == pytest.approx(2 / 3)
    rep = classification_report(PRED, GOLD)
    assert rep["confusion"]["pos"] == {"neg": 1, "neu": 0, "pos": 2}
    assert rep["majority_baseline"] == 0.5 and rep["n"] == 6


def test_unseen_gold_labels_are_counted_not_a_crash():
    rep = classification_report(PRED, GOLD, train_labels={"pos", "neg"})
    assert rep["unseen"] == {"neu": 1} and rep["n_unseen"] == 1
    assert rep["accuracy"] == 0.5  # the unseen one is simply wrong
    text = format_report(rep, "texts")
    assert "1 gold texts have labels never seen in training: neu (1)" in text
    assert text.splitlines()[0] == "accuracy 0.5000 on 6 texts (majority class 0.5000); macro F1 0.3571"
    assert text.splitlines()[3] == "neu       0.0000  0.0000  0.0000        1"  # sorted: neg, neu, pos
    assert "n_unseen" not in classification_report(PRED, GOLD)


def test_tagging_report_over_tokens():
    gold = [["DET", "NOUN"], ["VERB", "INTJ", "NOUN"]]
    pred = [["DET", "NOUN"], ["NOUN", "NOUN", "NOUN"]]
    rep = tagging_report(pred, gold, train_labels={"DET", "NOUN", "VERB"})
    assert rep["accuracy"] == 3 / 5 and rep["sentences"] == 2 and rep["n"] == 5
    assert rep["unseen"] == {"INTJ": 1}
    assert rep["per_class"]["NOUN"]["precision"] == 2 / 4
    with pytest.raises(ConfigError, match="sentence 2: 2 predicted tags for 3 gold tags"):
        tagging_report([["A"], ["A", "B"]], [["A"], ["A", "B", "C"]])


def test_mismatched_lengths_refused():
    with pytest.raises(ConfigError, match="2 predictions for 1 gold labels"):
        accuracy(["a", "b"], ["a"])
    with pytest.raises(ConfigError, match="no examples"):
        classification_report([], [])


def test_bleu_on_tokenised_text_says_nothing_about_detokenising(capfd, caplog):
    """``-tok none`` scores tokenised text on purpose: sacrebleu's "forgot to detokenize" warning
    (printed once 100 lines end in " .") would be noise on every ``lmlab evaluate``; the score and
    signature are sacrebleu's own."""
    sacrebleu = pytest.importorskip("sacrebleu")
    from lmlab.eval.bleu import bleu, paired_bootstrap

    hyps, refs = ["a cat sat on the mat ."] * 120, ["a cat sat on a mat ."] * 120
    rep = bleu(hyps, refs)
    paired_bootstrap(hyps, hyps, refs, resamples=10)
    out, err = capfd.readouterr()
    assert "detokenize" not in out + err + caplog.text
    assert rep["score"] == pytest.approx(sacrebleu.corpus_bleu(hyps, [refs], tokenize="none", force=True).score)
    assert "tok:none" in rep["signature"]
