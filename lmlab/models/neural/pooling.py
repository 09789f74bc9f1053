"""Pooling an encoder's per-token states over each sequence's true length (many-to-one models).

``states`` is batch-first ``(B, T, D)`` with padding at the end of each row; ``lengths (B,)`` are
the true lengths (each >= 1).  Padded positions are never read.

* ``last``: the state at the last true token, ``states[b, lengths[b] - 1]``.  For a
  bidirectional encoder (``bidirectional=True``; the first ``D/2`` features are the forward
  direction, the rest the backward one, as PyTorch concatenates them) it is the forward
  direction's state at the last true token concatenated with the backward direction's state at
  position 0 -- each direction's state after it has read the whole sequence.
* ``max``: the feature-wise maximum over the true positions.
* ``mean``: the feature-wise mean over the true positions.
"""

from __future__ import annotations

import torch

from ...errors import ConfigError
from .masking import check_lengths, length_mask

POOLING_MODES = ("last", "max", "mean")


def pool(states: torch.Tensor, lengths: torch.Tensor, mode: str, *, bidirectional: bool = False) -> torch.Tensor:
    """One ``(B, D)`` vector per sequence (see the module's docstring for each ``mode``)."""
    if mode not in POOLING_MODES:
        raise ConfigError(f"pooling must be one of {', '.join(POOLING_MODES)}, got {mode!r}")
    if states.dim() != 3:
        raise ConfigError(f"states must be (batch, time, features), got {tuple(states.shape)}")
    B, T, D = states.shape
    lengths = check_lengths(lengths, T).to(states.device)
    if mode == "last":
        idx = (lengths - 1)[:, None, None].expand(B, 1, D)
        last = states.gather(1, idx).squeeze(1)
        if not bidirectional:
            return last
        if D % 2:
            raise ConfigError(f"a bidirectional encoder's states have an even width, got {D}")
        return torch.cat([last[:, : D // 2], states[:, 0, D // 2 :]], dim=1)
    mask = length_mask(lengths, T)[:, :, None]
    if mode == "max":
        return states.masked_fill(~mask, float("-inf")).amax(dim=1)
    return states.masked_fill(~mask, 0.0).sum(dim=1) / lengths[:, None].to(states.dtype)
