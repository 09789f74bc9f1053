"""Damaged and re-formatted ARPA files, and the outcome of reading one by each reading path.

Used by the fuzz tests (every path against the line-by-line reader) and the KenLM peer test.
A mutation takes the lines of a valid ARPA file and returns the lines of another file; ``MUTATIONS``
names each one and a hypothesis strategy draws its parameters.
"""

from __future__ import annotations

import gzip
import io
import re
from pathlib import Path

import numpy as np
from hypothesis import strategies as st

from lmlab.errors import ArpaFormatError, LmlabError

# Small valid files: a hand-written one, lmlab's writer (with its "# lmlab:" header), and an
# SRILM-style one where only n-grams that are contexts carry a backoff.
TOY = ("\\data\\\nngram 1=4\nngram 2=2\n\n\\1-grams:\n-1.0\t<unk>\t0\n-99\t<s>\t-0.5\n"
       "-0.5\t</s>\t0\n-0.7\ta\t-0.3\n\n\\2-grams:\n-0.2\t<s> a\n-0.1\ta </s>\n\n\\end\\\n")
SRILM_STYLE = ("\\data\\\nngram 1=5\nngram 2=4\nngram 3=2\n\n\\1-grams:\n-1.2\t<unk>\n-99\t<s>\t-0.4\n"
               "-0.6\t</s>\n-0.5\ta\t-0.2\n-0.8\tb\t-0.1\n\n\\2-grams:\n-0.3\t<s> a\t-0.05\n-0.4\ta b\t-0.07\n"
               "-0.2\tb </s>\n-0.9\ta </s>\n\n\\3-grams:\n-0.1\t<s> a b\n-0.15\ta b </s>\n\n\\end\\\n")


def lmlab_written() -> str:
    from lmlab.models.ngram.model import NgramLM

    lm = NgramLM(3, "witten_bell").fit(["the cat sat", "a dog sat on the mat", "the mat"])
    buf = io.BytesIO()
    lm.to_arpa(buf)
    return buf.getvalue().decode()


def sections(lines: list[str]) -> list[tuple[int, int]]:
    """(index of an n-gram line, its order) for every n-gram line."""
    out, m = [], 0
    for i, line in enumerate(lines):
        s = line.strip()
        if s.startswith("\\") and s.endswith("-grams:"):
            m = int(s[1:-7])
        elif s == "\\end\\":
            m = 0
        elif m and s:
            out.append((i, m))
    return out


def fix_counts(lines: list[str]) -> str:
    """The ARPA text of ``lines`` with its \\data\\ counts set to the n-gram lines in each section."""
    counts: dict[int, int] = {}
    for _, m in sections(lines):
        counts[m] = counts.get(m, 0) + 1
    return "\n".join(re.sub(r"^ngram (\d+)=\d+$", lambda g: f"ngram {g[1]}={counts.get(int(g[1]), 0)}", x)
                     for x in lines)


def _arpa_line(fields: list[str], m: int) -> str:
    """An n-gram line laid out as lmlab and KenLM write it: prob TAB words TAB backoff."""
    head = fields[0]
    words = " ".join(fields[1 : 1 + m])
    rest = fields[1 + m :]
    return "\t".join([head, words] + rest) if words else "\t".join([head] + rest)


REFUSED, SAME = "refused", "same"  # what a mutation must give; None: it depends (a valid file may result)
BAD_NUMBERS = ["x", "1_0", "-1_0", "-inf", "inf", "nan", "-\u0661", "--1", "-1e", "-1.0.0", "0x1", "-1e999", "."]
GOOD_NUMBERS = ["-.5", "+0", "-2.", "-1E-1", "-0", "-1e-3"]
WORD_JUNK = ["a", "<s>", "</s>", "zzz", "-3", "\\", "\u00e9"]


@st.composite
def mutated(draw, base: str):
    """(mutation name, text, verdict) for one mutation of ``base``; the verdict is REFUSED (any
    correct reader refuses the file), SAME (it means what ``base`` means) or None (either)."""
    lines = base.split("\n")
    if lines[-1] == "":
        lines.pop()
    grams = sections(lines)
    name = draw(st.sampled_from(MUTATIONS))
    i, m = draw(st.sampled_from(grams))
    f = lines[i].split()
    out, verdict = list(lines), None
    if name in ("drop field", "drop word"):
        j = draw(st.integers(0, len(f) - 1) if name == "drop field" else st.integers(1, m))
        out[i] = _arpa_line(f[:j] + f[j + 1 :], m)
        if j == 0 or 1 < m and j <= m:  # a word stands in for the probability, or a line is short of a word
            verdict = REFUSED
    elif name == "add field":
        j = draw(st.integers(0, len(f)))
        g = f[:j] + [draw(st.sampled_from(["-0.5", "0", "-1.0", "a", "</s>"]))] + f[j:]
        out[i] = " ".join(g) if draw(st.booleans()) else _arpa_line(g, m)
    elif name == "swap fields":
        j, k = draw(st.integers(0, len(f) - 1)), draw(st.integers(0, len(f) - 1))
        f[j], f[k] = f[k], f[j]
        out[i] = _arpa_line(f, m)
    elif name == "number":
        j = draw(st.sampled_from([0] + ([m + 1] if len(f) == m + 2 else [])))
        f[j] = draw(st.sampled_from(BAD_NUMBERS + GOOD_NUMBERS))
        out[i] = _arpa_line(f, m)
        verdict = REFUSED if f[j] in BAD_NUMBERS else None
    elif name == "positive probability":
        f[0] = draw(st.sampled_from(["0.5", "1", "+0.1", "1e-3"]))
        out[i], verdict = _arpa_line(f, m), REFUSED
    elif name == "replace word":
        j = draw(st.integers(1, m))
        f[j] = draw(st.sampled_from(WORD_JUNK))
        out[i] = _arpa_line(f, m)
    elif name == "duplicate n-gram":
        out.insert(i + 1, lines[i])
        if draw(st.booleans()):  # also raise the count, so only the repeat is wrong
            out = _recount(out, m, +1)
        verdict = REFUSED
    elif name == "wrong count":
        out = _recount(out, draw(st.integers(1, max(mm for _, mm in grams))), draw(st.sampled_from([-1, 1, 5])))
        verdict = REFUSED
    elif name == "missing \\end\\":
        out, verdict = [x for x in out if x.strip() != "\\end\\"], REFUSED
    elif name == "blank line in section":
        out.insert(i + 1, draw(st.sampled_from(["", " ", "\t"])))
        last = i + 1 >= len(lines) or not lines[i + 1].strip()
        verdict = SAME if last else REFUSED
    elif name == "drop line":
        del out[i]
        if draw(st.booleans()):  # and lower the count: a valid file, perhaps with a prefix or suffix missing
            out = _recount(out, m, -1)
        else:
            verdict = REFUSED
    elif name == "whitespace":  # another layout of the same fields: any correct reader reads the same model
        how = draw(st.sampled_from(["tabs to spaces", "spaces to tabs", "doubled", "leading", "trailing", "crlf"]))
        every = draw(st.booleans())
        for k in [k for k, _ in grams] if every else [i]:
            out[k] = {"tabs to spaces": lines[k].replace("\t", " "), "spaces to tabs": lines[k].replace(" ", "\t"),
                      "doubled": lines[k].replace("\t", "\t\t").replace(" ", "  "),
                      "leading": draw(st.sampled_from([" ", "\t"])) + lines[k],
                      "trailing": lines[k] + draw(st.sampled_from([" ", "\t", "  ", "\r"])),
                      "crlf": lines[k] + "\r"}[how]
        verdict = SAME
    elif name == "section header":
        k = next(k for k, x in enumerate(lines) if x.strip().endswith("-grams:"))
        out[k] = draw(st.sampled_from(["\\1-grams", "\\1-grams: ", " \\1-grams:", "\\1-gram:", "\\2-grams:"]))
        verdict = SAME if out[k].strip() == "\\1-grams:" else REFUSED
    elif name == "after \\end\\":
        out.append(draw(st.sampled_from(["", "junk", "\\end\\", " ", "\\data\\"])))
        verdict = SAME if not out[-1].strip() else REFUSED
    else:  # pragma: no cover - MUTATIONS and this function list the same names
        raise AssertionError(name)
    return name, "\n".join(out) + "\n", verdict


def _recount(lines: list[str], m: int, delta: int) -> list[str]:
    out = list(lines)
    for k, x in enumerate(out):
        if x.startswith(f"ngram {m}="):
            out[k] = f"ngram {m}={max(0, int(x.split('=')[1]) + delta)}"
    return out


MUTATIONS = ["drop field", "drop word", "add field", "swap fields", "number", "positive probability",
             "replace word", "duplicate n-gram", "wrong count", "missing \\end\\", "blank line in section",
             "drop line", "whitespace", "section header", "after \\end\\"]


# ---------------------------------------------------------------------------------------------
# outcomes
# ---------------------------------------------------------------------------------------------
def outcome(read, *args):
    """What ``read(*args)`` gives: ("ok", tables, vocab, meta), ("error", type, line or None, message
    without the path) or ("stepped aside",) for ``None``."""
    try:
        got = read(*args)
    except ArpaFormatError as exc:
        return ("error", "ArpaFormatError", exc.line_no, f"{exc.expected}; got {exc.line!r}")
    except LmlabError as exc:
        return ("error", type(exc).__name__, getattr(exc, "line_no", None), str(exc).split(": ", 1)[-1])
    if got is None:
        return ("stepped aside",)
    return ("ok",) + tuple(got)


def same(a, b) -> bool:
    """Two outcomes agree: the same error at the same line, or identical tables, vocabulary and header."""
    if a[0] != b[0]:
        return False
    if a[0] != "ok":
        return a == b
    (ta, va, ma), (tb, vb, mb) = a[1:], b[1:]
    if va.tokens != vb.tokens or ma != mb or ta.order != tb.order:
        return False
    for m in range(ta.order):
        for x, y in ((ta.keys, tb.keys), (ta.logprob10, tb.logprob10), (ta.backoff10, tb.backoff10)):
            if x[m].dtype != y[m].dtype or not np.array_equal(x[m], y[m]):
                return False
    return True


def strict(data: bytes, name: str = "m.arpa"):
    """The line-by-line reader: the reference for every other path."""
    from lmlab._io import decode_utf8
    from lmlab.models.ngram.arpa_text import _Lines, _read

    return _read(_Lines(decode_utf8(data, name), name), vectorised=False)


def vectorised(data: bytes, name: str = "m.arpa"):
    from lmlab._io import decode_utf8
    from lmlab.models.ngram.arpa_text import _Lines, _read

    return _read(_Lines(decode_utf8(data, name), name), vectorised=True)


def compiled(data: bytes, name: str = "m.arpa"):
    from lmlab.models.ngram.arpa_text import _read_compiled

    return _read_compiled(data, name)


def write(folder: Path, data: bytes, compress: bool = False) -> Path:
    path = folder / ("m.arpa.gz" if compress else "m.arpa")
    path.write_bytes(gzip.compress(data) if compress else data)
    return path
