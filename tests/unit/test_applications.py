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


def test_classification_report_hand_case():
    from lmlab.eval.applications import classification_report

    r = classification_report(["a", "a", "b", "b", "a"], ["a", "b", "b", "b", "a"])
    assert r["accuracy"] == pytest.approx(4 / 5) and r["majority_baseline"] == pytest.approx(3 / 5)
    assert r["confusion"] == {"a": {"a": 2, "b": 0}, "b": {"a": 1, "b": 2}}
    assert r["per_class"]["a"]["precision"] == pytest.approx(2 / 3) and r["per_class"]["a"]["recall"] == 1.0
    assert r["per_class"]["b"]["precision"] == 1.0 and r["per_class"]["b"]["recall"] == pytest.approx(2 / 3)
    assert r["macro_f1"] == pytest.approx(0.8)
    from lmlab.errors import ConfigError

    with pytest.raises(ConfigError, match="no examples"):
        classification_report([], [])


def test_classifier_refuses_unnormalised_scores():
    from lmlab.errors import NotNormalizedError
    from lmlab.eval.applications import train_class_lms

    train = [("x", "a b a"), ("y", "b c b")]
    with pytest.raises(NotNormalizedError, match="class"):
        train_class_lms(train, order=2, smoothing="stupid_backoff")


def test_shakespeare_speeches_and_speaker_task(data_root):
    from lmlab.data.readers import tinyshakespeare_speeches
    from lmlab.data.tasks import classification_task

    sp = tinyshakespeare_speeches()
    assert sp[0] == ("First Citizen", "Before we proceed any further, hear me speak.")
    assert sp[1] == ("All", "Speak, speak.")
    assert all(s and t for s, t in sp)
    train, test = classification_task("shakespeare-speakers", "train"), classification_task("shakespeare-speakers", "test")
    labels = {s for s, _ in train}
    assert len(labels) == 10 and {s for s, _ in test} == labels and {"ROMEO", "JULIET", "GLOUCESTER"} <= labels
    for s in labels:  # every fifth speech of each speaker is test
        n_train, n_test = sum(x == s for x, _ in train), sum(x == s for x, _ in test)
        assert n_test == (n_train + n_test) // 5
    both = {t for _, t in test} & {t for _, t in train}  # only short stock lines occur on both sides
    assert both and all(len(t.split()) <= 4 for t in both)


def test_authorship_by_character_ngram_class_lms(data_root):
    from lmlab.data.tasks import classification_task
    from lmlab.eval.applications import classification_report, train_class_lms

    train, test = classification_task("shakespeare-speakers", "train"), classification_task("shakespeare-speakers", "test")
    clf = train_class_lms(train, order=5, smoothing="kneser_ney", char=True)
    rep = classification_report(clf.predict([t for _, t in test]), [s for s, _ in test])
    # measured 0.455 (benchmarks/classify_bench.py); the majority speaker is 0.139, chance 0.10
    assert rep["accuracy"] > 0.40 and rep["majority_baseline"] == pytest.approx(42 / 303)


def test_classify_cli(tmp_path, capsys):
    import json

    from lmlab.cli.main import main

    train = tmp_path / "train.tsv"
    train.write_text("sport\tthe team won the match\nsport\tthe team lost the game\n"
                     "money\tthe bank raised interest rates\nmoney\tthe market fell and rates rose\n")
    test = tmp_path / "test.tsv"
    test.write_text("sport\tthe team won\nmoney\tinterest rates rose\n")
    assert main(["classify", "--train", str(train), "--test", str(test), "--order", "2", "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["accuracy"] == 1.0 and rep["n"] == 2 and rep["train_examples"] == 4
    unl = tmp_path / "u.txt"
    unl.write_text("the game was lost\nthe bank rates\n")
    assert main(["classify", "--train", str(train), "--predict", str(unl), "--order", "2"]) == 0
    assert capsys.readouterr().out.splitlines() == ["sport\tthe game was lost", "money\tthe bank rates"]
    bad = tmp_path / "bad.tsv"
    bad.write_text("sport\tthe team won\nno-tab-here\n")
    assert main(["classify", "--train", str(bad), "--test", str(test)]) == 2
    assert "line 2" in capsys.readouterr().err
    one = tmp_path / "one.tsv"
    one.write_text("sport\tthe team won\nsport\tthe game\n")
    assert main(["classify", "--train", str(one), "--test", str(test)]) == 2
    assert "fewer than two labels" in capsys.readouterr().err
