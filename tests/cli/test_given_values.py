"""A value given is used or refused, never mistaken for "not given" (0 and "" are values: item 4
of the review: `lmlab train --epochs 0` trained 6 epochs); and the smaller review items: messages
that say what is true (classify on blank lines, MLE's perplexity, --discount_fallback's help,
tinyshakespeare's missing test split)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lmlab.cli.main import main
from lmlab.errors import ConfigError
from lmlab.models.ngram.model import NgramLM

ROOT = Path(__file__).resolve().parents[2]
TRAIN = ["the cat sat", "the dog sat", "a cat ran", "a dog ran"] * 3


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(capsys, *argv) -> str:
    code, _, err = run(capsys, *argv)
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, (code, err)
    return err


def test_no_value_or_default_on_user_values_in_the_cli():
    """The class: `x or default` (and `if x:` for "given") reads 0 and "" as not given.  The CLI's
    option values are compared with None instead; this scan keeps it so.  (A list option's empty
    list may fall back to a list: `--discount_fallback` alone means KenLM's values.)"""
    pattern = re.compile(r"\bargs\.\w+ or (?!\(\)|\[\]|list\(|tuple\()|\bif (not )?args\.(text|data|heldout|arpa|weights|discount|test|train|"
                         r"predict|task|epochs|seed|columns|limit_vocab_file)\b(?! (is|in|not in|==|!=))")
    bad = []
    for path in sorted((ROOT / "lmlab" / "cli").glob("*.py")):
        for no, line in enumerate(path.read_text().splitlines(), start=1):
            if pattern.search(line) and "# noqa: value" not in line:
                bad.append(f"{path.name}:{no}: {line.strip()}")
    assert not bad, bad


@pytest.mark.parametrize("argv", [["train", "--train", "{T}", "--save", "{TMP}/r", "--epochs", "0"],
                                  ["train", "--train", "{T}", "--save", "{TMP}/r", "--threads", "0"],  # not "auto"
                                  ["train", "--train", "{T}", "--save", "{TMP}/r", "--max_batches", "0"],  # not "all"
                                  ["ngram", "-o", "0", "--text", "{T}"],
                                  ["ngram", "-o", "2", "--text", ""],
                                  ["ngram", "-o", "2", "--text", "{T}", "--arpa", ""],
                                  ["query", "{TMP}/m.arpa", "--text", ""],
                                  ["perplexity", "{TMP}/m.arpa", "--text", ""],
                                  ["perplexity", "{TMP}/m.arpa", "--data", ""],
                                  ["mix", "{TMP}/m.arpa", "{TMP}/m.arpa", "--heldout", "", "--save", "{TMP}/x.json"]])
def test_zero_and_empty_values_are_refused_not_read_as_absent(argv, tmp_path, capsys):
    text = tmp_path / "t.txt"
    text.write_text("\n".join(TRAIN) + "\n")
    NgramLM(2, "witten_bell").fit(TRAIN).to_arpa(tmp_path / "m.arpa")
    argv = [a.replace("{T}", str(text)).replace("{TMP}", str(tmp_path)) for a in argv]
    err = one_line_error(capsys, *argv)
    assert "empty" in err or "not a positive integer" in err, err
    assert not (tmp_path / "r").exists() and not (tmp_path / "x.json").exists()


def test_classify_on_blank_lines_names_the_file(tmp_path, capsys):
    train, blanks = tmp_path / "train.tsv", tmp_path / "blanks.txt"
    train.write_text("a\tthe cat sat\nb\tthe dog ran\n")
    blanks.write_text("\n  \n\n")
    err = one_line_error(capsys, "classify", "--train", train, "--test", blanks)
    assert f"{blanks}: no labelled lines" in err and "give --test" not in err
    err = one_line_error(capsys, "classify", "--train", blanks, "--test", train)
    assert f"{blanks}: no labelled lines" in err


@pytest.mark.parametrize("command", ["query", "perplexity"])
def test_mle_query_and_perplexity_agree_and_say_why(command, tmp_path, capsys):
    """MLE gives probability 0 to what training did not see: perplexity is then infinite.  Both
    commands refuse it with that reason (query once printed 2e74 from log10 -99 floors)."""
    arpa = tmp_path / "mle.arpa"
    NgramLM(2, "mle").fit(TRAIN).to_arpa(arpa)
    text = tmp_path / "t.txt"
    text.write_text("the zebra sat\n")
    err = one_line_error(capsys, command, arpa, "--text", text)
    assert "probability 0" in err and "infinite" in err and "not probabilities" not in err, err


def test_discount_fallback_help_says_what_happens_without_it():
    from lmlab.cli.main import build_parser

    sub = build_parser("ngram")._subparsers._group_actions[0].choices["ngram"]
    action = next(a for a in sub._actions if a.dest == "discount_fallback")
    assert "default: no fallback" in action.help and "0.5 1 1.5" in action.help
    assert "default 0.5 1 1.5" not in " ".join(sub.format_help().split())


def test_tinyshakespeare_has_no_test_split():
    from lmlab.data.readers import lm_lines, tinyshakespeare_text

    for call in (lambda: lm_lines("tinyshakespeare", "test"), lambda: tinyshakespeare_text("test")):
        with pytest.raises(ConfigError, match="no test split.*valid split"):
            call()
    with pytest.raises(ConfigError, match="has splits train, valid"):
        tinyshakespeare_text("dev")


def test_tinyshakespeare_test_split_refused_through_the_cli(tmp_path, capsys):
    arpa = tmp_path / "m.arpa"
    NgramLM(2, "witten_bell").fit(TRAIN).to_arpa(arpa)
    err = one_line_error(capsys, "perplexity", arpa, "--data", "tinyshakespeare", "--split", "test")
    assert "no test split" in err and "--split valid" in err
