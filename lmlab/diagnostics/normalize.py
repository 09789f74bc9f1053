"""How a diagnostic's text (a treebank's words, a cloze template) is written for the models: as
their training text was (``ptb``: Mikolov's Penn Treebank) or as it is (``none``)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from ..errors import ConfigError

NORMALIZATIONS = ("ptb", "none")


def ptb_words(words: Iterable[str], upos: Iterable[str] | None = None) -> list[str]:
    """Words as Mikolov's PTB writes them: lower case, numbers as ``N``, no punctuation (``PUNCT``
    words; without tags, words with no letter or digit).

    >>> ptb_words(["The", "3.5", "B-52s", ",", "fly"], ["DET", "NUM", "PROPN", "PUNCT", "VERB"])
    ['the', 'N', 'b-Ns', 'fly']
    >>> ptb_words(["Her", "1,000", "tickets", "..."])
    ['her', 'N', 'tickets']
    """
    words = list(words)
    tags = list(upos) if upos is not None else ["PUNCT" if not any(ch.isalnum() for ch in w) else "X" for w in words]
    out = []
    for w, u in zip(words, tags, strict=True):
        if u == "PUNCT":
            continue
        if re.fullmatch(r"[+-]?[\d.,:/]*\d[\d.,:/]*%?", w):
            out.append("N")
            continue
        out.append(re.sub(r"\d+", "N", w.lower()))
    return out


def normalize_words(words: Sequence[str], how: str, upos: Sequence[str] | None = None) -> list[str]:
    """``words`` normalised ``how`` (one of :data:`NORMALIZATIONS`)."""
    if how == "ptb":
        return ptb_words(words, upos)
    if how == "none":
        return list(words)
    raise ConfigError(f"normalisation {how!r} is not one of {', '.join(NORMALIZATIONS)}")
