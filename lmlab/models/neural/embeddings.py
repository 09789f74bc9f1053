"""Pretrained word vectors (word2vec or GloVe text files) for a model's embedding layer.

Formats: GloVe (``word v1 .. vd`` per line) and word2vec text (the same, after a first line
``count dim``).  Words of the vocabulary found in the file get its vector; the others keep their
initialisation.  Returns the coverage so the caller can report it.
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
    vec = found = None
    for no, line in enumerate(lines, start=1):
        parts = line.rstrip().split(" ")
        if len(parts) < 2:
            continue
        if dim is None:
            dim = len(parts) - 1
            vec = np.zeros((len(vocab), dim), dtype=np.float32)
            found = np.zeros(len(vocab), dtype=bool)
        if len(parts) - 1 != dim:
            raise CorpusError(f"{path}: line {no}: {len(parts) - 1} numbers, expected {dim} as on the first line")
        i = vocab.lookup(parts[0])
        if i == vocab.unk_id and parts[0] != vocab.unk:
            continue
        try:
            vec[i] = np.asarray(parts[1:], dtype=np.float32)
        except ValueError:
            raise CorpusError(f"{path}: line {no}: not a word followed by numbers") from None
        found[i] = True
    if dim is None:
        raise CorpusError(f"{path}: no vectors found")
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
