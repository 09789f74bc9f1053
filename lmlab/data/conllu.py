"""CoNLL-U (Universal Dependencies): sentences as syntactic words with their UPOS and XPOS tags.

A sentence is a block of lines ended by a blank line; ``#`` lines are comments.  A word line has
10 tab-separated fields (ID FORM LEMMA UPOS XPOS FEATS HEAD DEPREL DEPS MISC).  The ID says what
the line is:

* an integer (``3``): a **syntactic word**; these are the tokens a tagger reads and labels;
* a range (``1-2``): a **multiword token** (``don't`` = ``do`` + ``n't``), the surface form of the
  words that follow it; it is not a word, its parts are;
* a decimal (``8.1``): an **empty node** of enhanced dependencies; it is skipped.

Word IDs must run 1, 2, 3, ... in each sentence and a range must cover the words that follow it.
A line that breaks the format is an error naming the file, the line number and what was expected.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from .._io import read_lines
from ..errors import ConfigError, DataFormatError
from .columns import TaggedSentence
from .registry import SPLIT_ALIASES, get_file, resolve

_INT = re.compile(r"[1-9][0-9]*\Z")
_RANGE = re.compile(r"([1-9][0-9]*)-([1-9][0-9]*)\Z")
_EMPTY = re.compile(r"(0|[1-9][0-9]*)\.[1-9][0-9]*\Z")


@dataclass(frozen=True)
class ConlluSentence:
    words: tuple[str, ...]  # FORM of each syntactic word
    upos: tuple[str, ...]
    xpos: tuple[str, ...]  # "_" where the treebank has none
    surface: tuple[str, ...]  # surface tokens: a multiword token once, then the words outside ranges
    sent_id: str = ""  # from "# sent_id = ..." when present
    line: int = 0  # line number of the sentence's first line
    n_multiword: int = 0  # multiword token lines (1-2)
    n_empty: int = 0  # empty node lines (8.1), skipped
    # the syntax of each word: LEMMA, FEATS ("_" where none), HEAD as a number (0: the root, -1: "_"), DEPREL
    lemmas: tuple[str, ...] = ()
    feats: tuple[str, ...] = ()
    heads: tuple[int, ...] = ()
    deprels: tuple[str, ...] = ()

    def features(self, i: int) -> dict[str, str]:
        """Word ``i``'s (from 0) FEATS as a dict: ``Number=Sing|Person=3`` -> {"Number": "Sing", ...}."""
        return dict(f.split("=", 1) for f in self.feats[i].split("|") if "=" in f) if self.feats else {}


def read_conllu(path: str | os.PathLike) -> list[ConlluSentence]:
    """Every sentence of a CoNLL-U file (see the module docstring)."""
    name = str(path)
    out: list[ConlluSentence] = []
    words: list[str] = []
    upos: list[str] = []
    xpos: list[str] = []
    surface: list[str] = []
    syntax: list[tuple[str, str, int, str]] = []  # LEMMA FEATS HEAD DEPREL
    sent_id = ""
    start = 0
    covered_to = 0  # last word id covered by the latest multiword token
    range_line = n_multiword = n_empty = 0

    def flush(no: int) -> None:
        nonlocal sent_id, start, covered_to, n_multiword, n_empty
        if covered_to > len(words):
            raise DataFormatError(name, range_line, f"a multiword token covering words up to {covered_to}, "
                                  f"but the sentence (ending on line {no}) has {len(words)} words")
        if words:  # (a block of comments only has nothing to tag)
            lemmas, feats, heads, deprels = zip(*syntax, strict=True)
            out.append(ConlluSentence(tuple(words), tuple(upos), tuple(xpos), tuple(surface), sent_id, start,
                                      n_multiword, n_empty, lemmas, feats, heads, deprels))
        for buf in (words, upos, xpos, surface, syntax):
            buf.clear()
        sent_id, start, covered_to, n_multiword, n_empty = "", 0, 0, 0, 0

    lines = read_lines(path)
    for no, line in enumerate(lines, start=1):
        if not line.strip():
            if line:
                raise DataFormatError(name, no, "expected an empty line between sentences (this one holds only "
                                      "white space)", line)
            flush(no)
            continue
        if not start:
            start = no
        if line.startswith("#"):
            if line.startswith("# sent_id") and "=" in line:
                sent_id = line.split("=", 1)[1].strip()
            continue
        fields = line.split("\t")
        if len(fields) != 10:
            raise DataFormatError(name, no, f"expected 10 tab-separated fields (ID FORM LEMMA UPOS XPOS FEATS "
                                  f"HEAD DEPREL DEPS MISC), found {len(fields)}", line)
        wid, form = fields[0], fields[1]
        if _INT.match(wid):
            expected = len(words) + 1
            if int(wid) != expected:
                raise DataFormatError(name, no, f"expected word ID {expected} (IDs run 1, 2, 3, ... in a "
                                      f"sentence), found {wid}", line)
            if not form or not fields[3]:
                raise DataFormatError(name, no, "expected a FORM and a UPOS field (use _ for none)", line)
            head = fields[6]
            if head != "_" and not (head == "0" or _INT.match(head)):
                raise DataFormatError(name, no, f"expected a HEAD word number (0 for the root) or _, found {head!r}",
                                      line)
            words.append(form)
            syntax.append((fields[2], fields[5], int(head) if head != "_" else -1, fields[7]))
            upos.append(fields[3])
            xpos.append(fields[4] or "_")
            if expected > covered_to:
                surface.append(form)
            continue
        m = _RANGE.match(wid)
        if m:
            a, b = int(m.group(1)), int(m.group(2))
            if a != len(words) + 1 or b <= a:
                raise DataFormatError(name, no, f"expected a multiword token range {len(words) + 1}-N with N > "
                                      f"{len(words) + 1} (it comes before its words), found {wid}", line)
            covered_to, range_line = b, no
            n_multiword += 1
            surface.append(form)
            continue
        if _EMPTY.match(wid):
            n_empty += 1  # empty node: not a word
            continue
        raise DataFormatError(name, no, "expected an ID: a word number (3), a multiword range (1-2) or an "
                              "empty node (8.1)", line)
    flush(len(lines) + 1)
    return out


LABELS = ("upos", "xpos")


def ud_english_ewt(split: str, labels: str = "upos") -> list[TaggedSentence]:
    """UD English-EWT (``train``, ``valid``/``dev``, ``test``): syntactic words with UPOS or XPOS."""
    if labels not in LABELS:
        raise ConfigError(f"ud-english-ewt has labels upos and xpos; got {labels!r}")
    split = SPLIT_ALIASES.get(split, split)
    get_file("ud-english-ewt", split)
    return [TaggedSentence(s.words, s.upos if labels == "upos" else s.xpos, s.line)
            for s in read_conllu(resolve("ud-english-ewt", split))]
