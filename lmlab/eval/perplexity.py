"""Perplexity with one token accounting for every model (KenLM ``query`` semantics).

Tokens are the words of each line plus one ``</s>`` per line (empty lines too); ``<s>`` is never
predicted.  An OOV is a token that maps to ``<unk>`` (including a dataset's literal ``<unk>``);
OOVs are scored with ``<unk>``'s probability and counted.  "Excluding OOVs" drops the OOV tokens
and their log-probabilities, as KenLM's ``query`` does.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from ..errors import CorpusError, NotNormalizedError
from ..models.base import LanguageModel
from ..text.inputs import sentences_of
from ..text.specials import UNK_ID

LN10 = math.log(10.0)


MODES = ("sentence", "stream")


def mode_label(mode: str, columns: int | None = None) -> str:
    """Short name of how a text was scored: ``sentence`` or ``stream, 10 columns``."""
    if mode == "stream":
        return "stream, one column" if columns == 1 else f"stream, {columns} columns"
    return mode


def describe_mode(mode: str, columns: int | None = None) -> str:
    """One line saying how a text was scored (printed beside every perplexity)."""
    if mode == "sentence":
        return "sentence mode: every line scored from <s> with a fresh state, as n-gram models"
    if columns == 1:
        return "stream mode: the state carried across lines through the whole text (one column)"
    return (f"stream mode: the state carried across lines, the text cut into {columns} columns that "
            "each start from a fresh state (--columns 1: one carried stream)")


@dataclass(frozen=True)
class PerplexityReport:
    """Totals of an evaluation; log-probabilities are natural log.

    ``mode`` says how the text was scored: ``sentence`` (every line from ``<s>``, the n-gram
    models' way and :func:`evaluate`'s) or ``stream`` (a neural model's state carried across
    lines, the text cut into ``columns`` columns; pytorch/examples' and the literature's way).
    """

    sentences: int
    tokens: int
    oovs: int
    logprob: float
    oov_logprob: float
    mode: str = "sentence"
    columns: int | None = None

    @property
    def perplexity(self) -> float:
        """Perplexity including OOVs."""
        return math.exp(-self.logprob / self.tokens)

    @property
    def perplexity_excluding_oovs(self) -> float:
        n = self.tokens - self.oovs
        return math.exp(-(self.logprob - self.oov_logprob) / n) if n else float("nan")

    @property
    def cross_entropy_bits(self) -> float:
        return -self.logprob / self.tokens / math.log(2)

    def to_dict(self) -> dict:
        d = asdict(self)
        d.update(
            perplexity=self.perplexity,
            perplexity_excluding_oovs=self.perplexity_excluding_oovs,
            cross_entropy_bits=self.cross_entropy_bits,
        )
        return d

    def kenlm_summary(self) -> str:
        """The four summary lines KenLM's ``query`` prints."""
        return (
            f"Perplexity including OOVs:\t{self.perplexity!r}\n"
            f"Perplexity excluding OOVs:\t{self.perplexity_excluding_oovs!r}\n"
            f"OOVs:\t{self.oovs}\nTokens:\t{self.tokens}\n"
        )


def report_from_scores(token_logprobs: np.ndarray, token_ids: np.ndarray, n_sentences: int,
                       mode: str = "sentence", columns: int | None = None) -> PerplexityReport:
    """Report from flat per-token natural-log probabilities and the token ids they predict."""
    if len(token_logprobs) == 0:
        raise CorpusError("cannot compute perplexity of an empty text (no lines)")
    oov = np.asarray(token_ids) == UNK_ID
    return PerplexityReport(
        sentences=n_sentences,
        tokens=len(token_logprobs),
        oovs=int(oov.sum()),
        logprob=float(np.sum(token_logprobs)),
        oov_logprob=float(np.sum(token_logprobs[oov])),
        mode=mode,
        columns=columns,
    )


def encode_sentences(lm: LanguageModel, sentences: Iterable[str | Sequence[str]]) -> list[np.ndarray]:
    return [lm.encode(s) for s in sentences_of(sentences)]


def evaluate(lm: LanguageModel, sentences: Iterable[str | Sequence[str]]) -> PerplexityReport:
    """Perplexity report of ``lm`` on sentences (strings are split by the model's tokenizer)."""
    if not lm.normalized:
        raise NotNormalizedError(f"{lm.not_probabilities()}: lmlab does not report its perplexity"
                                 " (use a smoothed method: witten_bell, modified_kneser_ney...)")
    enc = encode_sentences(lm, sentences)
    if not enc:
        raise CorpusError("cannot compute perplexity of an empty text (no lines)")
    per_sentence = lm.corpus_token_logprobs(enc)
    if not per_sentence:
        raise CorpusError("cannot compute perplexity of an empty text (no lines)")
    lp = np.concatenate(per_sentence)
    ids = np.concatenate([np.append(s, 2).astype(np.int64) for s in enc])
    return report_from_scores(lp, ids, len(enc))
