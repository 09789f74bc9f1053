"""Open an n-gram model file (ARPA, plain or compressed, or lmlab binary) without touching torch."""

from __future__ import annotations

import os
from pathlib import Path

from ..._io import open_binary
from ...errors import LmlabError
from .binary import is_binary


def looks_like_arpa(path: Path) -> bool:
    with open_binary(path) as fh:
        head = fh.read(4096)
    text = head.decode("utf-8", errors="replace")
    return "\\data\\" in text or text.lstrip().startswith("#")


def load_ngram(path: str | os.PathLike):
    """An :class:`NgramLM` from an ARPA or lmlab binary file."""
    from .model_files import load_arpa, load_binary

    p = Path(path)
    if p.is_dir():
        raise LmlabError(f"{p}: is a folder (a neural model?); expected an ARPA or .lmbin file")
    if is_binary(p):
        return load_binary(p)
    if looks_like_arpa(p):
        return load_arpa(p)
    raise LmlabError(f"{p}: not an n-gram model (expected an ARPA file starting with \\data\\ or an .lmbin)")
