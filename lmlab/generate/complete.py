"""Completion for predictive typing: the next words after a prefix, or the rest of a word being typed.

Word-level models propose vocabulary words (``partial`` keeps those that start with what has been
typed; a sorted index of the vocabulary finds them by binary search).  Character-level models
spell words out: a beam search over characters from the state after the prefix finds the ``k``
most likely ways to finish the current word, each scored with the probability that the word then
ends (a space, ``</s>`` or punctuation follows).
"""

from __future__ import annotations

import bisect
import unicodedata
from collections.abc import Sequence

import numpy as np

from ..errors import ConfigError
from ..models.base import LanguageModel
from ..text.specials import BOS_ID, EOS_ID, UNK_ID
from ..text.tokenize import SPACE_TOKEN
from ..text.vocab import Vocab
from .beam import beam_search
from .beam import top_ids as _top
from .prompt import check_count, prompt_state, prompt_tokens

_PREFIX_INDEX: dict[str, tuple[list[str], np.ndarray]] = {}


def _per_vocab(store: dict, vocab: Vocab, build):
    """``build(vocab)``, kept for the last 8 vocabularies (not rebuilt at every keystroke)."""
    key = vocab.fingerprint
    if key not in store:
        if len(store) >= 8:
            store.pop(next(iter(store)))
        store[key] = build(vocab)
    return store[key]


def _sorted_tokens(vocab: Vocab) -> tuple[list[str], np.ndarray]:
    order = sorted(range(len(vocab)), key=lambda i: vocab[i])
    return [vocab[i] for i in order], np.asarray(order, dtype=np.int64)


def _prefix_ids(vocab: Vocab, partial: str) -> np.ndarray:
    """Ids of the vocabulary's tokens that start with ``partial`` (binary search in a sorted copy)."""
    words, ids = _per_vocab(_PREFIX_INDEX, vocab, _sorted_tokens)
    lo = bisect.bisect_left(words, partial)
    hi = bisect.bisect_left(words, partial + "\U0010ffff")
    return ids[lo:hi]


def complete(
    lm: LanguageModel,
    prefix: str | Sequence[str],
    k: int = 5,
    *,
    partial: str = "",
    sentence_start: bool = True,
    include_unk: bool = False,
) -> list[tuple[str, float]]:
    """The ``k`` most likely next tokens after ``prefix``, as (token, natural-log prob), best first.

    ``partial`` keeps only tokens that start with it (completing a word being typed).
    ``<s>`` and ``</s>`` are never proposed (they are not words), and ``<unk>`` only with
    ``include_unk``.  For a character-level
    model use :func:`complete_word`, which spells out whole words.
    """
    if problems := check_count("k", k):
        raise ConfigError(problems)
    state = prompt_state(lm, prompt_tokens(lm, prefix), sentence_start=sentence_start)
    lp = lm.next_logprobs([state])[0].copy()
    lp[[BOS_ID, EOS_ID]] = -np.inf
    if not include_unk:
        lp[UNK_ID] = -np.inf
    if partial:
        keep = np.full(len(lp), -np.inf)
        ids = _prefix_ids(lm.vocab, partial)
        keep[ids] = lp[ids]
        lp = keep
    return [(lm.vocab[int(i)], float(lp[i])) for i in _top(lp, k)]


def _is_word_char(token: str) -> bool:
    """Letters, digits, combining marks (an NFD accent), apostrophe and hyphen."""
    return len(token) == 1 and (token.isalnum() or token in "'-" or unicodedata.category(token)[0] == "M")


_WORD_CHARS: dict[str, tuple[np.ndarray, np.ndarray]] = {}


def _word_char_index(vocab: Vocab) -> tuple[np.ndarray, np.ndarray]:
    """Ids of the word characters and the mask of the tokens that end a word."""
    word_ids = np.array([i for i, t in enumerate(vocab.tokens) if _is_word_char(t)], dtype=np.int64)
    end_mask = np.ones(len(vocab), dtype=bool)
    end_mask[word_ids] = False
    end_mask[[BOS_ID, UNK_ID]] = False  # never proposed
    return word_ids, end_mask


def _word_stem(char_tokens: list[str]) -> str:
    """The word characters at the end of a character sequence (the word being typed)."""
    n = len(char_tokens)
    while n and _is_word_char(char_tokens[n - 1]):
        n -= 1
    return "".join(char_tokens[n:])


def complete_word(
    lm: LanguageModel,
    text: str,
    k: int = 5,
    *,
    beam: int = 16,
    max_chars: int = 24,
    sentence_start: bool = True,
) -> list[tuple[str, float]]:
    """A character model's ``k`` most likely completions of the word being typed at the end of
    ``text`` (or of the next word, when ``text`` ends in a space or punctuation), as (whole word, natural-log
    probability of its remaining characters followed by a word end), best first.

    Beam search over characters: at each step every live hypothesis is extended by its ``beam``
    best word characters; a hypothesis that can end (a space, ``</s>`` or punctuation next) is
    finished with the total probability of those endings.  The search stops when no live
    hypothesis can beat the k-th finished word, or after ``max_chars`` characters.
    """
    if problems := check_count("k", k) + check_count("beam", beam) + check_count("max_chars", max_chars):
        raise ConfigError(problems)
    vocab = lm.vocab
    tokens = prompt_tokens(lm, text)
    state = prompt_state(lm, tokens, sentence_start=sentence_start)
    stem = _word_stem(tokens)
    word_ids, end_mask = _per_vocab(_WORD_CHARS, vocab, _word_char_index)
    best = beam_search(_WordSpeller(lm, word_ids, end_mask), state, start_token=None, beam=beam, nbest=k,
                       max_len=max_chars + 1, eos=0, min_len=0 if stem else 1, finish="every")
    words = ((stem + "".join(vocab[int(word_ids[j - 1])] for j in h.tokens), h.logprob) for h in best)
    return [(w.replace(SPACE_TOKEN, " "), lp) for w, lp in words]


class _WordSpeller:
    """A character model seen as a decoder over ``[word end] + word characters``: token 0 is the
    end of the word (the total probability of every token that ends one), token ``j`` is the word
    character ``word_ids[j - 1]``."""

    def __init__(self, lm: LanguageModel, word_ids: np.ndarray, end_mask: np.ndarray):
        self.lm, self.word_ids, self.end_mask = lm, word_ids, end_mask

    def step(self, states, tokens):
        if tokens[0] is not None:
            states = self.lm.advance_many(states, [int(self.word_ids[j - 1]) for j in tokens])
        lps = self.lm.next_logprobs(states)
        out = np.empty((len(lps), 1 + len(self.word_ids)))
        for h, lp in enumerate(lps):
            ends = lp[self.end_mask]
            m = float(np.max(ends))
            out[h, 0] = m + float(np.log(np.sum(np.exp(ends - m)))) if np.isfinite(m) else -np.inf
            out[h, 1:] = lp[self.word_ids]
        return out, list(states)


def is_character_model(lm: LanguageModel) -> bool:
    tok = getattr(lm.vocab, "tokenizer", None)
    return getattr(tok, "kind", "whitespace") == "character"


def complete_text(lm: LanguageModel, text: str, k: int = 5, *, partial: bool = False,
                  include_unk: bool = False) -> tuple[list[tuple[str, float]], str]:
    """What a typing interface asks: completions for the text typed so far, and the part of the
    current word they complete.  With ``partial`` (a word is being typed, unless ``text`` ends in
    a space) a word model completes the last word; a character model always spells out whole
    words (:func:`complete_word`)."""
    if is_character_model(lm):
        return complete_word(lm, text, k), _word_stem(lm.vocab.tokenize(text))
    tokens = prompt_tokens(lm, text)
    stem = ""
    if partial and tokens and not text[-1:].isspace():
        stem = tokens.pop()
    return complete(lm, tokens, k, partial=stem, include_unk=include_unk), stem


__all__ = ["complete", "complete_word", "is_character_model"]
