"""Sentence scoring and n-best re-ranking, written once against LanguageModel.

n-best input formats:
* Moses: ``id ||| hypothesis ||| features ||| total`` (the last field is the decoder's score);
  ``id ||| hypothesis ||| score`` is accepted too.  Hypotheses are grouped by id.
* plain: one hypothesis per line, groups separated by an empty line; an optional decoder score
  may lead the line, separated by a tab (``-12.5<TAB>the apple and pear salad``).

Re-ranking orders each group by ``lm_weight * ln P_lm(hypothesis) + score_weight * score``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError, CorpusError
from ..models.base import LanguageModel
from ..text.inputs import sentences_tokens
from ..text.specials import EOS, UNK_ID


@dataclass(frozen=True)
class SentenceScore:
    tokens: list[str]  # the tokens scored, ending with </s>
    logprobs: np.ndarray  # natural log, one per token
    oovs: int
    oov_mask: np.ndarray | None = None  # per token: outside the vocabulary (scored as <unk>); </s> never

    @property
    def total(self) -> float:
        return float(self.logprobs.sum())


def score_sentences(lm: LanguageModel, sentences: Iterable[str | Sequence[str]]) -> list[SentenceScore]:
    toks = sentences_tokens(sentences, lm.vocab.tokenize)
    enc = [lm.vocab.encode(t) for t in toks]
    scores = lm.corpus_token_logprobs(enc) if enc else []
    return [SentenceScore(t + [EOS], lp, int(np.sum(e == UNK_ID)), np.append(e == UNK_ID, False))
            for t, e, lp in zip(toks, enc, scores, strict=True)]


@dataclass
class Hypothesis:
    group: str
    text: str
    score: float  # the decoder's score (0 when none was given)
    line: str  # the input line, printed back as it was
    lm_logprob: float = 0.0
    total: float = 0.0


def parse_nbest(lines: Sequence[str], name: str = "<n-best>") -> list[list[Hypothesis]]:
    """Groups of hypotheses, in input order."""
    groups: dict[str, list[Hypothesis]] = {}
    if any("|||" in ln for ln in lines):
        for no, ln in enumerate(lines, start=1):
            if not ln.strip():
                continue
            parts = [p.strip() for p in ln.split("|||")]
            if len(parts) < 3:
                raise CorpusError(f"{name}: line {no}: expected 'id ||| hypothesis ||| features [||| score]'")
            score = _score(parts[-1], name, no, required=len(parts) >= 4) if len(parts) >= 4 or \
                _score(parts[2], name, no) is not None else 0.0
            groups.setdefault(parts[0], []).append(Hypothesis(parts[0], parts[1], score, ln))
        return list(groups.values())
    out: list[list[Hypothesis]] = [[]]
    for no, ln in enumerate(lines, start=1):
        if not ln.strip():
            if out[-1]:
                out.append([])
            continue
        score, text = 0.0, ln
        if "\t" in ln and (s := _score(ln.split("\t", 1)[0], name, no)) is not None:
            score, text = s, ln.split("\t", 1)[1]
        out[-1].append(Hypothesis(str(len(out) - 1), text, score, ln))
    return [g for g in out if g]


def _score(text: str, name: str, no: int, *, required: bool = False) -> float | None:
    """A decoder score: a finite number; None for text that is not a number (unless ``required``).
    ``nan`` and ``inf`` are refused with the line: they would make every total nan or infinite."""
    try:
        value = float(text)
    except ValueError:
        if required:
            raise CorpusError(f"{name}: line {no}: the last field {text!r} is not a number") from None
        return None
    if not math.isfinite(value):
        raise CorpusError(f"{name}: line {no}: the score {text.strip()!r} is not a finite number")
    return value


def rerank(lm: LanguageModel, groups: list[list[Hypothesis]], *, lm_weight: float = 1.0,
           score_weight: float = 0.0) -> list[list[Hypothesis]]:
    """Each group sorted best first by ``lm_weight * ln P(hyp) + score_weight * score`` (stable)."""
    bad = [f"{n} must be a finite number, got {w}" for n, w in (("lm_weight", lm_weight), ("score_weight", score_weight))
           if not math.isfinite(w)]
    if bad:
        raise ConfigError(bad)
    flat = [h for g in groups for h in g]
    for h, s in zip(flat, score_sentences(lm, [h.text for h in flat]), strict=True):
        h.lm_logprob = s.total
        h.total = lm_weight * s.total + score_weight * h.score
    return [sorted(g, key=lambda h: -h.total) for g in groups]
