"""``load(path)``: open any model lmlab knows by looking at it (n-gram file or neural folder)."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import LmlabError
from .base import LanguageModel


def load(path: str | os.PathLike, device: str = "cpu", _depth: int = 0) -> LanguageModel:
    """An ARPA or lmlab binary n-gram model, a neural model folder (config.json + weights), or a
    mixture file (JSON naming other models and their weights)."""
    p = Path(path)
    if p.suffix == ".json" and p.is_file():
        from .mixture import load_mixture

        if _depth >= 8:
            raise LmlabError(f"{p}: mixtures nested more than 8 deep (does a mixture include itself?)")
        return load_mixture(p, lambda c: load(c, device, _depth + 1))
    if p.is_dir():
        if not (p / "config.json").is_file():
            raise LmlabError(f"{p}: a folder without config.json is not an lmlab model")
        from .neural.adapter import TorchLM

        return TorchLM.load(p, device)
    if not p.exists():
        raise LmlabError(f"{p}: no such file")
    from .ngram.loading import load_ngram

    return load_ngram(p)
