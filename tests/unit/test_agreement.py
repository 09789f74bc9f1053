"""Subject-verb agreement (lmlab.diagnostics.agreement): on a hand-written CoNLL-U snippet the
builder picks exactly the right subject/verb pairs, wrong forms, intervening words and
attractors; the evaluation agrees with the LanguageModel interface stepped by hand; the CLI
writes the cases, the records and the figure, and explains an empty result."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from lmlab.data.conllu import read_conllu
from lmlab.diagnostics.agreement import COLUMNS, build_cases, cases_tsv, evaluate, score_cases
from lmlab.eval.metrics import wilson_interval
from lmlab.models.ngram.model import NgramLM
from lmlab.text.specials import UNK_ID
from tests.cli_run import cli

V3S = "Mood=Ind|Number=Sing|Person=3|Tense=Pres|VerbForm=Fin"
V3P = "Mood=Ind|Number=Plur|Person=3|Tense=Pres|VerbForm=Fin"
SENTENCES = [
    ("s1", "The keys to the cabinet are on the table .", [
        ("the", "DET", "DT", "_", 2, "det"), ("key", "NOUN", "NNS", "Number=Plur", 9, "nsubj"),
        ("to", "ADP", "IN", "_", 5, "case"), ("the", "DET", "DT", "_", 5, "det"),
        ("cabinet", "NOUN", "NN", "Number=Sing", 2, "nmod"), ("be", "AUX", "VBP", V3P, 9, "cop"),
        ("on", "ADP", "IN", "_", 9, "case"), ("the", "DET", "DT", "_", 9, "det"),
        ("table", "NOUN", "NN", "Number=Sing", 0, "root"), (".", "PUNCT", ".", "_", 9, "punct")]),
    ("s2", "The author of the books that I read writes well .", [
        ("the", "DET", "DT", "_", 2, "det"), ("author", "NOUN", "NN", "Number=Sing", 9, "nsubj"),
        ("of", "ADP", "IN", "_", 5, "case"), ("the", "DET", "DT", "_", 5, "det"),
        ("book", "NOUN", "NNS", "Number=Plur", 2, "nmod"), ("that", "PRON", "WDT", "PronType=Rel", 8, "obj"),
        ("I", "PRON", "PRP", "Case=Nom|Number=Sing|Person=1|PronType=Prs", 8, "nsubj"),
        ("read", "VERB", "VBP", "Mood=Ind|Number=Sing|Person=1|Tense=Pres|VerbForm=Fin", 5, "acl:relcl"),
        ("write", "VERB", "VBZ", V3S, 0, "root"), ("well", "ADV", "RB", "_", 9, "advmod"),
        (".", "PUNCT", ".", "_", 9, "punct")]),
    ("s3", "Dogs have been barking .", [
        ("dog", "NOUN", "NNS", "Number=Plur", 4, "nsubj"), ("have", "AUX", "VBP", V3P, 4, "aux"),
        ("be", "AUX", "VBN", "Tense=Past|VerbForm=Part", 4, "aux"),
        ("bark", "VERB", "VBG", "VerbForm=Ger", 0, "root"), (".", "PUNCT", ".", "_", 4, "punct")]),
    ("s4", "The man walked .", [
        ("the", "DET", "DT", "_", 2, "det"), ("man", "NOUN", "NN", "Number=Sing", 3, "nsubj"),
        ("walk", "VERB", "VBD", "Mood=Ind|Number=Sing|Person=3|Tense=Past|VerbForm=Fin", 0, "root"),
        (".", "PUNCT", ".", "_", 3, "punct")]),
    ("s5", "The children was late .", [
        ("the", "DET", "DT", "_", 2, "det"), ("child", "NOUN", "NNS", "Number=Plur", 4, "nsubj"),
        ("be", "AUX", "VBD", "Mood=Ind|Number=Sing|Person=3|Tense=Past|VerbForm=Fin", 4, "cop"),
        ("late", "ADJ", "JJ", "Degree=Pos", 0, "root"), (".", "PUNCT", ".", "_", 4, "punct")]),
    ("s6", "The students of the teacher from the school sing .", [
        ("the", "DET", "DT", "_", 2, "det"), ("student", "NOUN", "NNS", "Number=Plur", 9, "nsubj"),
        ("of", "ADP", "IN", "_", 5, "case"), ("the", "DET", "DT", "_", 5, "det"),
        ("teacher", "NOUN", "NN", "Number=Sing", 2, "nmod"), ("from", "ADP", "IN", "_", 8, "case"),
        ("the", "DET", "DT", "_", 8, "det"), ("school", "NOUN", "NN", "Number=Sing", 5, "nmod"),
        ("sing", "VERB", "VBP", V3P, 0, "root"), (".", "PUNCT", ".", "_", 9, "punct")]),
    ("s7", "Mary sings .", [
        ("Mary", "PROPN", "NNP", "Number=Sing", 2, "nsubj"), ("sing", "VERB", "VBZ", V3S, 0, "root"),
        (".", "PUNCT", ".", "_", 2, "punct")]),
    ("s8", "The 3 dogs bark loudly .", [
        ("the", "DET", "DT", "_", 3, "det"), ("3", "NUM", "CD", "NumForm=Digit|NumType=Card", 3, "nummod"),
        ("dog", "NOUN", "NNS", "Number=Plur", 4, "nsubj"), ("bark", "VERB", "VBP", V3P, 0, "root"),
        ("loudly", "ADV", "RB", "_", 4, "advmod"), (".", "PUNCT", ".", "_", 4, "punct")]),
    ("s9", "Where are the keys ?", [
        ("where", "ADV", "WRB", "PronType=Int", 0, "root"), ("be", "AUX", "VBP", V3P, 1, "cop"),
        ("the", "DET", "DT", "_", 4, "det"), ("key", "NOUN", "NNS", "Number=Plur", 1, "nsubj"),
        ("?", "PUNCT", ".", "_", 1, "punct")]),
]
# (sent_id, subject, verb, relation, wrong, where the wrong form comes from, intervening, attractors, prefix)
EXPECTED = [
    ("s1", "keys", "are", "cop", "is", "table", 3, 1, "the keys to the cabinet"),
    ("s2", "author", "writes", "head", "write", "rule", 6, 1, "the author of the books that i read"),
    ("s3", "Dogs", "have", "aux", "has", "table", 0, 0, "dogs"),
    ("s6", "students", "sing", "head", "sings", "data", 6, 2, "the students of the teacher from the school"),
    ("s7", "Mary", "sings", "head", "sing", "data", 0, 0, "mary"),
    ("s8", "dogs", "bark", "head", "barks", "rule", 0, 0, "the N dogs"),
]


def conllu(sentences=SENTENCES) -> str:
    out = []
    for sid, text, rows in sentences:
        out += [f"# sent_id = {sid}", f"# text = {text}"]
        for i, (form, (lemma, upos, xpos, feats, head, rel)) in enumerate(zip(text.split(), rows, strict=True), 1):
            out.append("\t".join([str(i), form, lemma, upos, xpos, feats, str(head), rel, "_", "_"]))
        out.append("")
    return "\n".join(out) + "\n"


@pytest.fixture
def treebank(tmp_path):
    path = tmp_path / "snippet.conllu"
    path.write_text(conllu())
    return path


def test_the_builder_picks_exactly_the_right_pairs_forms_and_attractors(treebank):
    build = build_cases(read_conllu(treebank))
    got = [(c.sent_id, c.subject, c.verb, c.verb_relation, c.wrong, c.wrong_source, c.intervening, c.attractors,
            c.prefix) for c in build.cases]
    assert got == EXPECTED
    assert (build.sentences, build.subjects, build.disagreeing, build.no_wrong_form) == (9, 9, 1, 0)
    c = build.cases[0]
    assert (c.subject_index, c.verb_index, c.number, c.line) == (1, 5, "Plur", 1)
    assert "6 agreement cases" in build.summary() and "2 with one attractor, 1 with two or more" in build.summary()


def test_without_normalisation_the_prefix_is_as_written(treebank):
    assert build_cases(read_conllu(treebank), "none").cases[-1].prefix == "The 3 dogs"


def test_a_treebank_without_noun_subjects_gives_an_explained_empty_result(tmp_path):
    build = build_cases(read_conllu(_only(tmp_path, "s4", "s9")[0]))
    assert build.subjects == 2 and not build.cases and "no agreement cases in 2 sentences" in build.explain_empty()


def _only(tmp_path, *ids):
    path = tmp_path / "part.conllu"
    path.write_text(conllu([s for s in SENTENCES if s[0] in ids]))
    return path, ids


def test_cases_file_has_one_header_and_one_row_per_case(treebank):
    cases = build_cases(read_conllu(treebank)).cases
    rows = list(csv.DictReader(cases_tsv(cases).splitlines(), delimiter="\t"))
    assert tuple(rows[0]) == COLUMNS and len(rows) == len(cases) and rows[3]["wrong"] == "sings"


@pytest.fixture
def lm():
    text = ["the keys to the cabinet are here", "the author of the books that i read writes", "dogs have",
            "the students of the teacher from the school sing", "mary sings", "the N dogs bark", "the keys is",
            "dogs has been here", "the cabinet is big", "the cabinet is old"] * 2
    return NgramLM(3, "witten_bell").fit(text)


def test_scores_agree_with_the_interface_stepped_by_hand(treebank, lm):
    cases = build_cases(read_conllu(treebank)).cases
    got = score_cases(lm, cases)
    oov = 0
    for c, r in zip(cases, got, strict=True):
        ids = [lm.vocab.lookup(w) for w in (c.verb, c.wrong)]
        if UNK_ID in ids:  # not scored
            assert r is None
            oov += 1
            continue
        state = lm.begin_state()
        for w in c.prefix_words:
            state = lm.advance(state, lm.vocab.lookup(w))
        lp = lm.next_logprobs([state])[0]
        assert r == (None if lp[ids[0]] == lp[ids[1]] else lp[ids[0]] > lp[ids[1]])
    assert oov == 2  # "write" and "barks" are not in the vocabulary
    assert True in got and False in got  # "the cabinet is" is the more frequent: an attractor wins


def test_buckets_count_the_cases_with_wilson_intervals(treebank, lm):
    cases = build_cases(read_conllu(treebank)).cases
    results = score_cases(lm, cases)
    recs = {(r["bucket_kind"], r["bucket"]): r for r in evaluate("m", lm, cases)}
    scored = [r for r in results if r is not None]
    assert recs["all", "all"]["cases"] == len(scored) and recs["all", "all"]["not_scored"] == results.count(None)
    assert recs["all", "all"]["correct"] == sum(scored)
    assert (recs["all", "all"]["ci_low"], recs["all", "all"]["ci_high"]) == wilson_interval(sum(scored), len(scored))
    by_attr = [recs["attractors", b] for b in ("0", "1", "2", "3+")]
    assert [r["cases"] + r["not_scored"] for r in by_attr] == [3, 2, 1, 0] and by_attr[3]["accuracy"] is None
    inter = [recs["intervening", b] for b in ("0", "1", "2", "3-4", "5-9", "10+")]
    assert [r["cases"] + r["not_scored"] for r in inter] == [3, 0, 0, 1, 2, 0]


def test_the_cli_writes_cases_records_and_figure(treebank, lm, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    arpa = tmp_path / "lm.arpa"
    lm.to_arpa(arpa)
    out = tmp_path / "out"
    code, stdout, err = cli(capsys, "diagnose", "agreement", arpa, arpa, "--conllu", treebank, "--out", out, "--quiet")
    assert code == 0, err
    rows = json.loads((out / "agreement.json").read_text())
    assert len(rows) == 2 * 11 and rows[0]["model"] == str(arpa) and rows[0]["bucket"] == "all"
    assert rows[:11] == [dict(r, model=str(arpa)) for r in rows[11:]]  # one model twice: the same numbers
    assert (out / "agreement.png").read_bytes()[:4] == b"\x89PNG"
    assert len((out / "agreement_cases.tsv").read_text().splitlines()) == 1 + len(EXPECTED)
    assert np.isclose(float(list(csv.DictReader((out / "agreement.csv").read_text().splitlines()))[0]["accuracy"]), rows[0]["accuracy"])
    assert "all" in stdout


def test_the_cli_explains_an_empty_result(tmp_path, lm, capsys):
    arpa = tmp_path / "lm.arpa"
    lm.to_arpa(arpa)
    path, _ = _only(tmp_path, "s4", "s9")
    code, stdout, err = cli(capsys, "diagnose", "agreement", arpa, "--conllu", path, "--out", tmp_path / "o", "--quiet")
    assert code == 0 and "no agreement cases" in stdout
    assert json.loads((tmp_path / "o" / "agreement.json").read_text()) == []
    assert (tmp_path / "o" / "agreement_cases.tsv").read_text().count("\n") == 1
