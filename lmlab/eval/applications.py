"""Applications built on scoring: classification by per-class LMs, noisy-channel spelling correction.

Classification: one language model per class; a text goes to the class whose model (times its
prior) makes it most likely: ``argmax_c log P(c) + log P_c(text)``.

Spelling correction: every token outside the vocabulary (or every token, with ``all_tokens``) gets
candidates within ``max_edits`` (1 or 2) edits (deletion, transposition, substitution, insertion)
that are in the vocabulary; the sentence is re-scored with each candidate and the best of
``log P_lm(sentence) - edit_cost * edits`` wins (the channel model: each edit costs the same).
"""

from __future__ import annotations

import math
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError, NotNormalizedError
from ..models.base import LanguageModel
from ..text.inputs import sentence_tokens, sentences_of
from .metrics import accuracy, classification_report  # noqa: F401 - their home is metrics


class LMClassifier:
    """``argmax_c log P(c) + log P_c(text)`` over per-class language models (any LanguageModel)."""

    def __init__(self, models: Mapping[str, LanguageModel], priors: Mapping[str, float] | None = None):
        if len(models) < 2:
            raise ConfigError("a classifier needs language models for at least two classes")
        for c, m in models.items():
            if not m.normalized:
                raise NotNormalizedError(f"the model of class {c!r}: {m.not_probabilities()}; adding log-priors "
                                         "to its scores means nothing: use a normalised smoothing")
        self.models = dict(models)
        n = len(self.models)
        self.log_priors = {c: math.log((priors or {}).get(c, 1.0 / n)) for c in self.models}

    def scores(self, texts: Sequence[str | Sequence[str]]) -> tuple[list[str], np.ndarray]:
        """Class names and the (N, C) matrix of ``log P(c) + log P_c(text)``."""
        labels = list(self.models)
        out = np.empty((len(texts), len(labels)))
        for j, c in enumerate(labels):
            lm = self.models[c]
            enc = [lm.encode(t) for t in sentences_of(texts, "texts")]
            out[:, j] = [float(x.sum()) for x in lm.corpus_token_logprobs(enc)]
            out[:, j] += self.log_priors[c]
        return labels, out

    def predict(self, texts: Sequence[str | Sequence[str]]) -> list[str]:
        labels, s = self.scores(texts)
        return [labels[i] for i in np.argmax(s, axis=1)]


def train_class_lms(examples: Sequence[tuple[str, str]], *, order: int = 3, smoothing: str = "witten_bell",
                    char: bool = False, priors: str = "frequency", **ngram_kw) -> LMClassifier:
    """One n-gram LM per label over a vocabulary shared by all classes (so the class models'
    probabilities compare), from ``(label, text)`` pairs; ``char`` for character n-grams.
    ``priors``: ``frequency`` (the labels' share of the training examples) or ``uniform``."""
    from ..models.ngram.model import NgramLM
    from ..text.tokenize import Tokenizer
    from ..text.vocab import Vocab

    if priors not in ("frequency", "uniform"):
        raise ConfigError(f"priors must be 'frequency' or 'uniform', got {priors!r}")
    if not sentences_of(examples, "examples"):
        raise ConfigError("no training examples")
    tok = Tokenizer(kind="character" if char else "whitespace")
    tokens = [(label, tok.tokenize(text)) for label, text in examples]
    vocab = Vocab.build((t for _, t in tokens), tokenizer=tok)
    by_class: dict[str, list[list[str]]] = {}
    for label, t in tokens:
        by_class.setdefault(label, []).append(t)
    models = {c: NgramLM(order, smoothing, tokenizer=tok, **ngram_kw).fit(ts, vocab=vocab)
              for c, ts in sorted(by_class.items())}
    prior = ({c: len(ts) / len(tokens) for c, ts in by_class.items()} if priors == "frequency" else None)
    return LMClassifier(models, prior)


def edits1(word: str, letters: str = string.ascii_lowercase) -> set[str]:
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = [a + b[1:] for a, b in splits if b]
    transposes = [a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1]
    replaces = [a + c + b[1:] for a, b in splits if b for c in letters if c != b[0]]
    inserts = [a + c + b for a, b in splits for c in letters]
    return set(deletes + transposes + replaces + inserts)


@dataclass(frozen=True)
class Correction:
    position: int
    original: str
    corrected: str
    edits: int


def correct(lm: LanguageModel, sentence: str | Sequence[str], *, max_edits: int = 2, edit_cost: float = 5.0,
            all_tokens: bool = False, max_candidates: int = 50) -> tuple[list[str], list[Correction]]:
    """The corrected tokens and the corrections made (left to right, each in the corrected context)."""
    if max_edits not in (1, 2):
        raise ConfigError(f"max_edits must be 1 or 2, got {max_edits}")
    tokens = sentence_tokens(sentence, lm.vocab.tokenize)
    vocab = lm.vocab
    fixes: list[Correction] = []
    for i, tok in enumerate(tokens):
        if tok in vocab and not all_tokens:
            continue
        cands = {tok: 0} if tok in vocab else {}
        e1 = {w for w in edits1(tok) if w in vocab}
        cands.update({w: 1 for w in e1})
        if max_edits == 2 and not e1:
            cands.update({w: 2 for e in edits1(tok) for w in edits1(e) if w in vocab and w not in cands})
        if not cands:
            continue
        cand_list = sorted(cands, key=lambda w: (cands[w], w))[:max_candidates]
        variants = [tokens[:i] + [w] + tokens[i + 1 :] for w in cand_list]
        enc = [vocab.encode(v) for v in variants]
        totals = [float(x.sum()) - edit_cost * cands[w] for x, w in zip(lm.corpus_token_logprobs(enc), cand_list,
                                                                         strict=True)]
        best = cand_list[int(np.argmax(totals))]
        if best != tok:
            fixes.append(Correction(i, tok, best, cands[best]))
            tokens[i] = best
    return tokens, fixes
