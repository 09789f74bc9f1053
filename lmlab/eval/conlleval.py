"""Chunk (span) precision, recall and F1 exactly as conlleval computes them.

conlleval is the Perl evaluation script of the CoNLL-2000 shared task (version 2004-01-26, by
Erik Tjong Kim Sang), the reference scorer of chunking and NER papers.  This module follows its
definition token by token: a chunk starts and ends where conlleval's ``startOfChunk`` and
``endOfChunk`` say (so IOB1, IOB2, IOE and conlleval's reading of IOBES tags are handled as
conlleval handles them, invalid sequences included, e.g. an ``I-`` after ``O`` starts a chunk);
a chunk is correct when gold and prediction start it on the same token with the same type and
end it on the same token; a tag's prefix is what comes before its first hyphen.  Token accuracy
counts tokens whose whole tag is right.  Figures are percentages, computed with conlleval's
arithmetic, and :meth:`ChunkReport.text` prints them in conlleval's own layout.

conlleval does not know ``S-``: two ``S-X`` tokens in a row are one chunk to it (as the fixtures
show).  To score IOBES output by its own chunks, convert gold and predicted tags to IOB2 first
(:func:`lmlab.data.tagschemes.convert_tags`); IOB1 and IOB2 give the same chunks either way.

Sentence boundaries (a blank line, or a line whose first field is ``-X-``, in conlleval's input)
are tokens tagged ``O`` that are not counted.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from .._io import read_lines
from ..errors import ConfigError, DataFormatError

BOUNDARY = "-X-"


def _split(tag: str) -> tuple[str, str]:
    # conlleval: /^([^-]*)-(.*)$/ else (tag, ""); a false type ("" or "0" in Perl) becomes ""
    prefix, dash, kind = tag.partition("-")
    if not dash:
        return tag, ""
    return prefix, ("" if kind == "0" else kind)


def _end_of_chunk(prev_tag: str, tag: str, prev_type: str, kind: str) -> bool:
    end = (
        (prev_tag == "B" and tag in ("B", "O"))
        or (prev_tag == "I" and tag in ("B", "O"))
        or (prev_tag == "E" and tag in ("E", "I", "O"))
    )
    if prev_tag not in ("O", ".") and prev_type != kind:
        end = True
    return end or prev_tag in ("]", "[")


def _start_of_chunk(prev_tag: str, tag: str, prev_type: str, kind: str) -> bool:
    start = (
        (tag == "B" and prev_tag in ("B", "I", "O"))
        or (tag == "I" and prev_tag == "O")
        or (tag == "E" and prev_tag in ("E", "O"))
        or (tag == "I" and prev_tag == "E")
    )
    if tag not in ("O", ".") and prev_type != kind:
        start = True
    return start or tag in ("[", "]")


@dataclass
class ChunkReport:
    """conlleval's counts and figures (percentages) overall and per chunk type."""

    tokens: int = 0
    correct_tags: int = 0
    gold_chunks: int = 0  # conlleval's "phrases"
    pred_chunks: int = 0  # "found"
    correct_chunks: int = 0  # "correct"
    gold_by_type: Counter = field(default_factory=Counter)
    pred_by_type: Counter = field(default_factory=Counter)
    correct_by_type: Counter = field(default_factory=Counter)

    @staticmethod
    def _prf(correct: int, pred: int, gold: int) -> tuple[float, float, float]:
        precision = 100 * correct / pred if pred > 0 else 0.0
        recall = 100 * correct / gold if gold > 0 else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
        return precision, recall, f1

    @property
    def accuracy(self) -> float:
        return 100 * self.correct_tags / self.tokens if self.tokens else 0.0

    @property
    def precision(self) -> float:
        return self._prf(self.correct_chunks, self.pred_chunks, self.gold_chunks)[0]

    @property
    def recall(self) -> float:
        return self._prf(self.correct_chunks, self.pred_chunks, self.gold_chunks)[1]

    @property
    def f1(self) -> float:
        """conlleval's FB1."""
        return self._prf(self.correct_chunks, self.pred_chunks, self.gold_chunks)[2]

    @property
    def types(self) -> list[str]:
        """The chunk types, sorted."""
        return sorted(set(self.gold_by_type) | set(self.pred_by_type))

    def _printed_types(self) -> list[str]:
        # conlleval's loop: sorted gold and found type names, a name skipped when it repeats the one
        # before, unless that one is false in Perl (the empty type), so "" can be listed twice
        out: list[str] = []
        last = None
        for t in sorted(list(self.gold_by_type) + list(self.pred_by_type)):
            if not last or last != t:
                out.append(t)
            last = t
        return out

    def _type_figures(self, t: str) -> dict:
        p, r, f = self._prf(self.correct_by_type[t], self.pred_by_type[t], self.gold_by_type[t])
        return {"precision": p, "recall": r, "f1": f, "pred_chunks": self.pred_by_type[t],
                "gold_chunks": self.gold_by_type[t], "correct_chunks": self.correct_by_type[t]}

    def per_type(self) -> dict[str, dict]:
        """``{type: {precision, recall, f1, pred_chunks, gold_chunks, correct_chunks}}``."""
        return {t: self._type_figures(t) for t in self.types}

    def to_dict(self) -> dict:
        return {"tokens": self.tokens, "gold_chunks": self.gold_chunks, "pred_chunks": self.pred_chunks,
                "correct_chunks": self.correct_chunks, "accuracy": self.accuracy, "precision": self.precision,
                "recall": self.recall, "f1": self.f1, "per_type": self.per_type()}

    def text(self) -> str:
        """The report in conlleval's layout, byte for byte (its default, non-LaTeX output)."""
        out = [(f"processed {self.tokens} tokens with {self.gold_chunks} phrases; "
                f"found: {self.pred_chunks} phrases; correct: {self.correct_chunks}.\n")]
        if self.tokens > 0:
            out.append(f"accuracy: {self.accuracy:6.2f}%; precision: {self.precision:6.2f}%; "
                       f"recall: {self.recall:6.2f}%; FB1: {self.f1:6.2f}\n")
        for t in self._printed_types():
            d = self._type_figures(t)
            out.append(f"{t:>17s}: precision: {d['precision']:6.2f}%; recall: {d['recall']:6.2f}%; "
                       f"FB1: {d['f1']:6.2f}  {d['pred_chunks']}\n")
        return "".join(out)


class _Scorer:
    """conlleval's main loop, one token at a time."""

    def __init__(self):
        self.rep = ChunkReport()
        self.in_correct = False
        self.last_correct, self.last_guessed = "O", "O"
        self.last_correct_type, self.last_guessed_type = "", ""

    def step(self, gold: str, pred: str, boundary: bool = False) -> None:
        rep = self.rep
        correct, correct_type = _split(gold)
        guessed, guessed_type = _split(pred)
        if boundary:
            guessed = "O"
        lc, lg, lct, lgt = self.last_correct, self.last_guessed, self.last_correct_type, self.last_guessed_type
        end_c = _end_of_chunk(lc, correct, lct, correct_type)
        end_g = _end_of_chunk(lg, guessed, lgt, guessed_type)
        if self.in_correct:
            if end_c and end_g and lgt == lct:
                self.in_correct = False
                rep.correct_chunks += 1
                rep.correct_by_type[lct] += 1
            elif end_c != end_g or guessed_type != correct_type:
                self.in_correct = False
        start_c = _start_of_chunk(lc, correct, lct, correct_type)
        start_g = _start_of_chunk(lg, guessed, lgt, guessed_type)
        if start_c and start_g and guessed_type == correct_type:
            self.in_correct = True
        if start_c:
            rep.gold_chunks += 1
            rep.gold_by_type[correct_type] += 1
        if start_g:
            rep.pred_chunks += 1
            rep.pred_by_type[guessed_type] += 1
        if not boundary:
            if correct == guessed and guessed_type == correct_type:
                rep.correct_tags += 1
            rep.tokens += 1
        self.last_correct, self.last_guessed = correct, guessed
        self.last_correct_type, self.last_guessed_type = correct_type, guessed_type

    def finish(self) -> ChunkReport:
        if self.in_correct:
            self.rep.correct_chunks += 1
            self.rep.correct_by_type[self.last_correct_type] += 1
            self.in_correct = False
        return self.rep


def conlleval(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> ChunkReport:
    """conlleval's report of predicted tag sequences against gold ones (one sequence a sentence)."""
    if len(gold) != len(pred):
        raise ConfigError(f"{len(pred)} predicted sentences for {len(gold)} gold sentences")
    scorer = _Scorer()
    for i, (g, p) in enumerate(zip(gold, pred), start=1):
        if len(g) != len(p):
            raise ConfigError(f"sentence {i}: {len(p)} predicted tags for {len(g)} gold tags")
        for a, b in zip(g, p):
            scorer.step(a, b)
        scorer.step("O", "O", boundary=True)
    return scorer.finish()


def conlleval_lines(lines: Iterable[str], name: str = "<conlleval input>") -> ChunkReport:
    """conlleval's report of its own input format: whitespace-separated fields per token, the last
    two the gold and the predicted tag; a blank line (or first field ``-X-``) between sentences.
    Every line must have as many fields as the first token line, as conlleval requires."""
    scorer = _Scorer()
    n_fields = first = 0
    for no, line in enumerate(lines, start=1):
        fields = line.split()
        if fields and n_fields and len(fields) != n_fields:
            raise DataFormatError(name, no, f"expected {n_fields} fields as on line {first}, found {len(fields)}", line)
        if fields and not n_fields:
            n_fields, first = len(fields), no
        if not fields or fields[0] == BOUNDARY:
            scorer.step("O", "O", boundary=True)
            continue
        if len(fields) < 2:
            raise DataFormatError(name, no, "expected at least 2 fields (gold tag, predicted tag)", line)
        scorer.step(fields[-2], fields[-1], boundary=False)
    return scorer.finish()


def conlleval_file(path: str | os.PathLike) -> ChunkReport:
    return conlleval_lines(read_lines(path), str(path))
