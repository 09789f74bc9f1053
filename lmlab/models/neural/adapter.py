"""``TorchLM``: a neural model + its vocabulary behind the :class:`LanguageModel` interface.

States are immutable and hashable: they compare by the token history, and carry the hidden
tensors (RNNs) so that advancing one token costs one step of the cells.  Scoring a corpus runs
whole sentences in batches (sentence-independent: every sentence starts from ``<s>``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from ..._progress import progress_bar
from ...text.specials import BOS_ID, EOS_ID
from ...text.vocab import Vocab
from ..base import LanguageModel
from .config import ModelConfig, RNNLMConfig
from .device import resolve_device
from .scoring import target_logprobs


@dataclass(frozen=True)
class NeuralState:
    """History (token ids) and, for RNNs, the hidden tensors after it (each ``(L, 1, H)``)."""

    tokens: tuple[int, ...]
    hidden: tuple = field(default=(), compare=False, hash=False, repr=False)


class TorchLM(LanguageModel):
    def __init__(self, model: torch.nn.Module, config: ModelConfig, vocab: Vocab, device: str = "cpu",
                 batch_size: int = 64, progress: bool = False):
        device = resolve_device(device)
        self.model = model.to(device).eval()
        self.config = config
        self._vocab = vocab
        self.device = device
        self.batch_size = batch_size
        self.progress = progress  # a progress bar (on a terminal) while scoring a corpus
        self.is_rnn = isinstance(config, RNNLMConfig)
        # one-token steps on CPU run in numpy (PyTorch's batch-1 CPU kernels are slow; see numpy_step)
        self._np = None
        if self.is_rnn and str(device) == "cpu" and not getattr(model, "adaptive", False):
            from .numpy_step import NumpyStepper

            self._np = NumpyStepper(self.model)

    @classmethod
    def load(cls, folder: str | os.PathLike, device: str = "cpu") -> TorchLM:
        from .checkpoint import load_model

        model, config, vocab = load_model(folder, device)
        return cls(model, config, vocab, device)

    @property
    def vocab(self) -> Vocab:
        return self._vocab

    # -- states ---------------------------------------------------------------------------
    def null_state(self) -> NeuralState:
        if self._np is not None:
            return NeuralState((), self._np.init_hidden())
        if self.is_rnn:
            return NeuralState((), tuple(h.detach() for h in self.model.init_hidden(1)))
        return NeuralState(())

    def begin_state(self) -> NeuralState:
        return self.advance(self.null_state(), BOS_ID)

    @torch.no_grad()
    def advance(self, state: NeuralState, token_id: int) -> NeuralState:
        tokens = (*state.tokens, int(token_id))
        if not self.is_rnn:
            return NeuralState(tokens[-self.config.context :])
        if self._np is not None:
            return NeuralState(tokens, self._np.step(int(token_id), state.hidden))
        tok = torch.tensor([int(token_id)], device=self.device)
        return NeuralState(tokens, self.model.step(tok, state.hidden))

    def advance_many(self, states: Sequence[NeuralState], token_ids: Sequence[int]) -> list[NeuralState]:
        """One batched recurrent step for all states (the numpy stepper), else one at a time."""
        if self._np is None or len(states) < 2:
            return super().advance_many(states, token_ids)
        ids = np.asarray(token_ids, dtype=np.int64)
        hidden = tuple(np.stack([s.hidden[k] for s in states], axis=1) for k in range(len(states[0].hidden)))
        new = self._np.step(ids, hidden)  # parts (L, B, H)
        return [NeuralState((*s.tokens, int(t)), tuple(np.ascontiguousarray(part[:, b]) for part in new))
                for b, (s, t) in enumerate(zip(states, ids.tolist(), strict=True))]

    @torch.no_grad()
    def next_logprobs(self, states: Sequence[NeuralState]) -> np.ndarray:
        if self._np is not None:
            return self._np.logprobs(np.stack([s.hidden[0][-1] for s in states]))
        if self.is_rnn:
            top = torch.cat([s.hidden[0][-1] for s in states], dim=0)  # (B, H)
            logits = self.model.logits(top)
        else:
            ctx = [self._window(s.tokens) for s in states]
            logits = self.model(torch.tensor(ctx, device=self.device))
        return torch.log_softmax(logits.double(), dim=-1).cpu().numpy()

    def _window(self, tokens: tuple[int, ...]) -> list[int]:
        n = self.config.context
        t = list(tokens[-n:])
        return [BOS_ID] * (n - len(t)) + t

    # -- batch scoring --------------------------------------------------------------------
    @torch.no_grad()
    def corpus_token_logprobs(self, sentences: Sequence[Sequence[int]]) -> list[np.ndarray]:
        top = max((int(np.max(s)) for s in sentences if len(s)), default=0)
        if top >= len(self._vocab):
            from ...errors import VocabMismatchError

            raise VocabMismatchError(
                f"token id {top} is outside this model's vocabulary of {len(self._vocab)} tokens: "
                "the text was encoded with another vocabulary"
            )
        self.model.eval()  # scoring is deterministic: no dropout, whatever the caller did before
        out: list[np.ndarray | None] = [None] * len(sentences)
        order = sorted(range(len(sentences)), key=lambda i: len(sentences[i]))
        bar = progress_bar(self.progress, "scoring (sentence)", total=sum(len(s) + 1 for s in sentences),
                           unit="tok")
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            batch = [sentences[i] for i in idx]
            scores = self._score_batch(batch)
            for i, s in zip(idx, scores, strict=True):
                out[i] = s
            if bar is not None:
                bar.update(sum(len(s) for s in scores))
        if bar is not None:
            bar.close()
        return out  # type: ignore[return-value]

    # At most this many (token x vocabulary) log-probabilities are computed at once: a batch of
    # 64 WikiText-2 paragraphs of 700 tokens over 33k words would otherwise take 12 GB.
    SCORE_CHUNK = 1 << 23

    def _score_batch(self, batch: Sequence[Sequence[int]]) -> list[np.ndarray]:
        """One padded batch: sentences side by side (time first), padding after each one's ``</s>``.

        The recurrence is causal, so a sentence's positions never see the padding after it; the
        output layer and the softmax (most of the cost) run on the real positions only.
        """
        T, B = max(len(s) for s in batch) + 1, len(batch)
        inp = torch.full((T, B), EOS_ID, dtype=torch.long)
        tgt = torch.full((T, B), EOS_ID, dtype=torch.long)
        for b, s in enumerate(batch):
            seq = torch.as_tensor(np.asarray(s, dtype=np.int64))
            inp[0, b] = BOS_ID
            inp[1 : len(s) + 1, b] = seq
            tgt[: len(s), b] = seq
        lengths = torch.tensor([len(s) + 1 for s in batch])
        real = (torch.arange(T)[:, None] < lengths[None, :]).reshape(-1).nonzero().squeeze(1)  # rows t*B+b
        inp, tgt = inp.to(self.device), tgt.reshape(-1)[real].to(self.device)
        real = real.to(self.device)
        if self.is_rnn:
            top, _ = self.model.top_states(inp, self.model.init_hidden(B))  # (T, B, H): small
            top = top.reshape(T * B, -1)[real]
            logits = lambda a, b: self.model.logits(top[a:b])  # noqa: E731
        else:
            n = self.config.context
            pad = torch.full((n - 1, B), BOS_ID, dtype=torch.long, device=self.device)
            ctx = torch.cat([pad, inp]).unfold(0, n, 1).reshape(T * B, n)[real]  # (rows, n) windows
            logits = lambda a, b: self.model(ctx[a:b])  # noqa: E731
        n_rows = len(real)
        step = max(1, self.SCORE_CHUNK // len(self._vocab))
        lp = torch.empty(n_rows, dtype=torch.float64, device=self.device)
        for a in range(0, n_rows, step):
            b = min(a + step, n_rows)
            lp[a:b] = target_logprobs(logits(a, b), tgt[a:b], inplace=True)
        full = torch.full((T * B,), float("nan"), dtype=torch.float64, device=self.device)
        full[real] = lp
        full = full.reshape(T, B).cpu().numpy()
        return [full[: len(s) + 1, b].copy() for b, s in enumerate(batch)]
