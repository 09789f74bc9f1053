"""A malformed ARPA file is refused with the number of its bad line, whichever path reads it.

The mutation-based agreement of every reading path with the line-by-line reader is in
tests/fuzz/test_fuzz.py; the comparison with KenLM's reader in tests/peer/test_arpa_vs_kenlm.py.
"""

from __future__ import annotations

import gzip
import io
import subprocess
import sys

import pytest

from lmlab.cli.main import main
from lmlab.errors import ArpaFormatError
from lmlab.models.ngram.arpa import read_arpa
from tests.arpa_mutations import TOY, compiled, outcome, same, strict, vectorised

# issue 13, item 1: line 7 has an extra field and line 8 lacks its word; together they hold the
# 12 fields four 3-field lines would, which the vectorised parser took for a valid section
# (the word "-3" became a unigram and "-1.0" a word)
ISSUE_EXAMPLE = ("\\data\\\nngram 1=4\nngram 2=1\n\n\\1-grams:\n-1.0\t<unk>\t0\n-1.0\t<s>\t-0.5 -2.0\n-1.0\t-3\n"
                 "-0.5\t</s>\t0\n\n\\2-grams:\n-0.2\t<s> </s>\n\n\\end\\\n")
LINE = 7


def _write(tmp_path, text: str, name: str) -> str:
    p = tmp_path / name
    p.write_bytes(gzip.compress(text.encode()) if name.endswith(".gz") else text.encode())
    return str(p)


@pytest.mark.parametrize("name", ["bad.arpa", "bad.arpa.gz"])
@pytest.mark.parametrize("strict_only", [False, True])
def test_issue_example_is_refused_at_its_line(tmp_path, name, strict_only):
    with pytest.raises(ArpaFormatError) as info:
        read_arpa(_write(tmp_path, ISSUE_EXAMPLE, name), strict=strict_only)
    assert info.value.line_no == LINE and info.value.line == "-1.0\t<s>\t-0.5 -2.0"
    assert f"line {LINE}: a 1-gram line" in str(info.value)


def test_issue_example_on_every_path():
    """The compiled reader steps aside; the vectorised and line-by-line readers name line 7."""
    raw = ISSUE_EXAMPLE.encode()
    assert outcome(compiled, raw) == ("stepped aside",)
    ref = outcome(strict, raw)
    assert ref[:3] == ("error", "ArpaFormatError", LINE)
    assert same(outcome(vectorised, raw), ref)


def test_issue_example_compensating_lines_in_a_higher_order(tmp_path):
    """The same blind spot one order up: a 2-gram line with a third word, the next without its second."""
    text = TOY.replace("-0.2\t<s> a\n-0.1\ta </s>", "-0.2\t<s> a a\n-0.1\ta")
    with pytest.raises(ArpaFormatError, match="line 12: a number for the backoff") as info:
        read_arpa(_write(tmp_path, text, "m.arpa"))
    assert info.value.line_no == 12


def _cli(argv, stdin_text, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin_text.encode())))
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("name", ["bad.arpa", "bad.arpa.gz"])
@pytest.mark.parametrize("command", ["query", "perplexity", "convert"])
def test_issue_example_from_the_cli(tmp_path, monkeypatch, capsys, name, command):
    path = _write(tmp_path, ISSUE_EXAMPLE, name)
    out_file = tmp_path / "out.lmbin"
    argv = {"query": ["query", path], "perplexity": ["perplexity", path],
            "convert": ["convert", path, str(out_file)]}[command]
    code, out, err = _cli(argv, "a b c\n", monkeypatch, capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"{path}: line {LINE}: a 1-gram line" in err
    assert not out_file.exists()


def test_issue_example_query_as_a_user_runs_it(tmp_path):
    """`lmlab query bad.arpa <<< "a b c"` in a fresh process: exit 2, one line naming line 7."""
    path = _write(tmp_path, ISSUE_EXAMPLE, "bad.arpa")
    r = subprocess.run([sys.executable, "-m", "lmlab", "query", path], input="a b c\n", capture_output=True,
                       text=True, timeout=120, check=False)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and f"line {LINE}:" in r.stderr and "Traceback" not in r.stderr


# The line-by-line reader is the reference for every path, so its verdicts are checked by hand
# here: (change to TOY, the line it must name and what it must say), or None where the change
# leaves the same model.
GOOD = TOY
CASES = [
    ("extra field, 1-gram", ("-0.7\ta\t-0.3", "-0.7\ta\t-0.3\t-1"), 9, "a 1-gram line"),
    ("extra word, top order", ("-0.2\t<s> a", "-0.2\t<s> a a"), 12, "a number for the backoff"),
    ("backoff on top order", ("-0.2\t<s> a", "-0.2\t<s> a\t-0.5"), 12, "no backoff weight"),
    ("extra word and backoff", ("-0.2\t<s> a", "-0.2\t<s> a a -1"), 12, "a 2-gram line"),
    ("missing word, 2-gram", ("-0.1\ta </s>", "-0.1\ta"), 13, "a 2-gram line"),
    ("missing probability", ("-0.1\ta </s>", "a </s>"), 13, "a 2-gram line"),
    ("swapped probability and word", ("-0.7\ta\t-0.3", "a\t-0.7\t-0.3"), 9, "a number for the log10 probability"),
    ("non-numeric backoff", ("-0.7\ta\t-0.3", "-0.7\ta\tx"), 9, "a number for the backoff"),
    ("underscore in a number", ("-0.7\ta\t-0.3", "-0_7\ta\t-0.3"), 9, "a number for the log10 probability"),
    ("non-ASCII digit", ("-0.7\ta\t-0.3", "-\u0660.7\ta\t-0.3"), 9, "a number for the log10 probability"),
    ("infinite probability", ("-0.7\ta\t-0.3", "-inf\ta\t-0.3"), 9, "a finite number"),
    ("overflowing backoff", ("-0.7\ta\t-0.3", "-0.7\ta\t-1e999"), 9, "a finite number for the backoff"),
    ("not-a-number backoff", ("-0.7\ta\t-0.3", "-0.7\ta\tnan"), 9, "a finite number for the backoff"),
    ("positive probability", ("-0.7\ta\t-0.3", "0.7\ta\t-0.3"), 9, "a log10 probability <= 0"),
    ("word not a unigram", ("-0.1\ta </s>", "-0.1\ta zzz"), 13, "only words listed as unigrams"),
    ("repeated unigram", ("-0.5\t</s>\t0", "-0.5\ta\t0"), 9, "each unigram once"),
    ("repeated 2-gram", ("-0.1\ta </s>", "-0.1\t<s> a"), 13, "each 2-gram once"),
    ("count too high", ("ngram 2=2", "ngram 2=3"), 14, "3 2-grams as the \\data\\ header says, but the section has 2"),
    ("count too low", ("ngram 2=2", "ngram 2=1"), 13, "1 2-grams as the \\data\\ header says, but the section has 2"),
    ("blank line inside a section", ("-99\t<s>\t-0.5\n", "-99\t<s>\t-0.5\n\n"), 8, "no blank line inside the 1-gram"),
    ("missing \\end\\", ("\n\\end\\\n", "\n"), 14, "\\end\\ after the last section (the file ended)"),
    ("text after \\end\\", ("\\end\\\n", "\\end\\\njunk\n"), 16, "nothing after \\end\\"),
    ("a second \\end\\", ("\\end\\\n", "\\end\\\n\\end\\\n"), 16, "nothing after \\end\\"),
    ("truncated in a section", ("-0.1\ta </s>\n\n\\end\\\n", ""), 12, "(the file ended)"),
    ("section header misspelt", ("\\2-grams:", "\\2-gram:"), 11, "the section header \\2-grams:"),
    # the counts of `ngram N=COUNT`: ASCII digits, as in n-gram lines (int() takes the others)
    ("count in Arabic-Indic digits", ("ngram 2=2", "ngram 2=\u0662"), 3, "ASCII digits"),
    ("count with an underscore", ("ngram 1=4", "ngram 1=0_4"), 2, "ASCII digits"),
    ("count in full-width digits", ("ngram 1=4", "ngram 1=\uff14"), 2, "ASCII digits"),
    ("count with a sign", ("ngram 2=2", "ngram 2=+2"), 3, "ASCII digits"),
    ("negative count", ("ngram 2=2", "ngram 2=-2"), 3, "ASCII digits"),
    ("order in Arabic-Indic digits", ("ngram 2=2", "ngram \u0662=2"), 3, "ASCII digits"),
    ("no unigrams", ("ngram 1=4", "ngram 1=0"), 2, "COUNT >= 1"),
    # fields are separated by spaces and tabs only: other whitespace is part of a field
    ("vertical tab as a separator", ("-0.7\ta\t-0.3", "-0.7\x0ba\x0b-0.3"), 9, "a 1-gram line"),
    ("form feed as a separator", ("-0.7\ta\t-0.3", "-0.7\x0ca\t-0.3"), 9, "a number for the log10 probability"),
    ("U+001C as a separator", ("-0.7\ta\t-0.3", "-0.7\x1ca\x1c-0.3"), 9, "a 1-gram line"),
    ("no-break space as a separator", ("-0.7\ta\t-0.3", "-0.7\u00a0a\u00a0-0.3"), 9, "a 1-gram line"),
    ("ideographic space between words", ("-0.2\t<s> a", "-0.2\t<s>\u3000a"), 12, "a 2-gram line"),
    ("form feed at a line end", ("-0.7\ta\t-0.3", "-0.7\ta\t-0.3\x0c"), 9, "a number for the backoff"),
    ("tabs to spaces", ("-0.7\ta\t-0.3", "-0.7 a -0.3"), None, None),
    ("trailing whitespace", ("-0.7\ta\t-0.3", "-0.7\ta\t-0.3 \t"), None, None),
    ("leading whitespace", ("-0.1\ta </s>", "  -0.1\ta </s>"), None, None),
    ("CRLF line ends", ("\n", "\r\n"), None, None),
    ("blank lines between sections", ("\n\n\\2-grams:", "\n\n \n\t\n\\2-grams:"), None, None),
    ("blank lines after \\end\\", ("\\end\\\n", "\\end\\\n\n  \n"), None, None),
    ("top-order backoff of 0", ("-0.2\t<s> a", "-0.2\t<s> a\t0"), None, None),
]


@pytest.mark.parametrize(("label", "change", "line_no", "expected"), CASES, ids=[c[0] for c in CASES])
def test_line_by_line_reader_verdicts(tmp_path, label, change, line_no, expected):
    old, new = change
    assert old in GOOD
    text = GOOD.replace(old, new)
    for compress in ("m.arpa", "m.arpa.gz"):
        for strict_only in (True, False):
            path = _write(tmp_path, text, compress)
            if line_no is None:
                assert same(outcome(read_arpa, path), outcome(strict, GOOD.encode()))
                continue
            with pytest.raises(ArpaFormatError) as info:
                read_arpa(path, strict=strict_only)
            assert info.value.line_no == line_no, str(info.value)
            assert expected in info.value.expected, str(info.value)
            got = text.split("\n")[line_no - 1].replace("\r", "") if line_no <= text.count("\n") else ""
            assert info.value.line.replace("\r", "") == got


ODD_SPACES = ["\x0b", "\x0c", "\x1c", "\x1f", "\x85", "\u00a0", "\u2009", "\u2028", "\u3000"]


def test_odd_spaces_are_every_separator_str_split_knows_besides_ours():
    """The reader's list of characters it must not split on (the vectorised path steps aside for
    them) is exactly what str.split() splits on besides space, tab, CR and LF."""
    from lmlab.models.ngram.arpa_text import _ODD_SPACE

    split_on = {chr(c) for c in range(0x110000) if len(("a" + chr(c) + "b").split()) == 2}
    assert {c for c in split_on if _ODD_SPACE.fullmatch(c)} == split_on - set(" \t\r\n")


@pytest.mark.parametrize("space", ODD_SPACES, ids=lambda c: f"U+{ord(c):04X}")
def test_a_word_holding_other_whitespace_is_one_word_on_every_path(tmp_path, space):
    """As in KenLM, only spaces and tabs separate fields: 'a<space>b' is one word, for the compiled,
    vectorised and line-by-line readers alike; written back to ARPA it reads the same."""
    word = f"a{space}b"
    text = TOY.replace("\ta\t", f"\t{word}\t").replace("<s> a\n", f"<s> {word}\n").replace("\ta </s>", f"\t{word} </s>")
    raw = text.encode()
    ref = outcome(strict, raw)
    assert ref[0] == "ok" and word in ref[2].tokens and len(ref[2]) == 4, ref
    for read in (vectorised, compiled):
        got = outcome(read, raw)
        assert got == ("stepped aside",) or same(got, ref)
    path = _write(tmp_path, text, "m.arpa")
    assert same(outcome(read_arpa, path), ref)
    from lmlab import kenlm
    from lmlab.models.loading import load

    lm = load(path)
    lm.to_arpa(tmp_path / "back.arpa")
    assert load(tmp_path / "back.arpa").vocab == lm.vocab
    if space in "\x0b\x0c":  # ASCII whitespace: KenLM's query API (bytes.split) splits a sentence there
        return
    model = kenlm.Model(path)
    assert [x[2] for x in model.full_scores(word)] == [False, False]  # in the vocabulary, not <unk>
    assert model.score(word) == pytest.approx(-0.2 + -0.1)


@pytest.mark.parametrize("text", ["ngram 1=0", "ngram 1=\u0664", "ngram 1=0_4"])
def test_bad_counts_from_the_cli(tmp_path, monkeypatch, capsys, text):
    path = _write(tmp_path, TOY.replace("ngram 1=4", text), "bad.arpa")
    code, out, err = _cli(["query", path], "a\n", monkeypatch, capsys)
    assert code == 2 and out == "" and err.count("\n") == 1 and f"{path}: line 2: " in err, err
