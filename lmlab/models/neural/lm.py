"""The neural language models as task models (``kind = "lm"``): what the generic trainer and
the checkpoint code need from :class:`~lmlab.models.neural.rnn.RNNLM` and
:class:`~lmlab.models.neural.window.WindowLM`.

An LM batch (built by :mod:`lmlab.train.lm_task`) holds ``inputs`` and ``targets``: ``(T, B)``
token ids for the recurrent LM (time first), ``(B, context)`` contexts and ``(B,)`` targets for
the window LM; targets that are ``<s>`` or padding hold ``IGNORE`` and are not scored.
``n_items`` is the number of scored targets.  The recurrent LM keeps the state it ended a batch
in (detached: truncated BPTT) and starts the next batch from it when that batch has ``carry``
(stream mode's consecutive windows); otherwise it starts from zeros.

``config.json`` is the LM config (:mod:`lmlab.models.neural.config`), whose own ``kind`` field
(``rnnlm``, ``window``) names the architecture; both are checkpoints of kind ``lm``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from ...errors import VocabMismatchError
from ...tensors.streams import IGNORE
from .config import ModelConfig, config_from_dict, config_to_dict
from .task import Batch, TaskModel


class NeuralLM(TaskModel):
    """Base of the neural LMs: kind ``lm``, one vocabulary (``tokens``), a dataclass config."""

    kind = "lm"
    config: ModelConfig  # set by build_model

    def loss(self, batch: Batch) -> tuple[torch.Tensor, int]:
        total = self.summed_loss(batch)
        return total, int((batch["targets"] != IGNORE).sum())

    def summed_loss(self, batch: Batch) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    @torch.no_grad()
    def predict(self, batch: Batch) -> list[Any]:
        """Per row of the batch: the log-probabilities (float64 numpy) of its scored targets."""
        from .scoring import target_logprobs

        lp, targets = self.target_scores(batch)
        out = torch.full(targets.shape, float("nan"), dtype=torch.float64, device=targets.device)
        keep = targets != IGNORE
        out[keep] = target_logprobs(lp[keep], targets[keep], inplace=True)
        rows = out.cpu().numpy()
        mask = keep.cpu().numpy()
        return [r[m] for r, m in zip(rows, mask, strict=True)]

    def target_scores(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:  # pragma: no cover
        raise NotImplementedError

    def input_embedding(self) -> torch.nn.Embedding:
        """The token embedding (``--pretrained`` vectors go here)."""
        return self.encoder

    def config_dict(self) -> dict:
        return config_to_dict(self.config)

    @classmethod
    def from_config(cls, config: Mapping | ModelConfig, vocabs: Mapping[str, Any]) -> NeuralLM:
        from .build import build_model

        cfg = config if not isinstance(config, Mapping) else config_from_dict(dict(config))
        tokens = vocabs.get("tokens")
        if tokens is not None and len(tokens) != cfg.vocab_size:
            raise VocabMismatchError(f"the model config is for {cfg.vocab_size} tokens but the vocabulary "
                                     f"has {len(tokens)}")
        return build_model(cfg)
