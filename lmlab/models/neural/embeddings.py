"""Pretrained word vectors (word2vec or GloVe text files) for a model's embedding layer.

Formats: GloVe (``word v1 .. vd`` per line) and word2vec text (the same, after a first line
``count dim``).  Words of the vocabulary found in the file get its vector; a word the file lacks
takes the vector of its lower-cased form when the file has that one (lower-cased GloVe or
word2vec vectors, cased text: ``The`` gets ``the``'s vector; the exact form always wins); the
others keep their initialisation.  Returns the coverage so the caller can report it.
"""

from __future__ import annotations

import os

import numpy as np
import torch

from ..._io import read_text
from ...errors import ConfigError, CorpusError
from ...text.vocab import Vocab


def read_vectors(path: str | os.PathLike, vocab: Vocab) -> tuple[np.ndarray, np.ndarray]:
    """(vectors (V, d) float32, found (V,) bool) for the vocabulary's tokens."""
    lines = read_text(path).split("\n")
    if lines and len(lines[0].split()) == 2 and all(x.isdigit() for x in lines[0].split()):
        lines = lines[1:]  # word2vec text header
    dim = None
    vec = found = lower = found_lower = None
    folded: dict[str, list[int]] = {}  # a lower-cased form -> the ids of the cased words it stands for
    for i, tok in enumerate(vocab.tokens):
        if tok.lower() != tok:
            folded.setdefault(tok.lower(), []).append(i)
    for no, line in enumerate(lines, start=1):
        parts = line.rstrip().split(" ")
        if len(parts) < 2:
            continue
        if dim is None:
            dim = len(parts) - 1
            vec, lower = (np.zeros((len(vocab), dim), dtype=np.float32) for _ in range(2))
            found, found_lower = (np.zeros(len(vocab), dtype=bool) for _ in range(2))
        if len(parts) - 1 != dim:
            raise CorpusError(f"{path}: line {no}: {len(parts) - 1} numbers, expected {dim} as on the first line")
        i = vocab.lookup(parts[0])
        exact = not (i == vocab.unk_id and parts[0] != vocab.unk)
        cased = folded.get(parts[0], [])
        if not exact and not cased:
            continue
        try:
            v = np.asarray(parts[1:], dtype=np.float32)
        except ValueError:
            raise CorpusError(f"{path}: line {no}: not a word followed by numbers") from None
        if exact:
            vec[i], found[i] = v, True
        lower[cased], found_lower[cased] = v, True
    if dim is None:
        raise CorpusError(f"{path}: no vectors found")
    fill = found_lower & ~found
    vec[fill], found[fill] = lower[fill], True
    return vec, found


def load_pretrained(embedding: torch.nn.Embedding, path: str | os.PathLike, vocab: Vocab) -> float:
    """Copy the vectors into ``embedding``; returns the fraction of the vocabulary covered."""
    vec, found = read_vectors(path, vocab)
    if vec.shape[1] != embedding.embedding_dim:
        raise ConfigError(f"{path} has {vec.shape[1]}-dimensional vectors but --emsize is {embedding.embedding_dim}")
    with torch.no_grad():
        rows = torch.from_numpy(np.flatnonzero(found))
        embedding.weight[rows] = torch.from_numpy(vec[found]).to(embedding.weight.dtype)
    return float(found.mean())
