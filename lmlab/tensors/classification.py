"""Classification examples -> padded :class:`~lmlab.tensors.batch.Batch` objects (many-to-one models).

A batch holds ``tokens (B, T)`` (input ids, ``Vocab.pad_id`` at padding), ``lengths (B,)`` and,
when the examples have labels, ``labels (B,)`` (:class:`~lmlab.text.labels.LabelSet` ids);
``n_items`` is the number of labelled sentences (a test label that training never saw, with
``unseen`` given, is counted there and holds ``PAD_ID``, which the loss skips).  Texts are split by
the vocabulary's tokenizer.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
import torch

from ..text.labels import LabelSet
from ..text.specials import PAD_ID
from ..text.vocab import Vocab
from .batch import Batch, bucketed_order, check_not_empty, pad


def encode_texts(texts: Sequence[str], vocab: Vocab) -> list[np.ndarray]:
    """Input ids of each text (unknown words are ``<unk>``)."""
    return [vocab.encode(vocab.tokenize(t)) for t in texts]


def classification_batches(examples: Sequence[tuple[str, str]], vocab: Vocab, labels: LabelSet, *,
                           batch_size: int = 32, shuffle: bool = False, seed: int | Sequence[int] = 0,
                           unseen: Counter[str] | None = None) -> list[Batch]:
    """Batches of ``(label, text)`` pairs (the order :func:`lmlab.data.tasks.classification_task`
    gives).  An unknown label is an error naming it, or, with ``unseen``, counted there."""
    gold = [label for label, _ in examples]
    if unseen is None:
        ids = labels.encode(gold, where="classification data")
    else:
        ids = labels.encode_counting(gold, unseen)
    return _batches(encode_texts([t for _, t in examples], vocab), vocab, ids, batch_size, shuffle, seed)


def text_batches(texts: Sequence[str], vocab: Vocab, *, batch_size: int = 32) -> list[Batch]:
    """Unlabelled batches for prediction (``n_items`` = sentences), in length order; ``index``
    puts the predictions back in the order of ``texts``.  An empty text is in no batch (it has no
    encoding): its position is missing from every ``index``, and the caller writes an empty line
    there, so the output stays aligned with the input."""
    rows = encode_texts(texts, vocab)
    return _batches(rows, vocab, None, batch_size, False, 0, keep=[i for i, r in enumerate(rows) if len(r)])


def _batches(rows, vocab, label_ids, batch_size, shuffle, seed, keep=None) -> list[Batch]:
    if keep is None:
        check_not_empty(rows, "text")
        keep = range(len(rows))
    keep = np.asarray(keep, dtype=np.int64)
    out = []
    for sub in bucketed_order([len(rows[i]) for i in keep], batch_size, shuffle=shuffle, seed=seed):
        idx = keep[sub]
        tokens, lengths = pad([rows[i] for i in idx], vocab.pad_id)
        tensors = {"tokens": tokens, "lengths": lengths}
        n = len(idx)
        if label_ids is not None:
            y = torch.from_numpy(np.asarray(label_ids, dtype=np.int64)[idx])
            tensors["labels"] = y
            n = int((y != PAD_ID).sum())
        out.append(Batch(tensors, n, [int(i) for i in idx]))
    return out
