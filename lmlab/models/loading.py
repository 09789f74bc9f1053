"""``load(path)``: open any model lmlab knows by looking at it (n-gram file or neural folder)."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import LmlabError
from .base import LanguageModel


def load(path: str | os.PathLike, device: str = "cpu") -> LanguageModel:
    """An ARPA or lmlab binary n-gram model, or a neural model folder (config.json + weights)."""
    p = Path(path)
    if p.is_dir():
        if not (p / "config.json").is_file():
            raise LmlabError(f"{p}: a folder without config.json is not an lmlab model")
        from .neural.adapter import TorchLM

        return TorchLM.load(p, device)
    if not p.exists():
        raise LmlabError(f"{p}: no such file")
    from .ngram.loading import load_ngram

    return load_ngram(p)
