"""A linear-chain conditional random field over per-token label scores (a tagger's output layer).

For one sequence of length ``n`` with emission scores ``e[t, y]`` (from the encoder) and labels
``y_1 .. y_n``, the score is

    s(y) = start[y_1] + e[1, y_1] + sum_{t=2..n} (trans[y_{t-1}, y_t] + e[t, y_t]) + end[y_n]

and ``P(y | x) = exp(s(y)) / Z`` with ``log Z = logsumexp over every label sequence of s(y)``,
computed by the forward algorithm in log space; the most likely sequence is found by Viterbi.
``trans[i, j]`` scores label ``i`` followed by label ``j``.

Batches are batch-first: emissions ``(B, T, L)``, labels ``(B, T)``, and a boolean ``mask``
``(B, T)`` that is True on the first ``length`` positions of each row (padding only at the end;
every sequence has at least one token).  Padded positions are never read, so a padded batch gives
each sequence exactly the value it has alone.
"""

from __future__ import annotations

import torch
from torch import nn

from ...errors import ConfigError
from .masking import mask_lengths


class LinearChainCRF(nn.Module):
    """Transition scores ``transitions (L, L)``, ``start (L,)`` and ``end (L,)`` (initialised to 0)."""

    def __init__(self, num_labels: int):
        super().__init__()
        if num_labels < 1:
            raise ConfigError(f"a CRF needs at least one label, got {num_labels}")
        self.num_labels = num_labels
        self.transitions = nn.Parameter(torch.zeros(num_labels, num_labels))
        self.start = nn.Parameter(torch.zeros(num_labels))
        self.end = nn.Parameter(torch.zeros(num_labels))

    def _check(self, emissions: torch.Tensor, mask: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        if emissions.dim() != 3 or emissions.shape[2] != self.num_labels:
            raise ConfigError(f"emissions must be (batch, time, {self.num_labels}), got {tuple(emissions.shape)}")
        B, T, _ = emissions.shape
        if mask is None:
            mask = emissions.new_ones(B, T, dtype=torch.bool)
        mask = torch.as_tensor(mask, dtype=torch.bool, device=emissions.device)
        if mask.shape != (B, T):
            raise ConfigError(f"mask must be {(B, T)}, got {tuple(mask.shape)}")
        return mask, mask_lengths(mask)

    # -- scores -----------------------------------------------------------------------------
    def score(self, emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """``s(y)`` of the label sequences ``tags (B, T)`` (padded entries ignored): shape ``(B,)``."""
        mask, lengths = self._check(emissions, mask)
        tags = torch.as_tensor(tags, dtype=torch.int64, device=emissions.device)
        tags = tags.masked_fill(~mask, 0)  # padding may hold anything (e.g. -100)
        emit = emissions.gather(2, tags[:, :, None]).squeeze(2)  # (B, T)
        trans = self.transitions[tags[:, :-1], tags[:, 1:]]  # (B, T-1)
        m = mask.to(emissions.dtype)
        total = self.start[tags[:, 0]] + (emit * m).sum(1) + (trans * m[:, 1:]).sum(1)
        last = tags.gather(1, (lengths - 1)[:, None]).squeeze(1)
        return total + self.end[last]

    def log_partition(self, emissions: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """``log Z`` of each sequence by the forward algorithm: shape ``(B,)``."""
        mask, _ = self._check(emissions, mask)
        alpha = self.start[None, :] + emissions[:, 0]  # (B, L)
        for t in range(1, emissions.shape[1]):
            nxt = torch.logsumexp(alpha[:, :, None] + self.transitions[None], dim=1) + emissions[:, t]
            alpha = torch.where(mask[:, t, None], nxt, alpha)
        return torch.logsumexp(alpha + self.end[None, :], dim=1)

    def nll(self, emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Negative log-likelihood ``log Z - s(y)`` of each gold sequence: shape ``(B,)``."""
        return self.log_partition(emissions, mask) - self.score(emissions, tags, mask)

    def forward(self, emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """The summed negative log-likelihood of the batch (a training loss; divide by the item count)."""
        return self.nll(emissions, tags, mask).sum()

    # -- decoding ---------------------------------------------------------------------------
    @torch.no_grad()
    def viterbi(self, emissions: torch.Tensor, mask: torch.Tensor | None = None) -> tuple[list[list[int]], torch.Tensor]:
        """The best label sequence of each row (its true length) and its score ``s(y)`` ``(B,)``.

        Ties go to the lower label id at every step."""
        mask, lengths = self._check(emissions, mask)
        B, T, L = emissions.shape
        delta = self.start[None, :] + emissions[:, 0]
        keep = torch.arange(L, device=emissions.device).expand(B, L)
        back = []
        for t in range(1, T):
            best, arg = (delta[:, :, None] + self.transitions[None]).max(dim=1)  # over the previous label
            on = mask[:, t, None]
            delta = torch.where(on, best + emissions[:, t], delta)
            back.append(torch.where(on, arg, keep))  # padding passes the label through unchanged
        score, tag = (delta + self.end[None, :]).max(dim=1)
        path = [tag]
        for arg in reversed(back):
            tag = arg.gather(1, tag[:, None]).squeeze(1)
            path.append(tag)
        path = torch.stack(path[::-1], dim=1).tolist()  # (B, T); padded entries repeat the last label
        return [row[: int(n)] for row, n in zip(path, lengths, strict=True)], score

    def decode(self, emissions: torch.Tensor, mask: torch.Tensor | None = None) -> list[list[int]]:
        """The best label sequence of each row (:meth:`viterbi` without the scores)."""
        return self.viterbi(emissions, mask)[0]
