"""Sentence scoring and n-best re-ranking."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lmlab.errors import CorpusError
from lmlab.eval.scoring import parse_nbest, rerank, score_sentences
from lmlab.models.ngram.model import NgramLM

TRAIN = ["the apple and pear salad", "a pear and an apple", "the pair of shoes", "a fresh pear salad"] * 3


@pytest.fixture(scope="module")
def lm():
    return NgramLM(3, "witten_bell").fit(TRAIN)


def test_scores_sum_tokens(lm):
    (s,) = score_sentences(lm, ["the apple and pear salad"])
    assert s.tokens[-1] == "</s>" and len(s.logprobs) == 6 and s.oovs == 0
    assert s.total == pytest.approx(lm.sentence_logprob("the apple and pear salad"))
    (z,) = score_sentences(lm, ["zebra salad"])
    assert z.oovs == 1


def test_rerank_moses_and_plain(lm):
    moses = ["0 ||| the apple and pair salad ||| F0= -1 ||| -1.0",
             "0 ||| the apple and pear salad ||| F0= -2 ||| -2.0",
             "1 ||| pair of shoes ||| F0= 0 ||| 0.0", "1 ||| the pair of shoes ||| F0= 0 ||| 0.0"]
    groups = rerank(lm, parse_nbest(moses))
    assert [h.text for h in groups[0]] == ["the apple and pear salad", "the apple and pair salad"]
    assert groups[1][0].text == "the pair of shoes"
    # with a huge weight on the decoder score, its order wins
    groups = rerank(lm, parse_nbest(moses), lm_weight=0.0, score_weight=1.0)
    assert groups[0][0].text == "the apple and pair salad"
    plain = ["-3\tthe apple and pair salad", "-3\tthe apple and pear salad", "", "pair of shoes", "the pair of shoes"]
    groups = rerank(lm, parse_nbest(plain), score_weight=1.0)
    assert groups[0][0].text == "the apple and pear salad" and len(groups) == 2
    assert groups[0][0].total == pytest.approx(groups[0][0].lm_logprob - 3)


def test_bad_nbest():
    with pytest.raises(CorpusError, match="line 1"):
        parse_nbest(["0 ||| only two"])


def test_score_cli(lm, tmp_path, capsys):
    from lmlab.cli.main import main

    lm.to_arpa(tmp_path / "m.arpa")
    t = tmp_path / "s.txt"
    t.write_text("the apple and pear salad\n")
    assert main(["score", str(tmp_path / "m.arpa"), "--text", str(t), "--per-token", "--log10"]) == 0
    out = capsys.readouterr().out.strip().split("\t")
    assert float(out[0]) == pytest.approx(lm.sentence_logprob("the apple and pear salad") / math.log(10), abs=1e-3)
    assert out[2].split(" ")[-1].startswith("</s>=")
    nb = tmp_path / "nb.txt"
    nb.write_text("0 ||| the apple and pair salad ||| x ||| 0\n0 ||| the apple and pear salad ||| x ||| 0\n")
    assert main(["rerank", str(tmp_path / "m.arpa"), "--nbest", str(nb), "--best"]) == 0
    assert capsys.readouterr().out.strip().endswith("the apple and pear salad ||| x ||| 0")
    empty = score_sentences(lm, [""])[0]  # an empty line is one </s> after <s>
    assert empty.tokens == ["</s>"] and empty.oovs == 0
    assert empty.total == pytest.approx(lm.logprob("</s>", ["<s>"]), abs=1e-9) and np.isfinite(empty.total)


def test_homophone_example_follows_its_rule_and_reproduces(ptb):
    """examples/homophones: pairs differ in one word; all words but the motivating pair's "pear" and
    "salad" are in PTB's training vocabulary; the KN 3-gram column of the published results is what
    ``rerank`` gives today."""
    import json
    import math
    from pathlib import Path

    from lmlab.eval.scoring import parse_nbest, rerank
    from lmlab.models.ngram.model import NgramLM

    root = Path(__file__).resolve().parents[2]
    groups = parse_nbest((root / "examples" / "homophones" / "nbest.txt").read_text().splitlines())
    assert len(groups) == 32 and all(len(g) == 2 for g in groups)
    train_words = {w for s in ptb["train"] for w in s.split()}
    for i, (a, b) in enumerate((g[0].text.split(), g[1].text.split()) for g in groups):
        assert len(a) == len(b) and sum(x != y for x, y in zip(a, b, strict=True)) == 1
        missing = sorted(set(a + b) - train_words)
        assert missing == (["pear", "salad"] if i == 0 else [])
    published = json.loads((root / "benchmarks" / "results" / "homophones.json").read_text())["models"]["KN 3-gram"]
    kn3 = NgramLM(3).fit(ptb["train"])
    pairs = [(g[0].text, g[1].text) for g in groups]
    for g, (correct, swapped), want in zip(rerank(kn3, groups), pairs, published, strict=True):
        d = {h.text: h.lm_logprob for h in g}
        assert (g[0].text == correct) == (want > 0)
        assert (d[correct] - d[swapped]) / math.log(10) == pytest.approx(want, abs=1e-9)
