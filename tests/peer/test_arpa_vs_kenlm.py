"""lmlab refuses the mutated ARPA files KenLM's reader (``kenlm.Model``) refuses, and reads the
ones both accept to the same scores.

Where the two differ on purpose, the cases are listed below with the reason, and the random
part checks that every disagreement it meets is one of them.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lmlab.errors import ArpaFormatError, LmlabError
from lmlab.models.ngram.arpa import read_arpa
from tests.arpa_mutations import SRILM_STYLE, TOY, fix_counts, lmlab_written, mutated
from tests.conftest import KENLM_REF

kenlm = pytest.importorskip("kenlm")
from lmlab import kenlm as lk

pytestmark = pytest.mark.peer


def kenlm_reads(path: Path) -> bool:
    try:
        kenlm.Model(str(path))
    except (OSError, RuntimeError):
        return False
    return True


def lmlab_reads(path: Path):
    """``None`` if lmlab reads the file, else the error."""
    try:
        read_arpa(path)
    except LmlabError as exc:
        return exc
    return None


# -- lmlab reads these, KenLM refuses them --------------------------------------------------------
LAYOUT = "lmlab, like SRILM, separates fields by any run of spaces and tabs and ignores whitespace at line ends"
LENIENT = [
    ("space after a unigram's probability", [("-0.7\ta\t-0.3", "-0.7 a -0.3")], f"{LAYOUT}; KenLM wants a tab"),
    ("trailing space on an n-gram line", [("-0.7\ta\t-0.3", "-0.7\ta\t-0.3 ")], LAYOUT),
    ("trailing tab on a top-order line", [("-0.2\t<s> a", "-0.2\t<s> a\t")], LAYOUT),
    ("space before a section header", [("\\2-grams:", " \\2-grams:")], LAYOUT),
    ("space after a section header", [("\\2-grams:", "\\2-grams: ")], LAYOUT),
    ("space after \\data\\", [("\\data\\", "\\data\\ ")], LAYOUT),
    ("spaces around = in a count", [("ngram 1=4", "ngram 1 = 4")], LAYOUT),
    ("an n-gram whose context is missing", [("-0.1\t<s> a b", "-0.1\tb a b")],
     ("SRILM's pruning leaves such n-grams; lmlab adds the missing context as a blank entry (the "
      "probability backing off gives, backoff 0), which scores as if it were absent; KenLM's probing "
      "structure refuses the file (tests/unit/test_arpa_gaps.py checks the scores)")),
    ("a carriage return between fields", [("-0.7\ta\t-0.3", "-0.7\ra\t-0.3")],
     f"{LAYOUT}; a CR counts as a space (what a CRLF file leaves); KenLM wants a tab"),
    ("no <s> among the unigrams", [("-99\t<s>\t-0.5\n", ""), ("-0.2\t<s> a\n", "")],
     "lmlab adds a missing <s> (log10 -99) or </s> as it adds <unk>; KenLM refuses unless told to add them"),
]
# -- lmlab refuses these, KenLM reads them --------------------------------------------------------
STRICTER = [
    ("a repeated 2-gram", [("-0.1\ta </s>", "-0.1\t<s> a")], "listed twice",
     "two probabilities for one n-gram: KenLM keeps one of them without a word"),
    ("a repeated unigram", [("-1.0\t<unk>\t0", "-1.0\ta\t0")], "listed twice",
     "two probabilities for one word: KenLM keeps one of them without a word"),
    ("an infinite log10 probability", [("-0.7\ta\t-0.3", "-inf\ta\t-0.3")], "a finite number",
     "a zero probability makes every perplexity infinite; ARPA writers give such n-grams -99"),
    ("an overflowing log10 probability", [("-0.7\ta\t-0.3", "-1e999\ta\t-0.3")], "a finite number",
     "the number is not representable; KenLM reads it as -inf"),
    ("a sign on a count", [("ngram 1=4", "ngram 1=+4")], "ASCII digits",
     "a count is ASCII digits, as the numbers of n-gram lines are; KenLM's integer parser also takes a sign"),
    ("a blank line inside a section", [("-99\t<s>\t-0.5\n", "-99\t<s>\t-0.5\n\n")], "no blank line inside",
     ("a blank line ends a section in the ARPA format; KenLM skips it, so a cut-and-pasted file "
      "reads as something else")),
]


def _fix_counts(text: str) -> str:
    """Set the \\data\\ counts to the number of n-gram lines in each section."""
    return fix_counts(text.split("\n"))


def _case_file(folder: Path, changes) -> Path:
    text = TOY if all(old in TOY for old, _ in changes) else SRILM_STYLE
    for old, new in changes:
        assert old in text
        text = text.replace(old, new)
    path = folder / "m.arpa"
    path.write_text(_fix_counts(text), encoding="utf-8")
    return path


@pytest.mark.parametrize(("label", "change", "reason"), LENIENT, ids=[c[0] for c in LENIENT])
def test_lmlab_reads_what_kenlm_refuses_only_for_the_listed_reasons(tmp_path, label, change, reason):
    path = _case_file(tmp_path, change)
    assert not kenlm_reads(path), f"KenLM reads it now; drop {label!r} from LENIENT"
    assert lmlab_reads(path) is None


@pytest.mark.parametrize(("label", "change", "says", "reason"), STRICTER, ids=[c[0] for c in STRICTER])
def test_lmlab_refuses_what_kenlm_reads_only_for_the_listed_reasons(tmp_path, label, change, says, reason):
    path = _case_file(tmp_path, change)
    assert kenlm_reads(path), f"KenLM refuses it now; drop {label!r} from STRICTER"
    err = lmlab_reads(path)
    assert isinstance(err, ArpaFormatError) and says in err.expected


def kenlm_layout(text: str) -> str:
    """The same fields laid out as KenLM wants them: no whitespace at line ends, a tab after the
    probability and before the backoff, single spaces between words, ``ngram N=COUNT``."""
    out, m = [], 0
    for line in text.split("\n"):
        s = line.strip()
        if s.startswith("\\") and s.endswith("-grams:"):
            m = int(s[1:-7]) if s[1:-7].isdigit() else 0
            out.append(s)
        elif s in ("\\data\\", "\\end\\"):
            m = 0
            out.append(s)
        elif m and s and len(s.split()) in (m + 1, m + 2):
            f = s.split()
            out.append("\t".join([f[0], " ".join(f[1 : m + 1])] + f[m + 1 :]))
        elif s.startswith("ngram "):
            out.append("ngram " + "=".join(x.strip() for x in s[6:].split("=")))
        else:
            out.append(s)
    return "\n".join(out)


def _explained_leniency(path: Path, text: str) -> bool:
    """lmlab reads a file KenLM refuses: only its layout, a missing context or a missing <s>/</s>."""
    layout = path.with_name("layout.arpa")
    layout.write_text(kenlm_layout(text), encoding="utf-8")
    if kenlm_reads(layout):
        return True
    tables = read_arpa(path)[0]
    declared = [int(x) for x in re.findall(r"^\s*ngram\s*\d+\s*=\s*(\d+)", text, re.MULTILINE)]
    if tables.sizes()[1:] != declared[1:]:  # blank entries were added for missing contexts
        return True
    unigrams = set(re.split(r"\\1-grams:", text)[1].split("\\2-grams:")[0].split())
    return not {"<s>", "</s>"} <= unigrams


def _explained_strictness(err: LmlabError) -> bool:
    return isinstance(err, ArpaFormatError) and any(says in err.expected for _, _, says, _ in STRICTER)


BASES = {"toy": TOY, "srilm-style": SRILM_STYLE, "lmlab-written": lmlab_written()}
if (KENLM_REF / "toy.o3.arpa").is_file():
    BASES["kenlm-written"] = (KENLM_REF / "toy.o3.arpa").read_text()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(base=st.sampled_from(sorted(BASES)), data=st.data())
def test_mutated_arpa_files_lmlab_and_kenlm_agree(base, data):
    name, text, _ = data.draw(mutated(BASES[base]), label="mutation")
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "m.arpa"
        path.write_text(text, encoding="utf-8")
        theirs, err = kenlm_reads(path), lmlab_reads(path)
        if not theirs:
            assert err is not None or _explained_leniency(path, text), f"{name}: lmlab reads what KenLM refuses"
            return
        if err is not None:
            assert _explained_strictness(err), f"{name}: lmlab refuses what KenLM reads: {err}"
            return
        # both read it: the same scores
        ref, ours = kenlm.Model(str(path)), lk.Model(path)
        words = [w for w in read_arpa(path)[1].tokens if w not in ("<s>", "</s>")]
        sentences = words + [" ".join(words[i : i + 3]) for i in range(len(words))]
        for s in sentences:
            assert ours.score(s) == pytest.approx(ref.score(s, bos=True, eos=True), abs=1e-4), (name, s)


def test_missing_suffix_scores_as_kenlm(tmp_path):
    """'a b </s>' is listed but 'b </s>' is not (KenLM adds such suffixes as blanks too): lmlab
    used to stop at the missing suffix and score </s> from the unigram."""
    path = _case_file(tmp_path, [("-0.2\tb </s>\n", "-0.2\t<s> </s>\n")])  # (KenLM's hash needs the room)
    assert "\tb </s>" not in path.read_text() and "\ta b </s>" in path.read_text()
    ref, ours = kenlm.Model(str(path)), lk.Model(path)
    for s in ["a b", "<unk> a b", "b a b", "a", "b b a b", ""]:
        mine, theirs = list(ours.full_scores(s)), list(ref.full_scores(s))
        assert [x[1] for x in mine] == [x[1] for x in theirs], s  # the n-gram lengths used
        assert [x[0] for x in mine] == pytest.approx([x[0] for x in theirs], abs=1e-6), s
    assert [x[0] for x in ours.full_scores("<unk> a b")][-1] == pytest.approx(-0.15, abs=1e-6)


# -- the \\data\\ counts and the field separators: both readers agree ----------------------------------
BOTH_REFUSE = [
    ("count in Arabic-Indic digits", ("ngram 2=2", "ngram 2=\u0662")),
    ("count with an underscore", ("ngram 1=4", "ngram 1=0_4")),
    ("count in full-width digits", ("ngram 1=4", "ngram 1=\uff14")),
    ("no unigrams", (TOY, "\\data\\\nngram 1=0\n\n\\1-grams:\n\n\\end\\\n")),
] + [(f"U+{ord(c):04X} as a field separator", ("-0.7\ta\t-0.3", f"-0.7{c}a{c}-0.3"))
     for c in ["\x0b", "\x0c", "\x1c", "\x1f", "\x85", "\u00a0", "\u2009", "\u3000"]]


@pytest.mark.parametrize(("label", "change"), BOTH_REFUSE, ids=[c[0] for c in BOTH_REFUSE])
def test_both_refuse_bad_counts_and_odd_separators(tmp_path, label, change):
    old, new = change
    assert old in TOY
    path = tmp_path / "m.arpa"
    path.write_text(TOY.replace(old, new), encoding="utf-8")
    assert not kenlm_reads(path), f"KenLM reads {label!r} now"
    for strict in (False, True):
        with pytest.raises(ArpaFormatError):
            read_arpa(path, strict=strict)


@pytest.mark.parametrize("space", ["\x1c", "\x85", "\u00a0", "\u2009", "\u3000", "\x0b", "\x0c"],
                         ids=lambda c: f"U+{ord(c):04X}")
def test_both_read_other_whitespace_as_part_of_a_word(tmp_path, space):
    """KenLM splits ARPA fields on spaces and tabs only, so 'a<space>b' is one word; lmlab too."""
    word = f"a{space}b"
    text = TOY.replace("\ta\t", f"\t{word}\t").replace("<s> a\n", f"<s> {word}\n").replace("\ta </s>", f"\t{word} </s>")
    path = tmp_path / "m.arpa"
    path.write_text(text, encoding="utf-8")
    assert kenlm_reads(path)
    assert word in read_arpa(path)[1].tokens and word in read_arpa(path, strict=True)[1].tokens
    ref, ours = kenlm.Model(str(path)), lk.Model(path)
    assert (word in ref) and (word in ours)
    for s in ["a", "b", "<unk>", "a b", "" if space in "\x0b\x0c" else word]:
        mine, theirs = list(ours.full_scores(s)), list(ref.full_scores(s))
        assert [x[1:] for x in mine] == [x[1:] for x in theirs], s
        assert [x[0] for x in mine] == pytest.approx([x[0] for x in theirs], abs=1e-6), s
    if space not in "\x0b\x0c":  # (KenLM's query API splits sentences on ASCII whitespace)
        assert ours.score(word) == pytest.approx(ref.score(word), abs=1e-6) == pytest.approx(-0.2 - 0.1)
