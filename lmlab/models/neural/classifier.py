"""The many-to-one classifier: embedding -> (bi)directional multi-layer RNN -> pooling -> label.

Batches (:func:`lmlab.tensors.classification.classification_batches`): ``tokens (B, T)`` with the
vocabulary's ``pad_id`` at padding, ``lengths (B,)``, and ``labels (B,)`` for the loss
(``PAD_ID`` rows are skipped).  The encoder's top-layer states are pooled over each sentence's
true length (``last``, ``max`` or ``mean``: :func:`~lmlab.models.neural.pooling.pool`), then
dropout and one linear layer give a score per label.  The loss is the cross-entropy summed over
the sentences; the prediction is the best-scoring label's id.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import torch
from torch import nn

from ...errors import ConfigError
from ...tensors.classification import text_batches
from ...tensors.tagging import in_input_order
from ...text.labels import LabelSet
from ...text.specials import PAD_ID
from ...text.vocab import Vocab
from .embeddings import load_pretrained
from .encoder import RecurrentEncoder
from .pooling import POOLING_MODES, pool
from .task import Batch, TaskModel, settings_of


class Classifier(TaskModel):
    """A sentence classifier over the ``tokens`` vocabulary with the ``labels`` label set.

    ``freeze_embeddings`` keeps the embedding fixed (with :meth:`load_pretrained` vectors)."""

    kind = "classify"

    def __init__(self, tokens: Vocab, labels: LabelSet, *, emsize: int = 128, hidden_size: int = 256,
                 num_layers: int = 1, cell: str = "lstm", bidirectional: bool = True, pooling: str = "max",
                 dropout: float = 0.0, freeze_embeddings: bool = False, init: str = "default",
                 chrono_tmax: int | None = None):
        super().__init__()
        if pooling not in POOLING_MODES:
            raise ConfigError(f"pooling must be one of {', '.join(POOLING_MODES)}, got {pooling!r}")
        if not 0.0 <= dropout < 1.0:
            raise ConfigError(f"dropout must be in [0, 1), got {dropout}")
        self.tokens, self.labels = tokens, labels
        self.pooling, self.freeze_embeddings = pooling, freeze_embeddings
        self._config = {"emsize": emsize, "hidden_size": hidden_size, "num_layers": num_layers, "cell": cell,
                        "bidirectional": bidirectional, "pooling": pooling, "dropout": dropout,
                        "freeze_embeddings": freeze_embeddings, "init": init, "chrono_tmax": chrono_tmax}
        self.encoder = RecurrentEncoder(len(tokens) + 1, emsize, hidden_size, num_layers, cell,
                                        bidirectional=bidirectional, dropout=dropout, padding_idx=tokens.pad_id,
                                        init=init, chrono_tmax=chrono_tmax)
        self.encoder.embedding.weight.requires_grad_(not freeze_embeddings)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(self.encoder.output_size, len(labels))

    @property
    def vocabs(self) -> dict:
        """The named vocabularies a checkpoint stores: ``tokens`` and ``labels``."""
        return {"tokens": self.tokens, "labels": self.labels}

    def load_pretrained(self, path: str | os.PathLike) -> float:
        """Word vectors from a GloVe/word2vec text file; returns the vocabulary's coverage."""
        return load_pretrained(self.encoder.embedding, path, self.tokens)

    def sentence_vectors(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """The pooled ``(B, D * H)`` vector of each sentence (before dropout and the output layer)."""
        states = self.encoder(tokens, lengths).states
        return pool(states, lengths, self.pooling, bidirectional=self.encoder.bidirectional)

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Label scores (logits) ``(B, n_labels)``."""
        return self.out(self.drop(self.sentence_vectors(tokens, lengths)))

    def loss(self, batch: Batch) -> tuple[torch.Tensor, int]:
        logits = self(batch["tokens"], batch["lengths"])
        y = batch["labels"]
        return nn.functional.cross_entropy(logits, y, ignore_index=PAD_ID, reduction="sum"), int((y != PAD_ID).sum())

    @torch.no_grad()
    def predict(self, batch: Batch) -> list[int]:
        """The best label id of each row (ties: the lower id)."""
        return self(batch["tokens"], batch["lengths"]).argmax(dim=1).tolist()

    def classify(self, texts: Sequence[str], batch_size: int = 64,
                 device: torch.device | str | None = None) -> list[str | None]:
        """The label of each text, in input order; a text with no tokens gets ``None``."""
        batches = text_batches(texts, self.tokens, batch_size=batch_size)
        out = self.predict_batches(batches, device)
        return [None if i is None else self.labels[i] for i in in_input_order(len(texts), out, empty=lambda: None)]

    def config_dict(self) -> dict:
        return {"kind": self.kind, **self._config}

    @classmethod
    def from_config(cls, config: Mapping, vocabs: Mapping) -> Classifier:
        return cls(vocabs["tokens"], vocabs["labels"], **settings_of(config, _DEFAULTS, "classifier"))


_DEFAULTS = {"emsize", "hidden_size", "num_layers", "cell", "bidirectional", "pooling", "dropout", "freeze_embeddings",
             "init", "chrono_tmax"}

__all__ = ["Classifier"]
