"""The recurrent language model: embedding -> recurrent layers -> softmax over the vocabulary.

Shapes: tokens ``(T, B)`` (time first, as pytorch/examples' word_language_model), logits
``(T, B, V)``; the hidden state is a tuple of ``(L, B, H)`` tensors: ``(h, c)`` for the LSTM,
``(h,)`` for the others.  ``<s>``'s logit is masked to ``-inf``: it is input, never predicted.

As a task model (:class:`~lmlab.models.neural.lm.NeuralLM`), a batch's ``inputs``/``targets`` are
``(T, B)``; the state after a batch is kept, detached, for the next batch when it has ``carry``.
"""

from __future__ import annotations

import torch
from torch import nn

from .cells import init_recurrent, recurrent_layers
from .lm import NeuralLM
from .task import Batch


class RNNLM(NeuralLM):
    def __init__(self, vocab_size: int, emsize: int, nhid: int, nlayers: int, cell: str = "lstm",
                 dropout: float = 0.2, tied: bool = False, init: str = "default", bos_id: int = 1,
                 adaptive_cutoffs: tuple[int, ...] = (), dropout_emb: float | None = None,
                 dropout_between: float | None = None, dropout_out: float | None = None):
        super().__init__()
        self.cell, self.nhid, self.nlayers, self.vocab_size = cell, nhid, nlayers, vocab_size
        # ``dropout`` applies at all three places unless a place has its own rate
        self.drop_emb = nn.Dropout(dropout if dropout_emb is None else dropout_emb)
        self.drop_out = nn.Dropout(dropout if dropout_out is None else dropout_out)
        self.encoder = nn.Embedding(vocab_size, emsize)
        inter = (dropout if dropout_between is None else dropout_between) if nlayers > 1 else 0.0
        self.rnn = recurrent_layers(cell, emsize, nhid, nlayers, dropout=inter)
        self.adaptive = bool(adaptive_cutoffs)
        if self.adaptive:
            # classes by frequency: ``rank[i]`` is word i's frequency rank, set by the trainer
            self.decoder = nn.AdaptiveLogSoftmaxWithLoss(nhid, vocab_size, list(adaptive_cutoffs), div_value=4.0)
            self.register_buffer("rank", torch.arange(vocab_size))
        else:
            self.decoder = nn.Linear(nhid, vocab_size)
        if tied:
            self.decoder.weight = self.encoder.weight
        mask = torch.zeros(vocab_size)
        if 0 <= bos_id < vocab_size:
            mask[bos_id] = float("-inf")
        self.register_buffer("out_mask", mask, persistent=False)
        self.register_buffer("bos_index", torch.tensor([bos_id] if 0 <= bos_id < vocab_size else [],
                                                       dtype=torch.long), persistent=False)
        self._init(init, tied)
        self._carried: tuple[torch.Tensor, ...] | None = None  # the state after the last training batch

    def _init(self, init: str, tied: bool) -> None:
        nn.init.uniform_(self.encoder.weight, -0.1, 0.1)  # as pytorch/examples
        if not self.adaptive:
            if not tied:
                nn.init.uniform_(self.decoder.weight, -0.1, 0.1)
            nn.init.zeros_(self.decoder.bias)
        init_recurrent(self.rnn, init, self.cell)

    # -- hidden state -------------------------------------------------------------------
    def init_hidden(self, bsz: int) -> tuple[torch.Tensor, ...]:
        w = self.encoder.weight
        h = w.new_zeros(self.nlayers, bsz, self.nhid)
        return (h, w.new_zeros(self.nlayers, bsz, self.nhid)) if self.cell == "lstm" else (h,)

    def _rnn(self, emb, hidden):
        if self.cell == "lstm":
            out, (h, c) = self.rnn(emb, hidden)
            return out, (h, c)
        out, h = self.rnn(emb, hidden[0])
        return out, (h,)

    # -- forward --------------------------------------------------------------------------
    def forward(self, tokens: torch.Tensor, hidden: tuple[torch.Tensor, ...]):
        """tokens (T, B) -> logits (T, B, V), hidden."""
        out, hidden = self.top_states(tokens, hidden)
        return self.logits(self.drop_out(out)), hidden

    def top_states(self, tokens: torch.Tensor, hidden: tuple[torch.Tensor, ...]):
        """tokens (T, B) -> the top layer's outputs (T, B, H) (before the output dropout), hidden."""
        return self._rnn(self.drop_emb(self.encoder(tokens)), hidden)

    def logits(self, top: torch.Tensor) -> torch.Tensor:
        """Scores over the vocabulary (any leading shape); for the adaptive softmax these are
        log-probabilities renormalised without ``<s>``."""
        if not self.adaptive:
            out = self.decoder(top)  # <s> set to -inf in place: adding the mask would copy (N, V)
            return out.index_fill_(-1, self.bos_index, float("-inf")) if len(self.bos_index) else out
        shape = top.shape[:-1]
        lp = self.decoder.log_prob(top.reshape(-1, top.shape[-1]))[:, self.rank] + self.out_mask
        return torch.log_softmax(lp, dim=-1).reshape(*shape, -1)

    def summed_loss(self, batch: Batch) -> torch.Tensor:
        """Summed cross-entropy of the batch's targets, from the carried state if ``batch.carry``
        (and the column count matches), else from zeros; the final state is kept, detached."""
        tokens = batch["inputs"]
        carried = self._carried
        if batch.carry and carried is not None and carried[0].shape[1] == tokens.shape[1]:
            hidden = carried
        else:
            hidden = self.init_hidden(tokens.shape[1])
        total, hidden = self.sequence_loss(tokens, hidden, batch["targets"])
        self._carried = tuple(h.detach() for h in hidden)  # truncated BPTT: keep the state, cut the graph
        return total

    def sequence_loss(self, tokens: torch.Tensor, hidden, targets: torch.Tensor, ignore_index: int = -100):
        """Summed cross-entropy of ``targets`` (T, B) (``ignore_index`` skipped) and the new hidden."""
        emb = self.drop_emb(self.encoder(tokens))
        out, hidden = self._rnn(emb, hidden)
        out = self.drop_out(out).reshape(-1, out.shape[-1])
        t = targets.reshape(-1)
        if not self.adaptive:
            # <s> is never a target; its logit is masked at inference (``logits``), not here.
            return nn.functional.cross_entropy(self.decoder(out), t, ignore_index=ignore_index,
                                               reduction="sum"), hidden
        keep = t != ignore_index
        return -self.decoder(out[keep], self.rank[t[keep]]).output.sum(), hidden

    def target_scores(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        """(scores (B, T, V), targets (B, T)) of a batch, each row from a fresh state."""
        logits, _ = self(batch["inputs"], self.init_hidden(batch["inputs"].shape[1]))
        return logits.transpose(0, 1).float(), batch["targets"].t()

    def step(self, tokens: torch.Tensor, hidden: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
        """One time step for a batch (B,) of tokens, in eval mode, with the fused cell functions
        (much faster than ``nn.LSTM`` at batch 1 on CPU).  Returns the new hidden state."""
        x = self.encoder(tokens)
        hs, cs = [], []
        for layer in range(self.nlayers):
            w_ih = getattr(self.rnn, f"weight_ih_l{layer}")
            w_hh = getattr(self.rnn, f"weight_hh_l{layer}")
            b_ih = getattr(self.rnn, f"bias_ih_l{layer}")
            b_hh = getattr(self.rnn, f"bias_hh_l{layer}")
            h = hidden[0][layer]
            if self.cell == "lstm":
                h, c = torch.lstm_cell(x, (h, hidden[1][layer]), w_ih, w_hh, b_ih, b_hh)
                cs.append(c)
            elif self.cell == "gru":
                h = torch.gru_cell(x, h, w_ih, w_hh, b_ih, b_hh)
            elif self.cell == "rnn_tanh":
                h = torch.rnn_tanh_cell(x, h, w_ih, w_hh, b_ih, b_hh)
            elif self.cell == "rnn_relu":
                h = torch.rnn_relu_cell(x, h, w_ih, w_hh, b_ih, b_hh)
            else:
                h = self.rnn.step_fn(x, h, w_ih, w_hh, b_ih, b_hh)
            hs.append(h)
            x = h
        return (torch.stack(hs), torch.stack(cs)) if self.cell == "lstm" else (torch.stack(hs),)
