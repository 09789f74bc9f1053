"""``load(path)``: open any model file lmlab knows by looking at it."""

from __future__ import annotations

import os
from pathlib import Path

from .._io import open_binary
from ..errors import LmlabError
from .base import LanguageModel


def load(path: str | os.PathLike) -> LanguageModel:
    """Load an ARPA file (plain or compressed) or an lmlab binary n-gram model."""
    p = Path(path)
    if p.is_dir():
        raise LmlabError(f"{p}: neural model folders are not supported yet")
    from .ngram.binary import is_binary

    if is_binary(p):
        from .ngram.model import load_binary

        return load_binary(p)
    with open_binary(p) as fh:
        head = fh.read(4096)
    text = head.decode("utf-8", errors="replace")
    if "\\data\\" in text or text.lstrip().startswith("#"):
        from .ngram.model import load_arpa

        return load_arpa(p)
    raise LmlabError(f"{p}: not a model file lmlab can read (expected an ARPA file starting with \\data\\)")
