"""Masks for padded batches: which positions of a ``(B, T)`` batch are real tokens.

Every sequence model over padded batches (encoder, pooling, CRF) takes the true lengths or this
mask; a padded position is never read.  Padding is at the end of each row (positions
``lengths[b]`` .. ``T - 1``).
"""

from __future__ import annotations

import torch

from ...errors import ConfigError


def length_mask(lengths: torch.Tensor, max_len: int | None = None) -> torch.Tensor:
    """Boolean ``(B, T)`` mask, True at the first ``lengths[b]`` positions of row ``b``."""
    lengths = torch.as_tensor(lengths)
    T = int(lengths.max()) if max_len is None else int(max_len)
    return torch.arange(T, device=lengths.device)[None, :] < lengths[:, None]


def check_lengths(lengths: torch.Tensor, max_len: int) -> torch.Tensor:
    """``lengths`` as a 1-d int64 tensor, each in 1 .. ``max_len`` (an empty sequence has no states)."""
    lengths = torch.as_tensor(lengths, dtype=torch.int64)
    if lengths.dim() != 1:
        raise ConfigError(f"lengths must be one number per sequence, got shape {tuple(lengths.shape)}")
    if len(lengths) and (int(lengths.min()) < 1 or int(lengths.max()) > max_len):
        raise ConfigError(f"every length must be in 1..{max_len} (the padded length), "
                          f"got {int(lengths.min())}..{int(lengths.max())}")
    return lengths


def mask_lengths(mask: torch.Tensor) -> torch.Tensor:
    """True lengths from a ``(B, T)`` mask, which must be a non-empty prefix in every row."""
    mask = torch.as_tensor(mask, dtype=torch.bool)
    lengths = mask.sum(1)
    if mask.shape[1] and not bool(torch.equal(mask, length_mask(lengths, mask.shape[1]))):
        raise ConfigError("the mask must be True on a prefix of each row (padding only at the end)")
    return check_lengths(lengths, mask.shape[1])
