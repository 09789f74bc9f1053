"""What the API takes as text, checked in one place: a sentence, a sequence of sentences, a
sequence of words.

A plain string is a sequence in Python, so ``lm.fit("the cat sat")`` would read eleven
one-character sentences and ``lm.score("market", "stock")`` the context ``s t o c k``.  Every
entry point that takes sentences or words goes through these helpers, which refuse a string where
a sequence is meant with :class:`~lmlab.errors.InputTypeError` (a ``TypeError``, as nltk.lm
raises, and an :class:`~lmlab.errors.LmlabError`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..errors import InputTypeError


def _shown(text) -> str:
    text = text if isinstance(text, str) else repr(text)
    return repr(text if len(text) <= 40 else text[:37] + "...")


def sentences_of(sentences, what: str = "sentences"):
    """``sentences`` itself, after refusing a plain string (or bytes) given for a sequence of them."""
    if isinstance(sentences, (str, bytes)):
        raise InputTypeError(f"{what}: expected a sequence of sentences (strings or token lists), got one "
                             f"string {_shown(sentences)}; wrap it in a list: [{_shown(sentences)[1:-1]!r}]")
    if not isinstance(sentences, Iterable):
        raise InputTypeError(f"{what}: expected a sequence of sentences, got {type(sentences).__name__}")
    return sentences


def words_of(words, what: str = "context") -> list[str]:
    """A sequence of words as a list, each word a string; a plain string is refused (it would be
    read as its characters)."""
    if isinstance(words, (str, bytes)):
        raise InputTypeError(f"{what}: expected a sequence of words, got one string {_shown(words)}; "
                             f"give a list of words, e.g. {words.split() if isinstance(words, str) else list(words)!r}")
    if not isinstance(words, Iterable):
        raise InputTypeError(f"{what}: expected a sequence of words, got {type(words).__name__}")
    out = list(words)
    for w in out:
        if not isinstance(w, str):
            raise InputTypeError(f"{what}: every word must be a string, got {type(w).__name__} {w!r}")
    return out


def sentence_tokens(sentence: str | Sequence[str], tokenize, what: str = "sentence") -> list[str]:
    """The tokens of one sentence: a string is split by ``tokenize``, a sequence is its words."""
    return tokenize(sentence) if isinstance(sentence, str) else words_of(sentence, what)


def sentences_tokens(sentences: Iterable[str | Sequence[str]], tokenize, what: str = "sentences") -> list[list[str]]:
    """Every sentence's tokens: a string is split by ``tokenize``, a sequence is its words (its
    first word checked to be a string: a hot path); a plain string for ``sentences`` is refused."""
    out = []
    for s in sentences_of(sentences, what):
        if isinstance(s, str):
            out.append(tokenize(s))
            continue
        if isinstance(s, bytes) or not isinstance(s, Iterable):
            raise InputTypeError(f"{what}: a sentence is a string or a sequence of words, got {type(s).__name__}")
        s = list(s)
        if s and not isinstance(s[0], str):
            raise InputTypeError(f"{what}: a sentence's words must be strings, got {type(s[0]).__name__} {s[0]!r}")
        out.append(s)
    return out
