"""Tokenizers: how a line of raw text becomes tokens.

A :class:`Tokenizer` is saved with the vocabulary, so text piped to the CLI or typed into the web
page is split exactly like the training data.  ``whitespace`` splits on runs of whitespace (KenLM
and the PTB/WikiText files); ``character`` makes every character a token, with the space written
as ``<sp>`` so that character n-grams can be stored in ARPA files.
"""

from __future__ import annotations

import unicodedata
from dataclasses import asdict, dataclass

from .._json import BOOL, STR, check_fields, optional
from ..errors import ConfigError

SPACE_TOKEN = "<sp>"
_KINDS = ("whitespace", "character")
_NORMALIZATIONS = (None, "NFC", "NFKC", "NFD", "NFKD")


@dataclass(frozen=True)
class Tokenizer:
    """Splits a line into tokens after an optional normalisation.

    Args:
        kind: ``"whitespace"`` (default) or ``"character"``.
        lowercase: lower-case the text first.
        unicode_normalization: ``None`` or one of NFC, NFKC, NFD, NFKD.

    Example:
        >>> Tokenizer().tokenize("  the cat  sat ")
        ['the', 'cat', 'sat']
        >>> Tokenizer(kind="character").tokenize("a b")
        ['a', '<sp>', 'b']
    """

    kind: str = "whitespace"
    lowercase: bool = False
    unicode_normalization: str | None = None

    def __post_init__(self) -> None:
        problems = []
        if self.kind not in _KINDS:
            problems.append(f"tokenizer kind {self.kind!r} is not one of {', '.join(_KINDS)}")
        if self.unicode_normalization not in _NORMALIZATIONS:
            problems.append(
                f"unicode_normalization {self.unicode_normalization!r} is not one of "
                "None, NFC, NFKC, NFD, NFKD"
            )
        if problems:
            raise ConfigError(problems)

    def normalize(self, text: str) -> str:
        if self.unicode_normalization:
            text = unicodedata.normalize(self.unicode_normalization, text)
        if self.lowercase:
            text = text.lower()
        return text

    def tokenize(self, line: str) -> list[str]:
        line = self.normalize(line)
        if self.kind == "whitespace":
            return line.split()
        return [SPACE_TOKEN if ch == " " else ch for ch in line.strip("\r\n")]

    def detokenize(self, tokens: list[str]) -> str:
        if self.kind == "whitespace":
            return " ".join(tokens)
        return "".join(" " if t == SPACE_TOKEN else t for t in tokens)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Tokenizer:
        check_fields(data, _FIELDS, where="tokenizer", error=ConfigError)
        return cls(**data)


_FIELDS = {"kind": STR, "lowercase": BOOL, "unicode_normalization": optional(STR)}
