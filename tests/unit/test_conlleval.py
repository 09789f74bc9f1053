"""The chunk scorer against conlleval's own output (conlleval.pl, version 2004-01-26).

The expected files in tests/data are conlleval.pl's printed reports, made once with
``perl conlleval.pl < INPUT > EXPECTED`` (the script is not shipped):

* ``conlleval_example.txt``: a hand-written file with I- without B-, type changes inside a chunk,
  O between, IOB1-style sentences, a ``-X-`` boundary line, a hyphenated type and IOBES tags.
* ``conlleval_random.expected``: :func:`random_lines` (random tags, every prefix conlleval knows).
* ``conlleval_conll2000_{iob2,iob1,iobes}.expected``: the CoNLL-2000 test set with predictions
  made by :func:`corrupt` from its gold tags, in each scheme (:func:`conll2000_lines`).

To remake a fixture: ``python tests/unit/test_conlleval.py random > /tmp/in.txt`` (or ``iob2``,
``iob1``, ``iobes``), then ``perl conlleval.pl < /tmp/in.txt``.
"""

from __future__ import annotations

import random
import re
import sys
from pathlib import Path

import pytest

from lmlab.errors import ConfigError, DataFormatError
from lmlab.eval.conlleval import conlleval, conlleval_file, conlleval_lines

DATA = Path(__file__).resolve().parents[1] / "data"
FIGURE = re.compile(r"(accuracy|precision|recall|FB1):\s+([0-9.]+)")


def random_lines(n_sentences: int = 150, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    tags = ["O", "O", "O", "B-NP", "I-NP", "B-VP", "I-VP", "E-NP", "S-NP", "I-PP", "B-PP", "E-VP", "S-VP",
            "B", "I", "[-NP", "]-NP", ".", "B-A-B", "I-A-B"]
    out = []
    for _ in range(n_sentences):
        for i in range(rng.randint(1, 12)):
            gold = rng.choice(tags)
            pred = gold if rng.random() < 0.6 else rng.choice(tags)
            out.append(f"w{i} X {gold} {pred}")
        out.append("")
    return out


def corrupt(gold: list[str], sentence_no: int) -> list[str]:
    """Deterministic prediction errors: drop a tag to O, flip B-/I-, change the type, extend."""
    out = list(gold)
    types = ["NP", "VP", "PP", "ADJP", "ADVP"]
    for i, tag in enumerate(gold):
        h = (sentence_no * 7919 + i * 104729) % 97
        if h < 3:
            out[i] = "O"
        elif h < 6 and tag != "O":
            out[i] = ("I-" if tag.startswith("B-") else "B-") + tag[2:]
        elif h < 9 and tag != "O":
            out[i] = tag[:2] + types[(types.index(tag[2:]) + 1) % len(types)] if tag[2:] in types else tag
        elif h < 11 and tag == "O" and i > 0 and gold[i - 1] != "O":
            out[i] = "I-" + gold[i - 1][2:]
    return out


def conll2000_lines(scheme: str) -> list[str]:
    from lmlab.data.columns import conll2000
    from lmlab.data.tagschemes import convert_tags

    out = []
    for no, sent in enumerate(conll2000("test")):
        gold = list(sent.tags)
        pred = corrupt(gold, no)
        if scheme != "iob2":
            gold, pred = convert_tags(gold, "iob2", scheme), convert_tags(pred, "iob2", scheme)
        out.extend(f"{w} {g} {p}" for w, g, p in zip(sent.words, gold, pred, strict=True))
        out.append("")
    return out


def assert_same_as_conlleval(rep, expected_path: Path) -> None:
    expected = expected_path.read_text()
    assert rep.text() == expected  # byte for byte
    # and the figures themselves, to conlleval's printed precision
    overall = dict(FIGURE.findall(expected.splitlines()[1]))
    assert f"{rep.accuracy:.2f}" == overall["accuracy"]
    assert f"{rep.precision:.2f}" == overall["precision"]
    assert f"{rep.recall:.2f}" == overall["recall"]
    assert f"{rep.f1:.2f}" == overall["FB1"]
    head = re.match(r"processed (\d+) tokens with (\d+) phrases; found: (\d+) phrases; correct: (\d+)", expected)
    assert (rep.tokens, rep.gold_chunks, rep.pred_chunks, rep.correct_chunks) == tuple(map(int, head.groups()))


def test_shipped_example_matches_conlleval():
    assert_same_as_conlleval(conlleval_file(DATA / "conlleval_example.txt"), DATA / "conlleval_example.expected")


def test_random_tags_match_conlleval():
    assert_same_as_conlleval(conlleval_lines(random_lines()), DATA / "conlleval_random.expected")


@pytest.mark.parametrize("scheme", ["iob2", "iob1", "iobes"])
def test_conll2000_test_set_matches_conlleval(data_root, scheme):
    lines = conll2000_lines(scheme)
    assert_same_as_conlleval(conlleval_lines(lines), DATA / f"conlleval_conll2000_{scheme}.expected")


def test_sequence_api_equals_file_api():
    lines = (DATA / "conlleval_example.txt").read_text().splitlines()
    gold, pred, g, p = [], [], [], []
    for ln in lines + [""]:
        f = ln.split()
        if not f or f[0] == "-X-":
            if g:
                gold.append(g)
                pred.append(p)
            g, p = [], []
        else:
            g.append(f[-2])
            p.append(f[-1])
    assert conlleval(gold, pred).text() == conlleval_file(DATA / "conlleval_example.txt").text()


def test_hand_computed_case():
    # gold: [NP He] [VP saw] [NP the dog]; predicted: [NP He] [VP saw the] [NP dog]
    rep = conlleval([["B-NP", "B-VP", "B-NP", "I-NP"]], [["B-NP", "B-VP", "I-VP", "B-NP"]])
    assert (rep.gold_chunks, rep.pred_chunks, rep.correct_chunks) == (3, 3, 1)  # only [NP He]
    assert rep.precision == pytest.approx(100 / 3) and rep.recall == pytest.approx(100 / 3)
    assert rep.accuracy == 50.0
    assert rep.per_type()["VP"]["correct_chunks"] == 0
    # a chunk at the end of one sentence does not run into the next one
    two = conlleval([["B-NP"], ["I-NP"]], [["B-NP"], ["I-NP"]])
    assert (two.gold_chunks, two.correct_chunks) == (2, 2)
    assert conlleval([], []).text() == "processed 0 tokens with 0 phrases; found: 0 phrases; correct: 0.\n"


def test_bad_input_is_named():
    with pytest.raises(DataFormatError, match=r"<in>: line 2: expected 3 fields as on line 1, found 2"):
        conlleval_lines(["a B-NP B-NP", "b B-NP"], "<in>")
    with pytest.raises(ConfigError, match="sentence 1: 1 predicted tags for 2 gold"):
        conlleval([["O", "O"]], [["O"]])


if __name__ == "__main__":
    which = sys.argv[1]
    print("\n".join(random_lines() if which == "random" else conll2000_lines(which)))
