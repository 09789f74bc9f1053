"""The one-to-many model: a recurrent language model conditioned on one vector per sentence.

The condition is either a *label* (a learned embedding per class: generate a positive or a
negative review) or a *feature vector* of ``feature_size`` floats given with each sentence (as
image captioning conditions on image features; ``lmlab.data.features`` reads them), mapped to the
conditioning vector ``c = tanh(W f + b)`` of ``condition_size``.

How ``c`` enters the decoder (the attention-free encoder-decoder's choice, Cho et al. 2014, so a
model trained on that encoder's context vectors is the same decoder):

* the initial state of every layer is ``tanh(bridge(c))`` (an LSTM's initial cell is zero), and
* every step reads ``[e(y_{t-1}); c]``.

The initial state alone (Show and Tell, Vinyals et al. 2015) must be carried through every step
by the recurrence, and a small LM trained on short SST sentences drifts back to its unconditional
distribution after a few words; feeding ``c`` at every step keeps the condition in view at any
length, which is what "label-consistent" sampling needs.  Both together cost one ``(C, L * H)``
matrix more than the input feed alone.

The decoder is the shared :class:`~lmlab.models.neural.encoder.RecurrentEncoder` (unidirectional,
packed over true lengths, so a padded batch gives each sentence exactly its own loss) with ``c``
as its per-token extra features; one linear layer maps its top state to the vocabulary; ``<s>`` is
never predicted (its logit is ``-inf`` in training too, so the training loss, the dev perplexity
and ``lmlab evaluate``'s perplexity are one figure).  Batches (:func:`lmlab.tensors.conditional.conditional_batches`):
``target_input (B, T)`` (``<s> y1 .. yn``), ``target_output`` (``y1 .. yn </s>``, ``PAD_ID`` at
padding), ``target_lengths``, and ``labels (B,)`` or ``features (B, F)``.  The loss is the
summed negative log-likelihood of the target tokens (``</s>`` included; ``n_items`` counts
them).  With a condition fixed, :class:`~lmlab.models.neural.conditioned.ConditionedLM` is a
:class:`~lmlab.models.base.LanguageModel`, so generation, beam search and perplexity are the
LMs' own code.

``label_prior`` (the training labels' frequencies, saved in ``config.json``) defines the
unconditional model of a label-conditioned LM: the marginal ``p(x) = sum_l prior(l) p(x | l)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch
from torch import nn

from ...errors import ConfigError
from ...text.labels import LabelSet
from ...text.specials import BOS_ID, PAD_ID
from ...text.vocab import Vocab
from .encoder import RecurrentEncoder
from .task import Batch, TaskModel, settings_of

CONDITIONS = ("label", "features")


class ConditionalLM(TaskModel):
    """A conditional LM over the ``tokens`` vocabulary, conditioned on a label of ``labels`` or on
    a vector of ``feature_size`` floats (exactly one of them; see the module docstring)."""

    kind = "conditional-lm"

    def __init__(self, tokens: Vocab, labels: LabelSet | None = None, *, feature_size: int | None = None,
                 emsize: int = 128, hidden_size: int = 256, num_layers: int = 1, cell: str = "lstm",
                 condition_size: int | None = None, dropout: float = 0.0,
                 label_prior: Sequence[float] | None = None):
        super().__init__()
        problems = []
        if (labels is None) == (feature_size is None):
            problems.append("a conditional LM is conditioned on labels or on feature vectors: give one of them")
        if feature_size is not None and (isinstance(feature_size, bool) or int(feature_size) < 1):
            problems.append(f"feature_size must be >= 1, got {feature_size!r}")
        if not 0.0 <= dropout < 1.0:
            problems.append(f"dropout must be in [0, 1), got {dropout}")
        if label_prior is not None and (labels is None or len(label_prior) != len(labels)
                                        or not all(p > 0 for p in label_prior)):
            problems.append("label_prior must give each label a probability > 0")
        if problems:
            raise ConfigError(problems)
        C = int(condition_size or emsize)
        self.tokens, self.labels = tokens, labels
        self.condition = "label" if labels is not None else "features"
        self.feature_size = None if feature_size is None else int(feature_size)
        self.cell, self.num_layers, self.hidden_size = cell, num_layers, hidden_size
        if labels is not None:
            prior = np.full(len(labels), 1.0 / len(labels)) if label_prior is None else np.asarray(label_prior, float)
            self.label_prior = prior / prior.sum()
        else:
            self.label_prior = None
        self._config = {"emsize": emsize, "hidden_size": hidden_size, "num_layers": num_layers, "cell": cell,
                        "condition_size": C, "dropout": dropout, "feature_size": self.feature_size,
                        "label_prior": None if self.label_prior is None else [float(p) for p in self.label_prior]}
        if labels is not None:
            self.label_embedding = nn.Embedding(len(labels), C)
        else:
            self.feature_map = nn.Linear(self.feature_size, C)
        self.decoder = RecurrentEncoder(len(tokens) + 1, emsize, hidden_size, num_layers, cell, dropout=dropout,
                                        padding_idx=tokens.pad_id, feature_size=C)
        self.bridge = nn.Linear(C, num_layers * hidden_size)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(hidden_size, len(tokens))
        self.register_buffer("_bos", torch.tensor([BOS_ID]), persistent=False)

    @property
    def vocabs(self) -> dict:
        """The named vocabularies a checkpoint stores: ``tokens`` (and ``labels``)."""
        return {"tokens": self.tokens} if self.labels is None else {"tokens": self.tokens, "labels": self.labels}

    def input_embedding(self) -> nn.Embedding:
        """The token embedding (``--pretrained`` vectors go here)."""
        return self.decoder.embedding

    # -- the condition --------------------------------------------------------------------
    def condition_vectors(self, batch: Batch) -> torch.Tensor:
        """The conditioning vectors ``c (B, C)`` of a batch's ``labels`` or ``features``."""
        if self.labels is not None:
            return self.label_embedding(batch["labels"])
        f = batch["features"]
        if f.shape[-1] != self.feature_size:
            raise ConfigError(f"this conditional LM takes feature vectors of dimension {self.feature_size}, "
                              f"got {f.shape[-1]}")
        return torch.tanh(self.feature_map(f.to(self.bridge.weight.dtype)))

    def initial_hidden(self, c: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Every layer's initial state from ``c (B, C)``: ``tanh(bridge(c))`` (an LSTM's cell: zeros)."""
        B = c.shape[0]
        h = torch.tanh(self.bridge(c)).view(B, self.num_layers, -1).transpose(0, 1).contiguous()
        return (h, torch.zeros_like(h)) if self.cell == "lstm" else (h,)

    # -- the decoder ----------------------------------------------------------------------
    def logits(self, top: torch.Tensor) -> torch.Tensor:
        """Scores over the vocabulary from top-layer states (any leading shape); ``<s>``: ``-inf``."""
        return self.out(top).index_fill(-1, self._bos, float("-inf"))

    def teacher_forced(self, c: torch.Tensor, target_input: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """The top states ``(B, T, H)`` after each input token (zeros at padding)."""
        B, T = target_input.shape
        feats = c[:, None, :].expand(B, T, c.shape[1])
        return self.decoder(target_input, lengths, self.initial_hidden(c), features=feats).states

    @torch.no_grad()
    def step(self, tokens: torch.Tensor, hidden: tuple[torch.Tensor, ...], c: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """The state after reading ``tokens (B,)`` from ``hidden`` under conditions ``c (B, C)``."""
        x = torch.cat([self.decoder.embedding(tokens), c.to(self.decoder.embedding.weight.dtype)], dim=1)
        ones = torch.ones(len(tokens), dtype=torch.int64)
        return self.decoder.run(x[:, None, :], ones, hidden).final

    # -- the task protocol ----------------------------------------------------------------
    def loss(self, batch: Batch) -> tuple[torch.Tensor, int]:
        states = self.teacher_forced(self.condition_vectors(batch), batch["target_input"], batch["target_lengths"])
        logits = self.logits(self.drop(states))  # <s> masked here too: the loss is the perplexity evaluate reports
        y = batch["target_output"]
        loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[2]), y.reshape(-1), ignore_index=PAD_ID,
                                           reduction="sum")
        return loss, int((y != PAD_ID).sum())

    @torch.no_grad()
    def predict(self, batch: Batch) -> list[np.ndarray]:
        """Per row: the natural-log probability (float64) of each target token, ``</s>`` last."""
        states = self.teacher_forced(self.condition_vectors(batch), batch["target_input"], batch["target_lengths"])
        lp = torch.log_softmax(self.logits(states).double(), dim=2)
        y = batch["target_output"]
        got = lp.gather(2, y.clamp(min=0)[:, :, None])[:, :, 0].cpu().numpy()
        return [got[b, :n] for b, n in enumerate(batch["target_lengths"].tolist())]

    def config_dict(self) -> dict:
        return {"kind": self.kind, "condition": self.condition, **self._config}

    @classmethod
    def from_config(cls, config: Mapping, vocabs: Mapping) -> ConditionalLM:
        params = settings_of(config, _SETTINGS, "conditional LM")
        condition = params.pop("condition", "label")
        if condition not in CONDITIONS:
            raise ConfigError(f"condition must be one of {', '.join(CONDITIONS)}, got {condition!r}")
        labels = vocabs.get("labels") if condition == "label" else None
        if condition == "label" and labels is None:
            raise ConfigError("a label-conditioned LM needs its label set (labels.labels.json)")
        if condition == "label":
            params.pop("feature_size", None)
        return cls(vocabs["tokens"], labels, **params)


_SETTINGS = ("condition", "emsize", "hidden_size", "num_layers", "cell", "condition_size", "dropout", "feature_size",
             "label_prior")

__all__ = ["CONDITIONS", "ConditionalLM"]
