"""The recurrent encoder over padded batches: embedding -> (bi)directional multi-layer RNN.

Shared by the sequence models (tagger, classifier, seq2seq encoder and decoder).  Batch-first:
tokens ``(B, T)`` with padding at the end of each row, true ``lengths (B,)`` (each >= 1).  The
cells are the ones :func:`~lmlab.models.neural.cells.recurrent_layers` maps a name to (the LM's
mapping): ``lstm``, ``gru``, ``rnn_tanh``, ``rnn_relu`` run packed (``pack_padded_sequence``), so
each sequence is computed exactly as alone and the backward direction starts at its true last
token; ``rnn_sigmoid`` and ``gru_cho`` (unidirectional only) step with the cell's own function and
hold the state still over padding.

Outputs (:class:`EncoderOutput`):

* ``states (B, T, D * H)``: the top layer's state at each position (``D`` = 2 when bidirectional:
  forward features first, then backward, as PyTorch concatenates them); zeros at padding.
* ``final``: the state after each sequence's true length, PyTorch's layout: a tuple of
  ``(L * D, B, H)`` tensors, ``(h, c)`` for the LSTM and ``(h,)`` for the others, index
  ``layer * D + direction``.  The backward direction's final state is its state at position 0.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from ...errors import ConfigError
from .cells import LoopRNN, init_recurrent, recurrent_layers
from .masking import check_lengths, length_mask


class EncoderOutput(NamedTuple):
    states: torch.Tensor  # (B, T, D * H), zeros at padding
    final: tuple[torch.Tensor, ...]  # each (L * D, B, H)


class RecurrentEncoder(nn.Module):
    """``vocab_size`` token embedding of ``emsize`` (plus ``feature_size`` extra input features per
    token, e.g. a character-level word embedding) -> ``num_layers`` of ``cell`` with ``hidden_size``
    units per direction.  ``dropout`` applies to the inputs and between layers; ``init`` (and
    ``chrono_tmax``) initialise the recurrent weights (:func:`~lmlab.models.neural.cells.init_recurrent`)."""

    def __init__(self, vocab_size: int, emsize: int, hidden_size: int, num_layers: int = 1, cell: str = "lstm",
                 *, bidirectional: bool = False, dropout: float = 0.0, padding_idx: int | None = None,
                 feature_size: int = 0, init: str = "default", chrono_tmax: int | None = None):
        super().__init__()
        if num_layers < 1 or hidden_size < 1 or emsize < 1:
            raise ConfigError(f"an encoder needs at least one layer, unit and embedding dimension, got "
                              f"num_layers={num_layers} hidden_size={hidden_size} emsize={emsize}")
        self.cell, self.hidden_size, self.num_layers = cell, hidden_size, num_layers
        self.bidirectional, self.dropout = bidirectional, dropout
        self.num_directions = 2 if bidirectional else 1
        self.output_size = hidden_size * self.num_directions
        self.embedding = nn.Embedding(vocab_size, emsize, padding_idx=padding_idx)
        self.drop = nn.Dropout(dropout)
        self.input_size = emsize + feature_size
        self.rnn = recurrent_layers(cell, self.input_size, hidden_size, num_layers,
                                    dropout=dropout if num_layers > 1 else 0.0, bidirectional=bidirectional)
        init_recurrent(self.rnn, init, cell, chrono_tmax=chrono_tmax)

    def init_hidden(self, batch_size: int) -> tuple[torch.Tensor, ...]:
        h = self.embedding.weight.new_zeros(self.num_layers * self.num_directions, batch_size, self.hidden_size)
        return (h, torch.zeros_like(h)) if self.cell == "lstm" else (h,)

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor, hidden: tuple[torch.Tensor, ...] | None = None,
                features: torch.Tensor | None = None) -> EncoderOutput:
        """Embed ``tokens (B, T)`` (with ``features (B, T, F)`` concatenated when given) and :meth:`run`."""
        x = self.embedding(tokens)
        if features is not None:
            x = torch.cat([x, features.to(x.dtype)], dim=2)
        if x.shape[2] != self.input_size:
            raise ConfigError(f"the encoder takes {self.input_size} input features per token, got {x.shape[2]}")
        return self.run(self.drop(x), lengths, hidden)

    def run(self, inputs: torch.Tensor, lengths: torch.Tensor,
            hidden: tuple[torch.Tensor, ...] | None = None) -> EncoderOutput:
        """The recurrent layers over already-embedded ``inputs (B, T, I)``."""
        B, T, _ = inputs.shape
        lengths = check_lengths(lengths, T)
        if hidden is None:
            hidden = self.init_hidden(B)
        if isinstance(self.rnn, LoopRNN):
            return self._run_loop(inputs, lengths, hidden)
        packed = pack_padded_sequence(inputs, lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, final = self.rnn(packed, hidden if self.cell == "lstm" else hidden[0])
        states, _ = pad_packed_sequence(out, batch_first=True, total_length=T)
        return EncoderOutput(states, tuple(final) if self.cell == "lstm" else (final,))

    def _run_loop(self, inputs, lengths, hidden) -> EncoderOutput:
        """The loop cells, stepped with their own cell function; padding leaves the state as it was."""
        mask = length_mask(lengths.to(inputs.device), inputs.shape[1]).t()[:, :, None]  # (T, B, 1)
        x, finals = inputs.transpose(0, 1), []
        for layer in range(self.num_layers):
            params, h, steps = self.rnn.layer_params(layer), hidden[0][layer], []
            for t in range(x.shape[0]):
                h = torch.where(mask[t], self.rnn.step_fn(x[t], h, *params), h)
                steps.append(h)
            x = torch.stack(steps)
            finals.append(h)
            if self.rnn.dropout and self.training and layer < self.num_layers - 1:
                x = nn.functional.dropout(x, self.rnn.dropout, True)
        return EncoderOutput((x * mask).transpose(0, 1), (torch.stack(finals),))
