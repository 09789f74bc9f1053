"""Token streams as tensors for training: the batchify/BPTT layout of pytorch/examples.

A corpus is one stream ``<s> w1 .. </s> <s> w1 .. </s> ...``.  Inputs are ``stream[:-1]``, targets
``stream[1:]``; targets that are ``<s>`` are ignored (``<s>`` is never predicted), so the scored
tokens are the words plus one ``</s>`` per line, as for every lmlab model.  ``batchify`` cuts a
stream into ``B`` columns read top to bottom (time first)::

    a g m s          stream a b c d e f g h i j k l m n o p q r s t u v w x, B = 4
    b h n t          -> tensor (6, 4); a BPTT window is a slice of rows
    c i o u
    d j p v
    e k q w
    f l r x

Unlike pytorch/examples, inputs and targets are batchified separately, so the first token of a
column is also a target: every token of the stream is scored exactly once.
"""

from __future__ import annotations

import numpy as np
import torch

from ..text.specials import BOS_ID, PAD_ID

IGNORE = PAD_ID  # torch's cross_entropy ignore_index (-100)


def batchify(stream: np.ndarray, bsz: int, *, pad: int | None = None) -> torch.Tensor:
    """Shape ``(T, bsz)``: the stream cut into ``bsz`` columns.  The tail that does not fill a
    row is dropped, or padded with ``pad`` when given."""
    stream = np.asarray(stream, dtype=np.int64)
    if pad is not None and len(stream) % bsz:
        stream = np.concatenate([stream, np.full(bsz - len(stream) % bsz, pad, dtype=np.int64)])
    T = len(stream) // bsz
    return torch.from_numpy(stream[: T * bsz].reshape(bsz, T).T.copy())


def lm_pairs(stream: np.ndarray, bsz: int, *, keep_tail: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """(inputs, targets), each ``(T, bsz)``; targets that are ``<s>`` (or padding) are IGNORE."""
    stream = np.asarray(stream, dtype=np.int64)
    inp, tgt = stream[:-1], stream[1:].copy()
    tgt[tgt == BOS_ID] = IGNORE
    pad_in, pad_tgt = (BOS_ID, IGNORE) if keep_tail else (None, None)
    return batchify(inp, bsz, pad=pad_in), batchify(tgt, bsz, pad=pad_tgt)


def bptt_windows(n_rows: int, bptt: int):
    """Start and length of each BPTT window over ``n_rows`` rows."""
    for i in range(0, n_rows, bptt):
        yield i, min(bptt, n_rows - i)


def window_examples(stream: np.ndarray, context: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Fixed-window LM examples: for every predicted token, the ``context`` tokens before it in its
    sentence, padded with ``<s>``.  Returns contexts ``(N, context)`` and targets ``(N,)``."""
    stream = np.asarray(stream, dtype=np.int64)
    starts = np.flatnonzero(stream == BOS_ID)
    sent_start = np.maximum.accumulate(np.where(stream == BOS_ID, np.arange(len(stream)), 0))
    pos = np.flatnonzero(stream != BOS_ID)
    ctx = np.empty((len(pos), context), dtype=np.int64)
    for j in range(context):
        src = pos - context + j
        ok = src >= sent_start[pos]
        ctx[:, j] = np.where(ok, stream[np.maximum(src, 0)], BOS_ID)
    del starts
    return torch.from_numpy(ctx), torch.from_numpy(stream[pos].copy())
