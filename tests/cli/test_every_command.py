"""Every CLI command (lmlab.cli.main.COMMANDS, so the next command added is covered too) against bad
arguments and bad files: exit code 2, one line on stderr, no traceback (run in-process: fast).

Each command has a valid invocation below with placeholders for the files it reads and writes; the
test puts one bad file in each place (missing, a directory, empty, malformed, invalid UTF-8; an
output path that is a directory or in a missing folder) and one bad value in every option that has
a type or choices (found from the parser itself).  A command missing from CASES fails the test.
"""

from __future__ import annotations

import argparse
import io
import os
import sys

import pytest

from lmlab.cli._common import output_file
from lmlab.cli.ngram import model_output  # an output file, or a URI Spark writes
from lmlab.cli.main import COMMANDS, build_parser, main
from lmlab.models.ngram.model import NgramLM

MODEL, MODEL2, TEXT, NBEST, TSV, OUT, OUTJSON = "{MODEL}", "{MODEL2}", "{TEXT}", "{NBEST}", "{TSV}", "{OUT}", \
    "{OUTJSON}"

CASES = {
    "demo": ["demo"],
    "ngram": ["ngram", "-o", "2", "--smoothing", "witten_bell", "--text", TEXT, "--arpa", OUT, "--quiet"],
    "query": ["query", MODEL, "--text", TEXT],
    "prune": ["prune", MODEL, "--threshold", "1e-7", "--arpa", OUT, "--quiet"],
    "convert": ["convert", MODEL, OUT, "--quiet"],
    "perplexity": ["perplexity", MODEL, "--text", TEXT],
    "compare": ["compare", MODEL, MODEL2, "--text", TEXT],
    "mix": ["mix", MODEL, MODEL2, "--heldout", TEXT, "--save", OUTJSON],
    "classify": ["classify", "--train", TSV, "--test", TSV],
    "train": ["train", "--train", TEXT, "--save", "{TMP}/run", "--dry-run", "--quiet"],
    "complete": ["complete", MODEL, "the"],
    "score": ["score", MODEL, "--text", TEXT],
    "rerank": ["rerank", MODEL, "--nbest", NBEST],
    "generate": ["generate", MODEL, "--seed", "1"],
    "serve": ["serve", MODEL],
    "data": ["data", "verify", "ptb"],
    "predict": ["predict", MODEL],
    "evaluate": ["evaluate", MODEL, "--data", "conll2000"],
    "translate": ["translate", MODEL, "--text", TEXT],
    "encode": ["encode", MODEL, "--text", TEXT, "--output", OUT],
    "diagnose": ["diagnose", "gradients", MODEL, "--text", TEXT, "--out", "{TMP}/diag"],
    "report": ["report", MODEL, "--text", TEXT, "--sections", "context", "cloze", "--out", OUT, "--quiet"],  # n-gram: both apply
}
# invocations that reach run() only with bad values (a good one would train a model or start a server):
# predict, evaluate, translate and encode need a tagger or seq2seq, diagnose gradients a recurrent LM
NEVER_GOOD = {"demo", "serve", "train", "data", "predict", "evaluate", "translate", "encode", "diagnose"}
EMPTY_INPUT_OK = {"translate", "predict"}  # line-for-line filters: an empty input is an empty output
EXTRA_BAD = {  # bad arguments a placeholder cannot express
    "data": [["data", "verify", "no-such-dataset"], ["data", "fetch", "no-such-dataset"]],
    "diagnose": [["diagnose", "agreement", MODEL, "--conllu", "{TMP}/no_such.conllu", "--out", "{TMP}/diag"],
                 ["diagnose", "agreement", MODEL, "--conllu", TEXT, "--out", "{TMP}/diag"],  # not CoNLL-U
                 ["diagnose", "agreement", MODEL, "--text", TEXT, "--out", "{TMP}/diag"],
                 ["diagnose", "gates", MODEL, "--text", TEXT, "--out", "{TMP}/diag"],  # an n-gram has no gates
                 ["diagnose", "gates", MODEL, "--max-distance", "3", "--out", "{TMP}/diag"],
                 ["diagnose", "context", MODEL, "--text", TEXT, "--sentence", "a b", "--out", "{TMP}/diag"],
                 ["diagnose", "clipping", "{TMP}", "--out", "{TMP}/diag"],  # a folder without steps.jsonl
                 ["diagnose", "curves", MODEL, "--out", "{TMP}/diag"],  # a file, not a run's folder
                 ["diagnose", "clipping", MODEL, "--smooth", "5", "--out", "{TMP}/diag"]],
    "mix": [["mix", MODEL, MODEL2, "--weights", "0.5", "0.6", "--save", OUTJSON],
            ["mix", MODEL, MODEL2, "--weights", "1", "--save", OUTJSON],
            ["mix", MODEL, MODEL2, "--weights", "0.5", "0.5", "--save", "{TMP}/x.txt"],
            ["mix", MODEL, MODEL2, "--heldout", TEXT, "--data", "ptb", "--save", OUTJSON]],
    "classify": [["classify"], ["classify", "--train", TSV]],
    "report": [["report", MODEL, "--sections", "cloze", "--lengths", "3", "--out", OUT],
               ["report", MODEL, "--sections", "agreement", "--conllu", TEXT, "--out", OUT, "--quiet"],  # not CoNLL-U
               ["report", MODEL, "--text", TEXT, "--data", "ptb", "--sections", "gradients", "--out", OUT]],
    "train": [["train", "--save", "{TMP}/run2"]],
    "generate": [["generate", MODEL, "-n", "-1"], ["generate", MODEL, "--max_tokens", "-5"],
                 ["generate", MODEL, "--top_p", "1.5"]],
    "complete": [["complete", MODEL, "the", "-k", "0"]],
    "perplexity": [["perplexity", MODEL, "--text", TEXT, "--data", "ptb"]],
    "ngram": [["ngram", "-o", "0", "--text", TEXT], ["ngram", "-o", "2", "--text", TEXT, "--data", "ptb"]],
}

TEXT_KINDS = ("missing", "directory", "empty", "invalid_utf8")
MODEL_KINDS = ("missing", "directory", "empty", "malformed", "invalid_utf8", "malformed_lmbin")
NBEST_KINDS = ("missing", "directory", "empty", "malformed", "invalid_utf8")
TSV_KINDS = ("missing", "directory", "empty", "malformed", "invalid_utf8")
OUT_KINDS = ("directory", "missing_folder")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    good = d / "good.arpa"
    NgramLM(2, "witten_bell").fit(["the cat sat", "the dog sat", "a cat"] * 3).to_arpa(good)
    (d / "good.txt").write_text("the cat\nthe dog sat\n")
    (d / "good.nbest").write_text("0 ||| the cat ||| a ||| -1\n0 ||| the dog ||| a ||| -2\n")
    (d / "good.tsv").write_text("pos\tthe cat\nneg\tthe dog\n")
    (d / "adir").mkdir()
    (d / "adir.arpa").mkdir()
    (d / "adir.json").mkdir()
    (d / "empty").write_bytes(b"")
    (d / "bad_utf8").write_bytes(b"the cat\n\xc3\x28 dog\n")
    (d / "bad.arpa").write_text("\\data\\\nngram 1=3\n\n\\1-grams:\n-1.0\t<unk>\t0\n-1.0\n\n\\end\\\n")
    (d / "bad_utf8.arpa").write_bytes(good.read_bytes().replace(b"\tcat", b"\tc\xc3\x28t", 1))
    (d / "bad.lmbin").write_bytes(b"LMLABBIN" + os.urandom(200))
    (d / "bad.nbest").write_text("0 ||| the cat\n")
    (d / "bad.tsv").write_text("onlylabel\n")
    return d


def bad_path(d, slot: str, kind: str) -> str:
    if kind == "missing":
        return str(d / "no_such_file.txt")
    if kind == "directory":
        return str(d / ("adir.json" if slot == OUTJSON else "adir.arpa" if slot == OUT else "adir"))
    if kind == "missing_folder":
        return str(d / "no_such_folder" / ("out.json" if slot == OUTJSON else "out.arpa"))
    if kind == "empty":
        return str(d / "empty")
    if kind == "invalid_utf8":
        return str(d / ("bad_utf8.arpa" if slot in (MODEL, MODEL2) else "bad_utf8"))
    if kind == "malformed":
        return str(d / {MODEL: "bad.arpa", MODEL2: "bad.arpa", NBEST: "bad.nbest", TSV: "bad.tsv"}[slot])
    if kind == "malformed_lmbin":
        return str(d / "bad.lmbin")
    raise AssertionError(kind)


def fill(argv, d, slot=None, value=None):
    good = {MODEL: str(d / "good.arpa"), MODEL2: str(d / "good.arpa"), TEXT: str(d / "good.txt"),
            NBEST: str(d / "good.nbest"), TSV: str(d / "good.tsv"), OUT: str(d / "out.arpa"),
            OUTJSON: str(d / "out.json")}
    out = []
    for a in argv:
        a = value if a == slot else good.get(a, a)
        out.append(a.replace("{TMP}", str(d)))
    return out


def bad_invocations(d):
    """(command, argv, path the message must name or None) for every bad case."""
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for cmd in COMMANDS:
        base = CASES[cmd]
        kinds = {MODEL: MODEL_KINDS, MODEL2: MODEL_KINDS, TEXT: TEXT_KINDS, NBEST: NBEST_KINDS, TSV: TSV_KINDS,
                 OUT: OUT_KINDS, OUTJSON: OUT_KINDS}
        for slot in dict.fromkeys(a for a in base if a in kinds):
            for kind in kinds[slot]:
                p = bad_path(d, slot, kind)
                if slot == TEXT and kind == "empty" and cmd in EMPTY_INPUT_OK:  # an empty output, not an error:
                    yield cmd, fill(base, d, slot, p), None  # (only the placeholder model is bad here)
                    continue
                yield cmd, fill(base, d, slot, p), p if kind != "missing_folder" else str(d / "no_such_folder")
        for argv in EXTRA_BAD.get(cmd, []):
            yield cmd, fill(argv, d), None
        yield cmd, fill(base, d) + ["--no-such-option"], None
        sp = sub.choices[cmd]
        if any(a.required for a in sp._actions):
            yield cmd, [cmd], None
        for action in sp._actions:
            if not action.option_strings or not (action.type or action.choices):
                continue
            if action.type in (None, str, output_file, model_output) and not action.choices:  # any text is valid
                continue
            yield cmd, fill(base, d) + [action.option_strings[-1], "not-a-valid-value"], None


def test_every_command_is_covered():
    assert set(CASES) == set(COMMANDS), "add the new command to CASES (a valid invocation with placeholders)"


def test_every_command_refuses_bad_input(files, capsys, monkeypatch):
    failures = []
    n = 0
    for cmd, argv, named in bad_invocations(files):
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"")))
        try:
            code = main(argv)
        except BaseException as exc:  # noqa: BLE001 - any escape is the failure being tested for
            code = f"raised {type(exc).__name__}: {exc}"
        _, err = capsys.readouterr()
        n += 1
        problems = []
        if code != 2:
            problems.append(f"exit {code}")
        if err.count("\n") != 1 or not err.endswith("\n"):
            problems.append(f"{err.count(chr(10))} lines on stderr")
        if "Traceback" in err:
            problems.append("traceback")
        if named is not None and named not in err:
            problems.append(f"message does not name {named}")
        if problems:
            failures.append(f"lmlab {' '.join(argv)}: {', '.join(problems)}: {err.strip()[:300]!r}")
    assert n > 150
    assert not failures, "\n".join(failures)


def test_good_invocations_work(files, capsys):
    """The base invocations are valid (so each bad case fails for its one bad part)."""
    for cmd, base in CASES.items():
        if cmd in NEVER_GOOD:
            continue
        argv = fill(base, files)
        assert main(argv) == 0, (argv, capsys.readouterr().err)
        capsys.readouterr()
