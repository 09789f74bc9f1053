"""Parallel sentence pairs -> padded :class:`~lmlab.tensors.batch.Batch` objects (encoder-decoders).

A batch holds

* ``source (B, S)``: source ids, the source ``Vocab.pad_id`` at padding; ``source_lengths (B,)``;
* ``target_input (B, T)``: the decoder's teacher-forced input ``<s> y1 .. yn``, the target
  ``Vocab.pad_id`` at padding;
* ``target_output (B, T)``: what it must predict, ``y1 .. yn </s>``, ``PAD_ID`` at padding;
* ``target_lengths (B,)``: ``n + 1`` (the scored tokens, ``</s>`` included).

``n_items`` is the number of scored target tokens (the sum of ``target_lengths``).  An empty
target line is ``<s>`` -> ``</s>``; an empty source line has no encoding and is an error.
Batches are bucketed by source length, then target length.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..text.specials import BOS_ID, EOS_ID, PAD_ID
from ..text.vocab import Vocab
from .batch import Batch, bucketed_order, check_not_empty, pad
from .classification import encode_texts


def parallel_batches(pairs: Sequence[tuple[str, str]], source: Vocab, target: Vocab, *, batch_size: int = 64,
                     shuffle: bool = False, seed: int | Sequence[int] = 0) -> list[Batch]:
    """Batches of ``(source line, target line)`` pairs (as :func:`lmlab.data.parallel.multi30k` gives)."""
    src = encode_texts([s for s, _ in pairs], source)
    tgt = encode_texts([t for _, t in pairs], target)
    check_not_empty(src, "source line")
    s_len = np.fromiter((len(r) for r in src), dtype=np.int64, count=len(src))
    t_len = np.fromiter((len(r) for r in tgt), dtype=np.int64, count=len(tgt))
    key = s_len * (int(t_len.max(initial=0)) + 1) + t_len
    out = []
    for idx in bucketed_order(key, batch_size, shuffle=shuffle, seed=seed):
        s, sl = pad([src[i] for i in idx], source.pad_id)
        targets = target_tensors([tgt[i] for i in idx], target)
        out.append(Batch({"source": s, "source_lengths": sl, **targets}, int(targets["target_lengths"].sum()),
                         [int(i) for i in idx]))
    return out


def target_tensors(rows: Sequence[np.ndarray], target: Vocab) -> dict:
    """A decoder's teacher-forced ``target_input`` (``<s> y1 .. yn``, ``target.pad_id`` at padding),
    ``target_output`` (``y1 .. yn </s>``, ``PAD_ID`` at padding) and ``target_lengths`` (``n + 1``)."""
    t_in, tl = pad([np.concatenate([[BOS_ID], r]) for r in rows], target.pad_id)
    t_out, _ = pad([np.concatenate([r, [EOS_ID]]) for r in rows], PAD_ID)
    return {"target_input": t_in, "target_output": t_out, "target_lengths": tl}


def source_batches(lines: Sequence[str], source: Vocab, *, batch_size: int = 64) -> list[Batch]:
    """Source-only batches for translation (``n_items`` = sentences), in length order; ``index``
    puts the translations back in the order of ``lines``.  An empty line is in no batch: its
    position is missing from every ``index`` and the caller writes an empty translation there."""
    src = encode_texts(lines, source)
    keep = np.asarray([i for i, r in enumerate(src) if len(r)], dtype=np.int64)
    out = []
    for sub in bucketed_order([len(src[i]) for i in keep], batch_size):
        idx = keep[sub]
        s, sl = pad([src[i] for i in idx], source.pad_id)
        out.append(Batch({"source": s, "source_lengths": sl}, len(idx), [int(i) for i in idx]))
    return out


