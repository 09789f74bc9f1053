"""Cloze templates (lmlab.diagnostics.cloze): the file format, the ranking checked against the
LanguageModel interface stepped by hand, the shipped lecture examples, and the CLI."""

from __future__ import annotations

import json

import pytest

from lmlab.diagnostics.cloze import SHIPPED, rank, read_templates
from lmlab.errors import LmlabError
from lmlab.models.ngram.model import NgramLM
from tests.cli_run import cli, cli_error

TEXT = ["the writer of the books is here", "the books are here", "the books are old", "she printed her tickets",
        "her tickets are here", "the dog is here"] * 3


@pytest.fixture
def lm():
    return NgramLM(3, "witten_bell").fit(TEXT)


def by_hand(lm, words):
    """Sum of log P(w) of the words after ``words[:n]`` for each split, stepped with the interface."""
    state, total = lm.begin_state(), 0.0
    for w in words[0]:
        state = lm.advance(state, lm.vocab.lookup(w))
    for w in words[1]:
        lp, state = lm.step(state, lm.vocab.lookup(w))
        total += lp
    return total


def test_shipped_templates_hold_the_lecture_examples():
    ts = read_templates()
    writer = next(t for t in ts if t.text.startswith("The writer of the books"))
    tickets = next(t for t in ts if t.text.endswith("she finally printed her ___"))
    assert (writer.candidates, writer.expected) == (("is", "are"), "is")
    assert tickets.expected == "tickets" and "toner" in tickets.candidates and SHIPPED.is_file()


def test_ranking_matches_the_interface_and_puts_unknown_words_last(tmp_path, lm):
    f = tmp_path / "t.tsv"
    f.write_text("# a comment\n\nThe writer of the books ___\tare|is\tis\nThe books ___ here\tis|are\n"
                 "She printed her ___\ttoner|tickets\ttickets\n")
    rows = rank(lm, read_templates(f))
    # a trigram model sees "the books" only, where "are" is the more frequent: the attractor wins
    assert [(r["candidate"], r["rank"]) for r in rows] == [("are", 1), ("is", 2), ("are", 1), ("is", 2),
                                                          ("tickets", 1), ("toner", 2)]
    expect = {("The writer of the books ___", "is"): (["the", "writer", "of", "the", "books"], ["is"]),
              ("The writer of the books ___", "are"): (["the", "writer", "of", "the", "books"], ["are"]),
              ("The books ___ here", "are"): (["the", "books"], ["are", "here"]),
              ("She printed her ___", "tickets"): (["she", "printed", "her"], ["tickets"])}
    for r in rows:
        if (r["template"], r["candidate"]) in expect:
            assert r["logprob"] == pytest.approx(by_hand(lm, expect[r["template"], r["candidate"]]), abs=1e-9)
    assert rows[0]["expected"] is False and rows[1]["expected"] is True and rows[2]["expected"] is None
    assert rows[5]["unknown_words"] == 1 and rows[4]["unknown_words"] == 0


@pytest.mark.parametrize("line,reason", [("no blank here\ta|b", "exactly one blank"),
                                         ("The ___ ___\ta|b", "exactly one blank"),
                                         ("The ___\ta", "two or more different candidates"),
                                         ("The ___\ta|a", "two or more different candidates"),
                                         ("The ___\ta|b\tc", "not among the candidates"),
                                         ("The ___", "tab-separated fields")])
def test_a_malformed_template_is_an_error_naming_the_line(tmp_path, line, reason):
    f = tmp_path / "t.tsv"
    f.write_text(f"# ok\n{line}\n")
    with pytest.raises(LmlabError, match=f"{f}: line 2: .*{reason}"):
        read_templates(f)


def test_the_cli_ranks_for_every_model(tmp_path, lm, capsys):
    arpa = tmp_path / "lm.arpa"
    lm.to_arpa(arpa)
    code, out, err = cli(capsys, "diagnose", "cloze", arpa, "--out", tmp_path / "o", "--quiet")
    assert code == 0, err
    rows = json.loads((tmp_path / "o" / "cloze.json").read_text())
    assert {r["model"] for r in rows} == {str(arpa)} and len(rows) == sum(len(t.candidates) for t in read_templates())
    assert "expected filler ranked first" in out and (tmp_path / "o" / "cloze.csv").is_file()
    empty = tmp_path / "empty.tsv"
    empty.write_text("# nothing\n")
    assert "no templates" in cli_error(capsys, "diagnose", "cloze", arpa, "--file", empty, "--out", tmp_path / "o")
