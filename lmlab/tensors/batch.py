"""A padded batch: named tensors, the number of items its loss is summed over, and each row's
position in the source data (so that predictions go back in input order).

The trainer's protocol (:mod:`lmlab.models.neural.task`) passes these to every model; the batch
makers of this layer (e.g. :mod:`lmlab.tensors.tagging`) build them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch


@dataclass
class Batch:
    """Padded tensors of one batch and what they hold.

    ``tensors`` maps names to tensors (e.g. ``tokens`` (B, T) int64, ``lengths`` (B,) int64,
    ``tags`` (B, T) with :data:`lmlab.text.specials.PAD_ID` at padding); ``n_items`` is what the
    loss is summed over; ``index`` gives each row's position in the source data so predictions
    can be put back in input order.
    """

    tensors: dict[str, torch.Tensor]
    n_items: int
    index: list[int] = field(default_factory=list)

    def __getitem__(self, name: str) -> torch.Tensor:
        return self.tensors[name]

    def __contains__(self, name: str) -> bool:
        return name in self.tensors

    def to(self, device: torch.device | str) -> Batch:
        return Batch({k: v.to(device) for k, v in self.tensors.items()}, self.n_items, self.index)
