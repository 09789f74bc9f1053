"""Padded batches: the :class:`Batch` every task model takes, padding, and length-bucketed batch order.

Rows are padded at the end.  Input ids are padded with the vocabulary's out-of-band
``Vocab.pad_id`` (``len(vocab)``: an embedding of ``len(vocab) + 1`` rows masks it); output ids
(labels, tags, target tokens) with :data:`~lmlab.text.specials.PAD_ID` (``-100``), which losses
skip.  ``Batch.index`` gives each row's position in the data the batches were made from, so
predictions are put back in input order whatever the bucketing did.

Length bucketing (:func:`bucketed_order`): batches hold sentences of similar length so that
little of a batch is padding.  Without ``shuffle`` the order is by length (stable, so equal
lengths keep input order); with ``shuffle`` a seeded random permutation is cut into pools of
``pool`` batches, each pool is sorted by length and cut into batches, and the batches are
shuffled -- the same seed gives the same batches on every run and machine (give the epoch with
the seed, ``seed=(seed, epoch)``, for a new order each epoch that a resumed run repeats).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from ..errors import ConfigError


@dataclass
class Batch:
    """Padded tensors of one batch and what they hold.

    ``tensors`` maps names to tensors (e.g. ``tokens`` (B, T) int64, ``lengths`` (B,) int64,
    ``tags`` (B, T) with :data:`lmlab.text.specials.PAD_ID` at padding); ``n_items`` is what the
    loss is summed over; ``index`` gives each row's position in the source data so predictions
    can be put back in input order.  ``carry`` says the batch continues the one before it (an LM's
    next BPTT window over the same columns): a stateful model may start from the state it ended
    that batch in (detached); a batch without ``carry`` starts fresh.
    """

    tensors: dict[str, torch.Tensor]
    n_items: int
    index: list[int] = field(default_factory=list)
    carry: bool = False

    def __getitem__(self, name: str) -> torch.Tensor:
        return self.tensors[name]

    def __contains__(self, name: str) -> bool:
        return name in self.tensors

    def __len__(self) -> int:
        """The number of rows (examples)."""
        return len(next(iter(self.tensors.values()))) if self.tensors else 0

    def to(self, device: torch.device | str) -> Batch:
        return Batch({k: v.to(device) for k, v in self.tensors.items()}, self.n_items, self.index, self.carry)


def pad(rows: Sequence[Sequence[int] | np.ndarray], value: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``(padded (B, T) int64, lengths (B,) int64)``: each row left-aligned, ``value`` after its end.

    ``T`` is the longest row (0 for no rows or only empty ones)."""
    lengths = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
    out = np.full((len(rows), int(lengths.max()) if len(rows) else 0), value, dtype=np.int64)
    for i, r in enumerate(rows):
        out[i, : lengths[i]] = r
    return torch.from_numpy(out), torch.from_numpy(lengths)


def bucketed_order(lengths: Sequence[int] | np.ndarray, batch_size: int, *, shuffle: bool = False,
                   seed: int | Sequence[int] = 0, pool: int = 50) -> list[np.ndarray]:
    """Row indices of each batch (see the module's docstring): every index exactly once."""
    if batch_size < 1 or pool < 1:
        raise ConfigError(f"batch_size and pool must be >= 1, got batch_size={batch_size} pool={pool}")
    lengths = np.asarray(lengths, dtype=np.int64)
    n = len(lengths)
    if not shuffle:
        order = np.argsort(lengths, kind="stable")
        return [order[i : i + batch_size] for i in range(0, n, batch_size)]
    rng = np.random.default_rng(seed)
    perm = rng.permutation(n)
    batches = []
    step = batch_size * pool
    for start in range(0, n, step):
        chunk = perm[start : start + step]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def check_not_empty(rows: Sequence[Sequence[int] | np.ndarray], what: str) -> None:
    """A recurrent encoder has no state for an empty sequence: name the first empty row."""
    for i, r in enumerate(rows):
        if len(r) == 0:
            raise ConfigError(f"{what} {i + 1} is empty (an empty line has no encoding; drop it and "
                              "write an empty output line in its place)")
