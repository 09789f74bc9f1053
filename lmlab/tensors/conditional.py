"""Sentences with one condition each -> padded :class:`~lmlab.tensors.batch.Batch` objects (conditional LMs).

A batch holds the decoder's ``target_input``, ``target_output`` and ``target_lengths`` (as an
encoder-decoder's: :func:`lmlab.tensors.parallel.target_tensors`) and the condition of each row:
``labels (B,)`` (label ids) or ``features (B, F)`` (float32).  ``n_items`` is the number of scored
tokens (``</s>`` included).  An empty text is ``<s>`` -> ``</s>``.  Batches are bucketed by length.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from ..errors import ConfigError
from ..text.vocab import Vocab
from .batch import Batch, bucketed_order
from .classification import encode_texts
from .parallel import target_tensors


def conditional_batches(texts: Sequence[str], conditions: np.ndarray, vocab: Vocab, *, batch_size: int = 32,
                        shuffle: bool = False, seed: int | Sequence[int] = 0) -> list[Batch]:
    """Batches of ``texts`` with ``conditions``: integer label ids ``(N,)`` or float vectors ``(N, F)``."""
    return id_batches(encode_texts(texts, vocab), conditions, vocab, batch_size=batch_size, shuffle=shuffle,
                      seed=seed)


def id_batches(rows: Sequence[np.ndarray], conditions: np.ndarray, vocab: Vocab, *, batch_size: int = 32,
               shuffle: bool = False, seed: int | Sequence[int] = 0) -> list[Batch]:
    """:func:`conditional_batches` of already-encoded token id rows."""
    conditions = np.asarray(conditions)
    if len(conditions) != len(rows):
        raise ConfigError(f"{len(rows)} sentences but {len(conditions)} conditions")
    labels = conditions.ndim == 1
    if labels and not np.issubdtype(conditions.dtype, np.integer):
        raise ConfigError("label conditions must be integer label ids")
    if not labels and conditions.ndim != 2:
        raise ConfigError(f"feature conditions must be one vector per sentence, got shape {conditions.shape}")
    out = []
    for idx in bucketed_order([len(r) for r in rows], batch_size, shuffle=shuffle, seed=seed):
        targets = target_tensors([rows[i] for i in idx], vocab)
        cond = conditions[idx]
        targets["labels" if labels else "features"] = (torch.from_numpy(cond.astype(np.int64)) if labels
                                                        else torch.from_numpy(cond.astype(np.float32)))
        out.append(Batch(targets, int(targets["target_lengths"].sum()), [int(i) for i in idx]))
    return out
