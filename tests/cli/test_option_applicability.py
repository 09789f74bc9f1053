"""Options that apply only with others (declared with ``lmlab.cli._common.applies_only``) are
refused, with one line naming them, where they would have no effect; and every numeric option's
value is checked when it is parsed (finite numbers, ranges), before any work.

The test walks the declarations of every command: each needs a case below (a command line where
the option has no effect, and one where it has), so a declaration added later is covered."""

from __future__ import annotations

import argparse
import math

import pytest

from lmlab.cli import _common
from lmlab.cli.main import build_parser, main

M = "m.arpa"
# (command, option dest, what it applies with) -> (argv where it has no effect, argv where it has)
CASES = {
    ("convert", "quantize", "to a binary output (*.lmbin)"): (["convert", M, "x.arpa", "-q", "8"],
                                                              ["convert", M, "x.lmbin", "-q", "8"]),
    ("convert", "trie", "to a binary output (*.lmbin)"): (["convert", M, "x.arpa", "--trie"],
                                                          ["convert", M, "x.lmbin", "--trie"]),
    ("convert", "backoff_bits", "with -q/--quantize"): (["convert", M, "x.lmbin", "-b", "8"],
                                                        ["convert", M, "x.lmbin", "-q", "8", "-b", "8"]),
    ("ngram", "k", "with --smoothing additive"): (["ngram", "-o", "2", "-k", "2"],
                                                   ["ngram", "-o", "2", "-k", "2", "--smoothing", "additive"]),
    ("ngram", "discount", "with --smoothing modified_kneser_ney or kneser_ney or absolute_discounting"): (
        ["ngram", "-o", "2", "--smoothing", "witten_bell", "--discount", "0.5"],
        ["ngram", "-o", "2", "--smoothing", "kneser_ney", "--discount", "0.5"]),
    ("ngram", "discount_fallback", "with --smoothing modified_kneser_ney or kneser_ney or absolute_discounting"): (
        ["ngram", "-o", "2", "--smoothing", "good_turing", "--discount_fallback"],
        ["ngram", "-o", "2", "--smoothing", "absolute_discounting", "--discount_fallback"]),
    ("ngram", "temp_prefix", "with -S/--memory or --engine spark"): (
        ["ngram", "-o", "2", "-T", "/tmp"], ["ngram", "-o", "2", "-T", "/tmp", "-S", "1G"]),
    **{("ngram", dest, "with --engine spark"): (["ngram", "-o", "2", f"--{dest}", v],
                                                ["ngram", "-o", "2", "--engine", "spark", f"--{dest}", v])
       for dest, v in (("master", "local[2]"), ("partitions", "2"), ("spark_conf", "spark.driver.memory=1g"))},
    **{("ngram", dest, "without --engine spark"): (["ngram", "-o", "2", "--engine", "spark", f"--{dest}", *v],
                                                   ["ngram", "-o", "2", f"--{dest}", *v])
       for dest, v in (("memory", ["1G"]), ("limit_vocab_file", ["{WORDS}"]), ("backoff", []))},
    ("ngram", "discount_fallback", "without --discount (fixed discounts)"): (
        ["ngram", "-o", "2", "--discount", "0.5", "--discount_fallback"], ["ngram", "-o", "2", "--discount_fallback"]),
    ("ngram", "prune", "with a smoothing other than additive, mle, stupid_backoff"): (
        ["ngram", "-o", "2", "--smoothing", "mle", "--prune", "0", "1"], ["ngram", "-o", "2", "--prune", "0", "1"]),
    ("ngram", "limit_vocab_file", "with a smoothing other than additive, mle, stupid_backoff"): (
        ["ngram", "-o", "2", "--smoothing", "stupid_backoff", "--limit_vocab_file", "{WORDS}"],
        ["ngram", "-o", "2", "--limit_vocab_file", "{WORDS}"]),
    ("perplexity", "columns", "with --stream"): (["perplexity", M, "--columns", "1"],
                                                 ["perplexity", M, "--columns", "1", "--stream"]),
    ("perplexity", "split", "with --data"): (["perplexity", M, "--split", "valid"],
                                             ["perplexity", M, "--split", "valid", "--data", "ptb"]),
    ("diagnose", "split", "with --data"): (["diagnose", "gradients", M, "--out", "o", "--split", "test"],
                                           ["diagnose", "gradients", M, "--out", "o", "--split", "test", "--data", "ptb"]),
    **{("diagnose", dest, f"with diagnose {d}"): (["diagnose", other, M, "--out", "o", f"--{dest}", v],
                                                   ["diagnose", d, M, "--out", "o", f"--{dest}", v])
       for d, other, opts in (("gradients", "agreement", (("max_distance", "5"), ("positions", "5"), ("warmup", "2"))),
                              ("agreement", "gradients", (("conllu", "a.conllu"),)),
                              ("cloze", "agreement", (("file", "t.tsv"),)),
                              ("gates", "cloze", (("sentence", "a b"),)),
                              ("context", "gates", (("lengths", "3"),)),
                              ("curves", "clipping", (("smooth", "5"),)))
       for dest, v in opts},
    **{("diagnose", dest, "with diagnose gradients, gates or context"): (["diagnose", "cloze", M, "--out", "o", f"--{dest}", v],
                                                                 ["diagnose", "gates", M, "--out", "o", f"--{dest}", v])
       for dest, v in (("text", "t"), ("data", "ptb"))},
    ("diagnose", "normalize", "with diagnose agreement, cloze or gates"): (
        ["diagnose", "gradients", M, "--out", "o", "--normalize", "none"],
        ["diagnose", "gates", M, "--out", "o", "--normalize", "none"]),
    **{("report", dest, f"with --sections {sec}"): (["report", M, "--out", "r.html", "--sections", "cloze", f"--{dest}", v],
                                                     ["report", M, "--out", "r.html", "--sections", sec, f"--{dest}", v])
       for dest, sec, v in (("max_distance", "gradients", "5"), ("positions", "gradients", "5"),
                            ("warmup", "gradients", "2"), ("lengths", "context", "3"), ("conllu", "agreement", "a.conllu"),
                            ("smooth", "curves", "5"))},
    **{("report", dest, "with --sections gradients, gates or context"): (
        ["report", M, "--out", "r.html", "--sections", "cloze", f"--{dest}", v],
        ["report", M, "--out", "r.html", "--sections", "cloze", "gates", f"--{dest}", v]) for dest, v in (("text", "t"), ("data", "ptb"))},
    ("report", "normalize", "with --sections agreement, cloze or gates"): (
        ["report", M, "--out", "r.html", "--sections", "context", "--normalize", "none"],
        ["report", M, "--out", "r.html", "--normalize", "none"]),
    ("report", "split", "with --data"): (["report", M, "--out", "r.html", "--split", "test"],
                                         ["report", M, "--out", "r.html", "--split", "test", "--data", "ptb"]),
    ("compare", "split", "with --data"): (["compare", M, "--split", "valid"],
                                          ["compare", M, "--split", "valid", "--data", "ptb"]),
    ("compare", "weights", "with --mix"): (["compare", M, M, "--weights", "0.5", "0.5"],
                                           ["compare", M, M, "--mix", "--weights", "0.5", "0.5"]),
    ("compare", "heldout", "with --mix"): (["compare", M, M, "--heldout", "h.txt"],
                                           ["compare", M, M, "--mix", "--heldout", "h.txt"]),
    ("compare", "heldout", "without --weights (it tunes the weights by EM)"): (
        ["compare", M, M, "--mix", "--weights", "0.5", "0.5", "--heldout", "h.txt"],
        ["compare", M, M, "--mix", "--heldout", "h.txt"]),
    **{("generate", opt, "when sampling (not with --greedy)"): (["generate", M, "--greedy", f"--{opt}", v],
                                                                 ["generate", M, f"--{opt}", v])
       for opt, v in (("temperature", "0.5"), ("top_k", "3"), ("top_p", "0.9"), ("seed", "1"))},
    **{("generate", opt, "when sampling (not with --beam)"): (["generate", M, "--beam", "2", f"--{opt}", v],
                                                               ["generate", M, f"--{opt}", v])
       for opt, v in (("temperature", "0.5"), ("top_k", "3"), ("top_p", "0.9"), ("seed", "1"))},
    ("generate", "greedy", "without --beam (--beam 1 is greedy)"): (["generate", M, "--beam", "2", "--greedy"],
                                                                     ["generate", M, "--greedy"]),
    ("generate", "stop", "without --beam (a hypothesis ends at </s>)"): (["generate", M, "--beam", "2", "--no-stop"],
                                                                          ["generate", M, "--no-stop"]),
    ("generate", "num", "when sampling (--greedy gives one output: copies would be the same)"): (
        ["generate", M, "--greedy", "-n", "3"], ["generate", M, "-n", "3"]),
    ("generate", "num", "without --beam (it prints the best hypothesis)"): (["generate", M, "--beam", "2", "-n", "3"],
                                                                             ["generate", M, "-n", "3"]),
    **{("generate", opt, "with --beam"): (["generate", M, f"--{opt}", v], ["generate", M, "--beam", "2", f"--{opt}", v])
       for opt, v in (("nbest", "2"), ("alpha", "0.6"))},
    ("classify", "test", "with --train (a --task has its own test set)"): (
        ["classify", "--task", "sst2", "--test", "t.tsv"], ["classify", "--train", "a.tsv", "--test", "t.tsv"]),
    ("classify", "test", "without --predict (which prints labels, no report)"): (
        ["classify", "--train", "a.tsv", "--test", "t.tsv", "--predict", "p.txt"],
        ["classify", "--train", "a.tsv", "--test", "t.tsv"]),
    ("classify", "fold", "with --task mr (the other tasks have their own test set)"): (
        ["classify", "--task", "sst2", "--fold", "1"], ["classify", "--task", "mr", "--fold", "1"]),
    ("classify", "json", "with a labelled test set (--predict prints labels)"): (
        ["classify", "--train", "a.tsv", "--predict", "p.txt", "--json"],
        ["classify", "--train", "a.tsv", "--test", "t.tsv", "--json"]),
    ("train", "freeze", "with --pretrained"): (["train", "--save", "r", "--freeze"],
                                               ["train", "--save", "r", "--freeze", "--pretrained", "v.txt"]),
    ("train", "context", "with --model window"): (["train", "--save", "r", "--context", "3"],
                                                  ["train", "--save", "r", "--context", "3", "--model", "window"]),
    **{("train", dest, "with a recurrent --model (not window)"): (
        ["train", "--save", "r", *k, "--model", "window", f"--{dest}", *v], ["train", "--save", "r", *k, f"--{dest}", *v])
       for dest, v, k in (("nlayers", ["1"], []), ("dropout_emb", ["0.1"], []), ("dropout_between", ["0.1"], []),
                          ("dropout_out", ["0.1"], []), ("tied", [], []), ("init", ["orthogonal"], []),
                          ("adaptive", ["5"], []), ("bptt", ["10"], []), ("mode", ["sentence"], []),
                          *((d, v, ["--kind", "tag"]) for d, v in (("unidirectional", []), ("crf", []),
                                                                   ("char_hidden", ["4"]), ("char_emsize", ["4"]))))},
    ("train", "init", "with --kind lm or classify"): (["train", "--save", "r", "--kind", "tag", "--init", "orthogonal"],
                                                       ["train", "--save", "r", "--kind", "classify", "--init", "orthogonal"]),
    ("train", "chrono_tmax", "with --init chrono"): (
        ["train", "--save", "r", "--kind", "classify", "--chrono_tmax", "5"],
        ["train", "--save", "r", "--kind", "classify", "--init", "chrono", "--chrono_tmax", "5"]),
    ("train", "bptt", "with --mode stream (a sentence is one sequence)"): (
        ["train", "--save", "r", "--mode", "sentence", "--bptt", "10"], ["train", "--save", "r", "--bptt", "10"]),
    **{("train", dest, "with --train FILE (a --data set has its own)"): (
        ["train", "--save", "r", "--kind", "tag", "--data", "conll2000", f"--{dest}", v],
        ["train", "--save", "r", "--kind", "tag", "--train", "a.col", f"--{dest}", v])
       for dest, v in (("word_column", "1"), ("label_column", "2"), ("scheme", "iob2"))},
    ("train", "labels", "with --data (a --train file's tags are in --label_column)"): (
        ["train", "--save", "r", "--kind", "tag", "--train", "a.col", "--labels", "pos"],
        ["train", "--save", "r", "--kind", "tag", "--data", "conll2000", "--labels", "pos"]),
    ("evaluate", "labels", "with --data (a --test file's tags are in --label_column)"): (
        ["evaluate", M, "--test", "t.col", "--labels", "upos"], ["evaluate", M, "--data", "conll2000", "--labels", "pos"]),
    **{("evaluate", dest, "with --test FILE (a --data set has its own columns)"): (
        ["evaluate", M, "--data", "conll2000", f"--{dest}", "2"], ["evaluate", M, "--test", "t.col", f"--{dest}", "2"])
       for dest in ("word_column", "label_column")},
    ("train", "fold", "with --data mr"): (["train", "--save", "r", "--kind", "classify", "--data", "sst2", "--fold", "1"],
                                          ["train", "--save", "r", "--kind", "classify", "--data", "mr", "--fold", "1"]),
    ("evaluate", "fold", "with --data mr"): (["evaluate", M, "--data", "sst2", "--fold", "1"],
                                             ["evaluate", M, "--data", "mr", "--fold", "1"]),
    ("train", "freeze", "with a recurrent --model (not window)"): (
        ["train", "--save", "r", "--model", "window", "--pretrained", "v.txt", "--freeze"],
        ["train", "--save", "r", "--pretrained", "v.txt", "--freeze"]),
    **{("train", dest, "with --kind seq2seq"): (
        ["train", "--save", "r", f"--{dest}", *v], ["train", "--save", "r", "--kind", "seq2seq", f"--{dest}", *v])
       for dest, v in (("source", ["de"]), ("target", ["en"]), ("train_source", ["a"]), ("train_target", ["b"]),
                       ("valid_source", ["a"]), ("valid_target", ["b"]), ("attention", ["dot"]), ("input_feed", []),
                       ("decoder_hidden", ["8"]), ("dev_metric", ["bleu"]))},
    ("train", "features", "with --train FILE"): (
        ["train", "--save", "r", "--kind", "conditional-lm", "--data", "sst2", "--features", "f"],
        ["train", "--save", "r", "--kind", "conditional-lm", "--train", "t", "--features", "f"]),
    ("train", "valid_features", "with --valid FILE"): (
        ["train", "--save", "r", "--kind", "conditional-lm", "--train", "t", "--features", "f", "--valid_features", "g"],
        ["train", "--save", "r", "--kind", "conditional-lm", "--train", "t", "--valid", "v", "--features", "f",
         "--valid_features", "g"]),
    ("evaluate", "raw_reference_file", "with --reference_file"): (
        ["evaluate", "m", "--source_file", "s", "--raw_reference_file", "r"],
        ["evaluate", "m", "--source_file", "s", "--reference_file", "t", "--raw_reference_file", "r"]),
    ("evaluate", "split", "with --data (a --test or --source_file file is all scored)"): (
        ["evaluate", M, "--test", "t.col", "--split", "valid"], ["evaluate", M, "--data", "sst2", "--split", "valid"]),
    ("evaluate", "alpha", "with --beam N > 1 (greedy decoding ranks nothing)"): (
        ["evaluate", "m", "--data", "multi30k", "--alpha", "0.6"],
        ["evaluate", "m", "--data", "multi30k", "--beam", "2", "--alpha", "0.6"]),
    ("translate", "alpha", "with --beam N > 1 or --nbest (greedy decoding ranks nothing)"): (
        ["translate", "m", "--alpha", "0.6"], ["translate", "m", "--nbest", "1", "--alpha", "0.6"]),
    ("evaluate", "resamples", "with --baseline"): (["evaluate", "m", "--data", "multi30k", "--resamples", "10"],
                                                   ["evaluate", "m", "--data", "multi30k", "--baseline", "b",
                                                    "--resamples", "10"]),
}


def _kind_cases() -> dict:
    """``lmlab train``'s options of one kind (each kind's own, and the LM's): refused with another kind."""
    from lmlab.cli.train import LM_ONLY
    from lmlab.models.neural.kinds import REGISTRY

    p = build_parser("train")
    sub = next(a for a in p._actions if isinstance(a, argparse._SubParsersAction)).choices["train"]
    dests = [("lm", d) for d in LM_ONLY] + [(r.only.split()[-1], r.dest) for r in sub.applies
                                             if r.only.startswith("with --kind ") and r.only.split()[-1] != "lm"
                                             and " or " not in r.only]  # (options of several kinds: own cases)
    cases = {}
    for kind, dest in dests:
        assert kind in REGISTRY, kind
        action = next(a for a in sub._actions if a.dest == dest and a.option_strings)
        value = ([] if action.nargs == 0 else [str(next(iter(action.choices)))] if action.choices is not None
                 else ["0.1"] if action.type is _common.dropout_rate else ["1"])
        extra = {"fold": ["--data", "mr"],  # it applies with --data mr only; the feature files with their texts
                 "features": ["--train", "t"],
                 "valid_features": ["--train", "t", "--valid", "v"]}.get(dest, [])
        other = "tag" if kind == "lm" else "lm"
        cases[("train", dest, f"with --kind {kind}")] = (
            ["train", "--save", "r", "--kind", other, *extra, action.option_strings[0], *value],
            ["train", "--save", "r", "--kind", kind, *extra, action.option_strings[0], *value])
    return cases


CASES.update(_kind_cases())


def command_parsers():
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices


def declarations():
    return [(name, rule) for name, p in command_parsers().items() for rule in p.applies]


def test_every_declaration_has_a_case_and_every_case_a_declaration():
    declared = {(name, r.dest, r.only) for name, r in declarations()}
    assert declared == set(CASES)
    assert len(declared) >= 25


def _parse_only(argv):
    """Parse ``argv`` as lmlab does (no command runs): the exit code and the error line."""
    parser = build_parser(argv[0])
    try:
        parser.parse_args(argv)
    except SystemExit as exc:
        return exc.code
    return 0


@pytest.mark.parametrize("case", sorted(CASES), ids=["-".join(c[:2]) + f"-{i}" for i, c in enumerate(sorted(CASES))])
def test_an_option_without_effect_is_refused_by_name(case, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "words.txt").write_text("a b\n")
    refused, accepted = ([a.replace("{WORDS}", "words.txt") for a in argv] for argv in CASES[case])
    parser = command_parsers()[case[0]]
    flag = parser.flag(case[1])
    assert _parse_only(refused) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"argument {flag}: applies only {case[2]}" in err, err
    assert _parse_only(accepted) == 0, capsys.readouterr().err
    # and through main(): exit 2, one line, before any file is opened (m.arpa does not exist)
    assert main(refused) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_char_hidden_0_says_what_a_window_tagger_does(capsys):
    """``--char_hidden 0`` (no character features) describes the window tagger: a script passing it
    to every --model is not refused; any other value is."""
    base = ["train", "--save", "r", "--kind", "tag", "--model", "window", "--char_hidden"]
    assert _parse_only([*base, "0"]) == 0
    assert _parse_only([*base, "4"]) == 2
    assert "argument --char_hidden: applies only with a recurrent --model (not window)" in capsys.readouterr().err


def test_given_records_options_at_their_default_value():
    p = build_parser("ngram")
    args = p.parse_args(["ngram", "-o", "2", "--smoothing", "additive", "-k", "1"])
    assert {"order", "smoothing", "k"} <= _common.given(args) and "min_count" not in _common.given(args)
    assert _parse_only(["ngram", "-o", "2", "-k", "1"]) == 2  # the default value, given, still has no effect


# -- option values are checked when parsed -----------------------------------------------------
NUMERIC_TYPES = {_common.finite_float, _common.positive_float, _common.nonnegative_float, _common.probability,
                 _common.positive_int, _common.nonnegative_int, _common.port_number, _common.quant_bits,
                 _common.vocab_size, _common.column_number, _common.dropout_rate}
NOT_YET_TYPED: set[str] = set()


def test_every_numeric_option_has_a_checked_type():
    bare = [f"{name} {a.option_strings[0]}" for name, p in command_parsers().items() if name not in NOT_YET_TYPED
            for a in p._actions if a.option_strings and a.type in (int, float) and a.choices is None]
    assert not bare, f"options parsed with a bare int/float (nan, inf, 0, negatives pass): {bare}"


@pytest.mark.parametrize("bad", ["nan", "inf", "-inf"])
def test_no_numeric_option_takes_nan_or_infinity(bad, capsys):
    for name, p in command_parsers().items():
        if name in NOT_YET_TYPED:
            continue
        for a in p._actions:
            if a.type in NUMERIC_TYPES:
                with pytest.raises(argparse.ArgumentTypeError):
                    a.type(bad)


@pytest.mark.parametrize(("argv", "says"), [
    (["prune", M, "--threshold", "0"], "not a positive number"),
    (["ngram", "-o", "2", "--min_count", "0"], "not a positive integer"),
    (["ngram", "-o", "2", "--max_vocab", "0"], "at least 4"),
    (["ngram", "-o", "2", "--max_vocab", "3"], "at least 4"),
    (["convert", M, "x.lmbin", "-q", "0"], "from 1 to 8"),
    (["convert", M, "x.lmbin", "-q", "9"], "from 1 to 8"),
    (["convert", M, "x.lmbin", "-q", "8", "-b", "0"], "from 1 to 8"),
    (["rerank", M, "--nbest", "n.txt", "--lm_weight", "nan"], "not a finite number"),
    (["rerank", M, "--nbest", "n.txt", "--score_weight", "inf"], "not a finite number"),
    (["compare", M, M, "--mix", "--weights", "nan", "1"], "not a non-negative number"),
    (["mix", M, M, "--weights", "-1", "2", "--save", "x.json"], "not a non-negative number"),
    (["ngram", "-o", "2", "--discount", "inf"], "not a non-negative number"),
    (["train", "--save", "r", "--epochs", "0"], "not a positive integer"),
    (["train", "--save", "r", "--epochs", "-1"], "not a positive integer"),
    (["ngram", "-o", "2", "--limit_vocab_file", "empty.txt"], "empty.txt is empty"),
    (["evaluate", M, "--data", "conll2000", "--labels", ""], "an empty name"),
    (["train", "--save", "r", "--kind", "tag", "--data", "conll2000", "--labels", " "], "an empty name"),
])
def test_bad_values_are_refused_before_any_work(argv, says, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty.txt").write_text("")
    assert main(argv) == 2  # M does not exist: refused before it is read
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and says in err and "Traceback" not in err, err


def test_finite_float_accepts_every_finite_number():
    assert [_common.finite_float(x) for x in ("0", "-1.5", "1e300")] == [0.0, -1.5, 1e300]
    assert math.isfinite(_common.positive_float("1e-300"))


# -- lmlab train --help says what the registry says ---------------------------------------------
@pytest.mark.parametrize("unbuilt", [False, True])
def test_train_help_names_the_refused_kinds_of_the_registry(capsys, monkeypatch, unbuilt):
    import re

    from lmlab.models.neural import kinds
    from lmlab.models.neural.kinds import REGISTRY

    if unbuilt:  # a kind registered without its model (every kind trains today)
        monkeypatch.setitem(kinds.REGISTRY, "future", kinds.KindSpec("future", "a future model", None))
    with pytest.raises(SystemExit):
        build_parser("train").parse_args(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    said = re.search(r"; ([\w\- ]+?) (?:is|are) refused \((?:its model is|their models are) not in lmlab yet\)", text)
    refused = [k for k, v in REGISTRY.items() if not v.available]
    assert refused == (["future"] if unbuilt else [])
    if not refused:
        assert said is None and "not in lmlab yet" not in text, text
    else:
        assert said, text
        assert said.group(1).split(" and ") == refused
    for kind, names in __import__("lmlab.cli.train", fromlist=["datasets"]).datasets().items():
        assert kind in REGISTRY and f"--kind {kind}: {', '.join(names)}" in text
