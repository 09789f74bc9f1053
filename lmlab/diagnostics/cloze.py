"""Cloze templates: a sentence with a blank (``___``) and candidate fillers, ranked by a model.

A template file is TSV, one template a line: ``TEMPLATE <tab> CAND1|CAND2|... [<tab> EXPECTED]``;
``#`` lines and blank lines are comments.  A candidate's score is the log-probability of its
words and of the words after the blank, after the words before it (from ``<s>``; no ``</s>``,
so a blank at the end is a next-word prediction): the words before the blank are the same for
every candidate, so the scores compare.  The text is normalised as the model's training text
(:mod:`.normalize`).  lmlab ships :data:`SHIPPED` (the lecture notes' examples among them).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._io import read_lines
from ..errors import CorpusError, DataFormatError
from ..models.base import LanguageModel
from ..text.specials import UNK_ID
from .normalize import normalize_words

BLANK = "___"
SHIPPED = Path(__file__).with_name("cloze_templates.tsv")


@dataclass(frozen=True)
class Template:
    text: str
    candidates: tuple[str, ...]
    expected: str | None
    line: int

    def parts(self) -> tuple[list[str], list[str]]:
        before, _, after = self.text.partition(BLANK)
        return before.split(), after.split()


def read_templates(path: str | os.PathLike = SHIPPED) -> list[Template]:
    """The templates of a file (see the module docstring); a malformed line is an error naming it."""
    out = []
    for no, line in enumerate(read_lines(path), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) not in (2, 3):
            raise DataFormatError(str(path), no, f"expected TEMPLATE<tab>CANDIDATES[<tab>EXPECTED], found "
                                  f"{len(fields)} tab-separated fields", line)
        text, cands = fields[0].strip(), tuple(c.strip() for c in fields[1].split("|"))
        if text.count(BLANK) != 1:
            raise DataFormatError(str(path), no, f"a template needs exactly one blank {BLANK}, found "
                                  f"{text.count(BLANK)}", line)
        if len(cands) < 2 or not all(cands) or len(set(cands)) != len(cands):
            raise DataFormatError(str(path), no, "expected two or more different candidates separated by |", line)
        expected = fields[2].strip() if len(fields) == 3 and fields[2].strip() else None
        if expected is not None and expected not in cands:
            raise DataFormatError(str(path), no, f"the expected filler {expected!r} is not among the candidates",
                                  line)
        out.append(Template(text, cands, expected, no))
    if not out:
        raise CorpusError(f"{path}: no templates (every line is empty or a comment)")
    return out


def rank(lm: LanguageModel, templates: Sequence[Template], normalize: str = "ptb") -> list[dict]:
    """One record per template and candidate, best first: its log-probability, rank (from 1),
    whether it is the expected filler, and how many of its words the model does not know (a
    candidate with unknown words ranks after every other: ``<unk>``'s probability is that of all
    the words the model does not know, not of this one)."""
    vocab = lm.vocab
    seqs, spans = [], []
    for t in templates:
        before, after = t.parts()
        prefix = [vocab.lookup(w) for w in normalize_words(before, normalize)]
        for c in t.candidates:
            rest = [vocab.lookup(w) for w in normalize_words([*c.split(), *after], normalize)]
            seqs.append([*prefix, *rest])
            spans.append((len(prefix), len(rest), sum(i == UNK_ID for i in rest)))
    lps = lm.corpus_token_logprobs(seqs)
    records, k = [], 0
    for t in templates:
        rows = []
        for c in t.candidates:
            start, n, unk = spans[k]
            rows.append({"template": t.text, "line": t.line, "candidate": c,
                         "logprob": float(np.sum(lps[k][start : start + n])), "unknown_words": unk,
                         "expected": None if t.expected is None else c == t.expected})
            k += 1
        rows.sort(key=lambda r: (r["unknown_words"] > 0, -r["logprob"]))  # <unk>'s probability is a class's
        for i, r in enumerate(rows, start=1):
            r["rank"] = i
        records.extend(rows)
    return records
