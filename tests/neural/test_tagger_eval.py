"""evaluate_tagger: token accuracy, per-tag figures and unseen labels counted by hand; span F1 equal
to conlleval's own output on the CoNLL-2000 test set (the fixtures of tests/unit/test_conlleval.py)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from lmlab.errors import ConfigError  # noqa: E402
from lmlab.eval.tagging import evaluate_tagger, format_tagging_report, tagging_scores  # noqa: E402
from lmlab.models.neural.tagger import TaggingModel  # noqa: E402
from lmlab.tensors.tagging import build_tagging_vocabs  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / "data"
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))


class Oracle(TaggingModel):
    """Says the tags it is given for each sentence (by its position in the input)."""

    architecture = "oracle"

    def __init__(self, vocabs, answers):
        super().__init__(vocabs)
        self.answers = answers

    def predict(self, batch):
        return [self.tags.encode(self.answers[i]).tolist() for i in batch.index]

    def config_dict(self):
        return {}


def test_figures_equal_hand_counts_with_an_unseen_label():
    train = [(["a", "b", "c"], ["N", "V", "D"])]
    vocabs = build_tagging_vocabs(train)
    test = [(["a", "b"], ["N", "N"]), (["c", "a", "b", "x"], ["D", "N", "V", "PROPN"])]
    pred = [["N", "V"], ["D", "N", "V", "N"]]
    rep = evaluate_tagger(Oracle(vocabs, pred), test, batch_size=1)
    assert rep["accuracy"] == pytest.approx(4 / 6) and rep["n"] == 6 and rep["sentences"] == 2
    assert rep["unseen"] == {"PROPN": 1} and rep["n_unseen"] == 1
    n = rep["per_class"]["N"]  # predicted N 3 times (2 right), gold N 3 times
    assert (n["precision"], n["recall"], n["support"]) == (pytest.approx(2 / 3), pytest.approx(2 / 3), 3)
    v = rep["per_class"]["V"]  # predicted V twice (1 right), gold V once
    assert (v["precision"], v["recall"], v["f1"]) == (0.5, 1.0, pytest.approx(2 / 3))
    assert rep["per_class"]["PROPN"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert "chunks" not in rep
    assert "1 gold tokens have labels never seen in training: PROPN (1)" in format_tagging_report(rep)


def test_span_f1_by_hand():
    gold = [["B-NP", "I-NP", "O", "S-VP"], ["B-NP", "E-NP"]]
    pred = [["B-NP", "E-NP", "O", "B-VP"], ["S-NP", "S-NP"]]  # B-VP alone is lenient: one VP chunk
    rep = tagging_scores(pred, gold, scheme="iobes")
    # gold chunks: NP(0,2) VP(3,4) | NP(0,2); predicted: NP(0,2) VP(3,4) | NP(0,1) NP(1,2)
    c = rep["chunks"]
    assert (c["gold_chunks"], c["pred_chunks"], c["correct_chunks"]) == (3, 4, 2)
    assert c["precision"] == 50.0 and c["recall"] == pytest.approx(200 / 3)
    assert rep["span_f1"] == pytest.approx(2 * 50 * 200 / 3 / (50 + 200 / 3))
    assert rep["accuracy"] == pytest.approx(2 / 6)  # raw tags: O and the first B-NP, S-NP vs B-NP is wrong
    assert "spans (IOBES, conlleval)" in format_tagging_report(rep)
    with pytest.raises(ConfigError, match="sentence 1 \\(gold tags\\)"):
        tagging_scores([["O"]], [["NOUN"]], scheme="iob2")


FIGURE = re.compile(r"(accuracy|precision|recall|FB1):\s+([0-9.]+)")


def _expected(name):
    text = (DATA / f"conlleval_conll2000_{name}.expected").read_text()
    head = re.match(r"processed (\d+) tokens with (\d+) phrases; found: (\d+) phrases; correct: (\d+)", text)
    return dict(FIGURE.findall(text.splitlines()[1])), tuple(map(int, head.groups()))


@pytest.mark.parametrize("scheme", ["iob2", "iob1", "iobes"])
def test_conll2000_spans_equal_conlleval(data_root, scheme):
    from lmlab.data.columns import conll2000
    from lmlab.data.tagschemes import convert_tags
    from test_conlleval import corrupt

    sents = conll2000("test")
    gold = [list(s.tags) for s in sents]
    pred = [corrupt(g, no) for no, g in enumerate(gold)]
    if scheme != "iob2":
        gold = [convert_tags(g, "iob2", scheme) for g in gold]
        pred = [convert_tags(p, "iob2", scheme) for p in pred]
    train = [(s.words, g) for s, g in zip(sents, gold, strict=True)]
    said = [(s.words, p) for s, p in zip(sents, pred, strict=True)]
    model = Oracle(build_tagging_vocabs(train + said), pred)  # a tag set that holds every predicted tag
    rep = evaluate_tagger(model, train, scheme=scheme, batch_size=256)
    # chunks: conlleval's figures on the IOB2 form (conlleval misreads S-, so IOBES is scored as IOB2)
    figures, counts = _expected("iob2")
    c = rep["chunks"]
    assert (c["gold_chunks"], c["pred_chunks"], c["correct_chunks"]) == counts[1:]
    assert f"{c['precision']:.2f}" == figures["precision"] and f"{c['recall']:.2f}" == figures["recall"]
    assert f"{rep['span_f1']:.2f}" == figures["FB1"]
    # token accuracy: the raw tags of this scheme, as conlleval counts them on this scheme's file
    figures, counts = _expected(scheme)
    assert rep["n"] == counts[0] and f"{100 * rep['accuracy']:.2f}" == figures["accuracy"]
    per = c["per_type"]["NP"]
    assert f"{per['f1']:.2f}" == "79.11" and per["pred_chunks"] == 12977
