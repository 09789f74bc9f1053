"""Readers of the named corpora: lines of text for language modelling."""

from __future__ import annotations

from .._io import read_lines, read_text
from ..errors import ConfigError
from .registry import get_dataset, resolve

TINYSHAKESPEARE_TRAIN_FRACTION = 0.9  # char-rnn and nanoGPT: first 90% train, last 10% validation


def lm_lines(name: str, split: str) -> list[str]:
    """Lines of a language-modelling corpus split (``ptb``, ``wikitext-2``, ``tinyshakespeare``)."""
    if name == "tinyshakespeare":
        return tinyshakespeare_text(split).split("\n")
    if name not in ("ptb", "wikitext-2"):
        get_dataset(name)
        raise ConfigError(f"{name} is not a language-modelling corpus; use ptb, wikitext-2 or tinyshakespeare")
    return read_lines(resolve(name, split))


def tinyshakespeare_text(split: str) -> str:
    """Tiny Shakespeare split by characters as char-rnn/nanoGPT do (``train`` 90%, ``valid`` 10%).

    It has no test split: ``valid`` is its held-out text, and ``test`` is refused (not silently
    the same text under another name)."""
    if split == "test":
        raise ConfigError("tinyshakespeare has no test split: its held-out text is the valid split "
                          "(the last 10%, as char-rnn's); give --split valid")
    if split not in ("train", "valid", "all"):
        raise ConfigError(f"tinyshakespeare has splits train, valid (the held-out text) and all; got {split!r}")
    text = read_text(resolve("tinyshakespeare", "all"))
    cut = int(len(text) * TINYSHAKESPEARE_TRAIN_FRACTION)
    if split == "train":
        return text[:cut]
    if split == "valid":
        return text[cut:]
    return text


def tinyshakespeare_speeches() -> list[tuple[str, str]]:
    """Every speech of Tiny Shakespeare as ``(speaker, text)``, in file order.

    The file is a play script: a block per speech, separated by an empty line, whose first line is
    the speaker's name and a colon (``ROMEO:``); the speech's lines are joined by a space.  Blocks
    with a name and no words (125 in the file) are skipped."""
    out = []
    for block in read_text(resolve("tinyshakespeare", "all")).split("\n\n"):
        lines = block.strip("\n").split("\n")
        if len(lines) > 1 and lines[0].endswith(":"):
            out.append((lines[0][:-1], " ".join(x.strip() for x in lines[1:])))
    return out
