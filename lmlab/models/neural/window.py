"""The fixed-window neural LM (Bengio et al. 2003).

The embeddings of the previous ``context`` tokens are concatenated, passed through a tanh hidden
layer and a softmax over the vocabulary; ``direct`` adds Bengio's direct connections from the
embeddings to the output.  Shapes: contexts ``(B, context)`` -> logits ``(B, V)``.
"""

from __future__ import annotations

import torch
from torch import nn

from .lm import NeuralLM
from .task import Batch


class WindowLM(NeuralLM):
    def __init__(self, vocab_size: int, context: int, emsize: int, nhid: int, dropout: float = 0.2,
                 direct: bool = False, bos_id: int = 1):
        super().__init__()
        self.context = context
        self.encoder = nn.Embedding(vocab_size, emsize)
        self.hidden = nn.Linear(context * emsize, nhid)
        self.decoder = nn.Linear(nhid, vocab_size)
        self.direct = nn.Linear(context * emsize, vocab_size, bias=False) if direct else None
        self.drop = nn.Dropout(dropout)
        mask = torch.zeros(vocab_size)
        mask[bos_id] = float("-inf")
        self.register_buffer("out_mask", mask, persistent=False)

    def forward(self, contexts: torch.Tensor) -> torch.Tensor:
        e = self.drop(self.encoder(contexts).flatten(1))
        out = self.decoder(self.drop(torch.tanh(self.hidden(e))))
        if self.direct is not None:
            out = out + self.direct(e)
        return out + self.out_mask

    def summed_loss(self, batch: Batch) -> torch.Tensor:
        """Summed cross-entropy of the batch's ``targets (B,)`` given its ``inputs (B, context)``."""
        return nn.functional.cross_entropy(self(batch["inputs"]), batch["targets"], ignore_index=-100,
                                           reduction="sum")

    def target_scores(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        return self(batch["inputs"])[:, None, :], batch["targets"][:, None]
