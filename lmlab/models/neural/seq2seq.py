"""The encoder-decoder (seq2seq): a (bi)directional RNN encoder and an RNN decoder, with or without
attention, trained with teacher forcing and decoded greedily or by the one beam search.

Batches (:func:`lmlab.tensors.parallel.parallel_batches`): ``source (B, S)``, ``source_lengths``,
``target_input (B, T)`` (``<s> y1 .. yn``), ``target_output (B, T)`` (``y1 .. yn </s>``,
``PAD_ID`` at padding).  The loss is the target tokens' negative log-likelihood summed over the
batch (``n_items`` = target tokens, ``</s>`` included).

The encoder is :class:`~lmlab.models.neural.encoder.RecurrentEncoder`; its *context vector* is
the top layer's final state, both directions concatenated (``M = D * hidden_size``; the backward
direction's final state is its state at the first token).  A *bridge* (linear + tanh) maps it to
every decoder layer's initial state (an LSTM decoder's initial cell is zero).  The decoder is one
``cell`` stack of ``num_layers`` with ``decoder_hidden_size`` units (by default ``M``), over the
target embedding ``e(y_{t-1})``; ``s_t`` is its top layer's state.  ``attention``:

* ``none`` -- the context vector only (the lecture's encoder-decoder; Cho et al. 2014): the
  decoder reads ``[e(y_{t-1}); c]`` at every step and the output layer sees ``[s_t; c; e(y_{t-1})]``.
* ``bahdanau`` -- additive attention (Bahdanau et al. 2015): from the previous state
  ``s_{t-1}``, ``a_tj = softmax_j(v . tanh(W s_{t-1} + U h_j))`` over the true source positions,
  ``c_t = sum_j a_tj h_j``; the decoder reads ``[e(y_{t-1}); c_t]``, the output layer sees
  ``[s_t; c_t; e(y_{t-1})]``.
* ``dot`` / ``general`` -- Luong et al. 2015 (global attention): from the current state ``s_t``,
  scores ``s_t . h_j`` (``dot``: needs ``decoder_hidden_size == M``) or ``s_t . W h_j``
  (``general``); ``h~_t = tanh(W_c [c_t; s_t])`` feeds the output layer.  ``input_feed`` (off by
  default) gives ``h~_{t-1}`` to the decoder's input as in Luong's paper; without it the decoder
  over the whole target runs as one fused RNN call in training (the faster choice), with it the
  decoder is stepped.

Padded source positions get attention weight exactly 0 (their scores are ``-inf``).  Decoding
never produces ``<s>``; ``max_len`` counts generated tokens, ``</s>`` included (by default
``2 * source length + 10``).  :class:`BeamDecoder` is the step protocol of
:func:`lmlab.generate.beam.beam_search` for one source sentence (the beam's hypotheses are a
batch over the same encoder states); :func:`lmlab.generate.translate.translate` runs it, and its
beam 1 equals :meth:`Seq2Seq.greedy`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from ...errors import ConfigError
from ...text.specials import BOS_ID, EOS_ID, PAD_ID
from ...text.vocab import Vocab
from .cells import recurrent_layers
from .encoder import RecurrentEncoder
from .masking import length_mask
from .task import Batch, TaskModel, settings_of

ATTENTIONS = ("none", "bahdanau", "dot", "general")


def default_max_len(source_length: int) -> int:
    """The longest output decoded for a source of this many tokens (``</s>`` included)."""
    return 2 * int(source_length) + 10


class Memory(NamedTuple):
    """The encoded source batch the decoder reads."""

    states: torch.Tensor  # (B, S, M), zeros at padding
    mask: torch.Tensor  # (B, S) bool, True at true source positions
    keys: torch.Tensor | None  # (B, S, A): the states as attention keys (projected for bahdanau/general)
    context: torch.Tensor  # (B, M): the top layer's final state, directions concatenated

    def expand(self, k: int) -> Memory:
        """A one-sentence memory repeated ``k`` times (views, no copy)."""
        return Memory(*(None if x is None else x.expand(k, *x.shape[1:]) for x in self))

    def row(self, b: int, length: int) -> Memory:
        """Row ``b`` cut to its true ``length``."""
        return Memory(self.states[b : b + 1, :length], self.mask[b : b + 1, :length],
                      None if self.keys is None else self.keys[b : b + 1, :length], self.context[b : b + 1])


class Decoded(NamedTuple):
    tokens: list[int]  # generated ids, without </s>
    logprob: float  # natural-log probability of the tokens (and of </s> when finished)
    finished: bool  # ended with </s> (else it reached max_len)


class Seq2Seq(TaskModel):
    """An encoder-decoder from the ``source`` vocabulary to the ``target`` one (module docstring)."""

    kind = "seq2seq"

    def __init__(self, source: Vocab, target: Vocab, *, emsize: int = 256, hidden_size: int = 256,
                 num_layers: int = 1, cell: str = "gru", bidirectional: bool = True, attention: str = "bahdanau",
                 decoder_hidden_size: int | None = None, input_feed: bool = False, dropout: float = 0.0):
        super().__init__()
        problems = []
        if attention not in ATTENTIONS:
            problems.append(f"attention must be one of {', '.join(ATTENTIONS)}, got {attention!r}")
        if input_feed and attention not in ("dot", "general"):
            problems.append("input feeding is part of Luong attention (attention dot or general)")
        if not 0.0 <= dropout < 1.0:
            problems.append(f"dropout must be in [0, 1), got {dropout}")
        if problems:
            raise ConfigError(problems)
        self.source, self.target = source, target
        self.encoder = RecurrentEncoder(len(source) + 1, emsize, hidden_size, num_layers, cell,
                                        bidirectional=bidirectional, dropout=dropout, padding_idx=source.pad_id)
        M = self.encoder.output_size
        Hd = int(decoder_hidden_size or M)
        if attention == "dot" and Hd != M:
            raise ConfigError(f"dot attention needs the decoder's size ({Hd}) to equal the encoder's output "
                              f"size ({M}); use attention general or leave decoder_hidden_size unset")
        self.attention, self.input_feed = attention, input_feed
        self.cell, self.num_layers, self.decoder_hidden_size = cell, num_layers, Hd
        self._config = {"emsize": emsize, "hidden_size": hidden_size, "num_layers": num_layers, "cell": cell,
                        "bidirectional": bidirectional, "attention": attention, "decoder_hidden_size": Hd,
                        "input_feed": input_feed, "dropout": dropout}
        V = len(target)
        self.embedding = nn.Embedding(V + 1, emsize, padding_idx=target.pad_id)
        self.bridge = nn.Linear(M, num_layers * Hd)
        self.drop = nn.Dropout(dropout)
        luong = attention in ("dot", "general")
        if attention == "bahdanau":
            self.att_query = nn.Linear(Hd, Hd, bias=False)
            self.att_key = nn.Linear(M, Hd)
            self.att_v = nn.Linear(Hd, 1, bias=False)
        elif attention == "general":
            self.att_key = nn.Linear(M, Hd, bias=False)
        if luong:
            self.combine = nn.Linear(M + Hd, Hd)
        rnn_in = emsize + (Hd if input_feed else 0 if luong else M)
        self.rnn = recurrent_layers(cell, rnn_in, Hd, num_layers, dropout=dropout if num_layers > 1 else 0.0)
        self.out = nn.Linear(Hd if luong else Hd + M + emsize, V)

    @property
    def vocabs(self) -> dict:
        """The named vocabularies a checkpoint stores: ``source`` and ``target``."""
        return {"source": self.source, "target": self.target}

    # -- encoder ------------------------------------------------------------------------
    def encode(self, source: torch.Tensor, lengths: torch.Tensor) -> Memory:
        out = self.encoder(source, lengths)
        D, L = self.encoder.num_directions, self.encoder.num_layers
        h = out.final[0][(L - 1) * D :]  # the top layer's directions, (D, B, H)
        context = torch.cat(list(h), dim=1)
        if self.attention == "bahdanau" or self.attention == "general":
            keys = self.att_key(out.states)
        elif self.attention == "dot":
            keys = out.states
        else:
            keys = None
        return Memory(out.states, length_mask(lengths.to(source.device), source.shape[1]), keys, context)

    @torch.no_grad()
    def context_vectors(self, batch: Batch) -> torch.Tensor:
        """The context vector ``(B, M)`` of each source sentence: what the attention-free decoder is
        conditioned on (the one-to-many check generates from these)."""
        return self.encode(batch["source"], batch["source_lengths"]).context

    def begin(self, memory: Memory) -> tuple[tuple[torch.Tensor, ...], torch.Tensor | None]:
        """The decoder's initial (hidden, input feed) from the bridged context vector."""
        B = memory.context.shape[0]
        h = torch.tanh(self.bridge(memory.context)).view(B, self.num_layers, -1).transpose(0, 1).contiguous()
        hidden = (h, torch.zeros_like(h)) if self.cell == "lstm" else (h,)
        feed = memory.context.new_zeros(B, self.decoder_hidden_size) if self.input_feed else None
        return hidden, feed

    # -- decoder ------------------------------------------------------------------------
    def _rnn(self, x: torch.Tensor, hidden: tuple[torch.Tensor, ...]):
        """The decoder stack over time-first ``x (T, B, I)``."""
        if self.cell == "lstm":
            out, (h, c) = self.rnn(x, hidden)
            return out, (h, c)
        out, h = self.rnn(x, hidden[0])
        return out, (h,)

    def _attend(self, query: torch.Tensor, memory: Memory) -> tuple[torch.Tensor, torch.Tensor]:
        """Weights ``(B, Tq, S)`` and contexts ``(B, Tq, M)`` for queries ``(B, Tq, Hd)``."""
        if self.attention == "bahdanau":
            energy = torch.tanh(self.att_query(query)[:, :, None, :] + memory.keys[:, None, :, :])
            scores = self.att_v(energy).squeeze(3)
        else:
            scores = query @ memory.keys.transpose(1, 2)
        scores = scores.masked_fill(~memory.mask[:, None, :], float("-inf"))
        weights = torch.softmax(scores, dim=2)
        return weights, weights @ memory.states

    def _step(self, tokens: torch.Tensor, hidden, feed, memory: Memory):
        """One decoder step for every row: (logits (B, V), hidden, feed, attention (B, S) or None)."""
        o, hidden, feed, attn = self._recur(self.drop(self.embedding(tokens)), hidden, feed, memory)
        return self.out(self.drop(o)), hidden, feed, attn

    def _recur(self, emb: torch.Tensor, hidden, feed, memory: Memory):
        """One decoder step over embedded inputs ``emb (B, E)``: (the output layer's input features,
        hidden, feed, attention (B, S) or None)."""
        attn = None
        if self.attention == "none":
            x = torch.cat([emb, memory.context], dim=1)
        elif self.attention == "bahdanau":
            attn, c = self._attend(hidden[0][-1][:, None, :], memory)
            attn, c = attn[:, 0], c[:, 0]
            x = torch.cat([emb, c], dim=1)
        else:
            x = torch.cat([emb, feed], dim=1) if self.input_feed else emb
        out, hidden = self._rnn(x[None], hidden)
        s = out[0]
        if self.attention == "none":
            o = torch.cat([s, memory.context, emb], dim=1)
        elif self.attention == "bahdanau":
            o = torch.cat([s, c, emb], dim=1)
        else:
            attn, c = self._attend(s[:, None, :], memory)
            attn, c = attn[:, 0], c[:, 0]
            o = torch.tanh(self.combine(torch.cat([c, s], dim=1)))
            if self.input_feed:
                feed = o
        return o, hidden, feed, attn

    def teacher_forced(self, memory: Memory, target_input: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Logits ``(B, T, V)`` for the decoder inputs ``target_input (B, T)`` and the attention
        weights ``(B, T, S)`` (None without attention)."""
        hidden, feed = self.begin(memory)
        B, T = target_input.shape
        if self.attention == "none" or (self.attention in ("dot", "general") and not self.input_feed):
            emb = self.drop(self.embedding(target_input))  # (B, T, E)
            if self.attention == "none":
                ctx = memory.context[:, None, :].expand(B, T, memory.context.shape[1])
                out, _ = self._rnn(torch.cat([emb, ctx], dim=2).transpose(0, 1), hidden)
                return self.out(self.drop(torch.cat([out.transpose(0, 1), ctx, emb], dim=2))), None
            out, _ = self._rnn(emb.transpose(0, 1), hidden)
            s = out.transpose(0, 1)
            attn, c = self._attend(s, memory)
            return self.out(self.drop(torch.tanh(self.combine(torch.cat([c, s], dim=2))))), attn
        emb = self.drop(self.embedding(target_input))
        features, attns = [], []
        for t in range(T):
            o, hidden, feed, a = self._recur(emb[:, t], hidden, feed, memory)
            features.append(o)
            attns.append(a)
        return self.out(self.drop(torch.stack(features, dim=1))), torch.stack(attns, dim=1)  # one output product

    # -- the task protocol -------------------------------------------------------------
    def loss(self, batch: Batch) -> tuple[torch.Tensor, int]:
        memory = self.encode(batch["source"], batch["source_lengths"])
        logits, _ = self.teacher_forced(memory, batch["target_input"])
        y = batch["target_output"]
        loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[2]), y.reshape(-1),
                                           ignore_index=PAD_ID, reduction="sum")
        return loss, int((y != PAD_ID).sum())

    def predict(self, batch: Batch) -> list[list[int]]:
        """Greedy translations (target ids without ``</s>``), one per row."""
        return [d.tokens for d in self.greedy(batch)]

    @torch.no_grad()
    def greedy(self, batch: Batch, *, max_len: int | None = None) -> list[Decoded]:
        """Greedy decoding of the whole batch at once (ties go to the lower token id)."""
        lengths = batch["source_lengths"]
        memory = self.encode(batch["source"], lengths)
        hidden, feed = self.begin(memory)
        B = len(lengths)
        limits = [max_len or default_max_len(n) for n in lengths.tolist()]
        tok = torch.full((B,), BOS_ID, dtype=torch.int64, device=memory.states.device)
        tokens: list[list[int]] = [[] for _ in range(B)]
        logprob, finished, live = [0.0] * B, [False] * B, set(range(B))
        for t in range(max(limits, default=0)):
            logits, hidden, feed, _ = self._step(tok, hidden, feed, memory)
            lp = torch.log_softmax(logits, dim=1)
            lp[:, BOS_ID] = float("-inf")
            tok = lp.argmax(dim=1)
            best = lp.gather(1, tok[:, None])[:, 0].tolist()
            ids = tok.tolist()
            for b in list(live):
                logprob[b] += best[b]
                if ids[b] == EOS_ID:
                    finished[b] = True
                else:
                    tokens[b].append(ids[b])
                if finished[b] or t + 1 >= limits[b]:
                    live.discard(b)
            if not live:
                break
        return [Decoded(tokens[b], logprob[b], finished[b]) for b in range(B)]

    @torch.no_grad()
    def beam_decoders(self, batch: Batch, *, max_len: int | None = None) -> list[tuple[BeamDecoder, tuple, int]]:
        """For each row: (its :class:`BeamDecoder`, the start state, its ``max_len``), from one
        batched run of the encoder; give them to :func:`lmlab.generate.beam.beam_search` with
        ``start_token=BOS_ID`` and ``banned=[BOS_ID]``."""
        lengths = batch["source_lengths"].tolist()
        memory = self.encode(batch["source"], batch["source_lengths"])
        out = []
        for b, n in enumerate(lengths):
            row = memory.row(b, n)
            hidden, feed = self.begin(row)
            out.append((BeamDecoder(self, row), (hidden, feed), max_len or default_max_len(n)))
        return out

    @torch.no_grad()
    def attention_weights(self, batch: Batch, outputs: Sequence[Sequence[int]]) -> list[np.ndarray]:
        """The attention weights ``(len(output), source length)`` with which each row's decoder
        produced ``outputs[b]`` (generated ids, ``</s>`` included where it ended with one): row
        ``t`` is the weight of each true source position when token ``t`` was predicted."""
        if self.attention == "none":
            raise ConfigError("this encoder-decoder has no attention (attention none): no weights to write")
        lengths = batch["source_lengths"].tolist()
        memory = self.encode(batch["source"], batch["source_lengths"])
        steps = [[BOS_ID, *list(o)[:-1]] for o in outputs]
        width = max((len(s) for s in steps), default=0)
        if width == 0:
            return [np.zeros((0, n)) for n in lengths]
        inp = torch.full((len(steps), width), self.target.pad_id, dtype=torch.int64)
        for b, s in enumerate(steps):
            inp[b, : len(s)] = torch.tensor(s, dtype=torch.int64)
        _, attn = self.teacher_forced(memory, inp.to(memory.states.device))
        return [attn[b, : len(outputs[b]), : lengths[b]].double().cpu().numpy() for b in range(len(steps))]

    def config_dict(self) -> dict:
        return {"kind": self.kind, **self._config}

    @classmethod
    def from_config(cls, config: Mapping, vocabs: Mapping) -> Seq2Seq:
        return cls(vocabs["source"], vocabs["target"], **settings_of(config, _SETTINGS, "seq2seq"))


_SETTINGS = ("emsize", "hidden_size", "num_layers", "cell", "bidirectional", "attention", "decoder_hidden_size",
             "input_feed", "dropout")


class BeamDecoder:
    """The beam search's step protocol over one source sentence: a state is (hidden, input feed)
    of one hypothesis; a step runs the decoder on all of them as one batch over the sentence's
    encoder states, expanded to the number of hypotheses."""

    def __init__(self, model: Seq2Seq, memory: Memory):
        self.model, self.memory = model, memory
        self._expanded: dict[int, Memory] = {}

    @torch.no_grad()
    def step(self, states, tokens):
        K = len(states)
        mem = self._expanded.get(K)
        if mem is None:
            mem = self._expanded[K] = self.memory.expand(K)
        hidden = tuple(torch.cat([s[0][i] for s in states], dim=1) for i in range(len(states[0][0])))
        feed = torch.cat([s[1] for s in states]) if self.model.input_feed else None
        tok = torch.tensor([BOS_ID if t is None else int(t) for t in tokens], dtype=torch.int64,
                           device=mem.states.device)
        logits, hidden, feed, _ = self.model._step(tok, hidden, feed, mem)
        lp = torch.log_softmax(logits, dim=1).double()
        lp[:, BOS_ID] = float("-inf")
        new = [(tuple(h[:, k : k + 1] for h in hidden), None if feed is None else feed[k : k + 1]) for k in range(K)]
        return lp.cpu().numpy(), new


__all__ = ["ATTENTIONS", "BeamDecoder", "Decoded", "Memory", "Seq2Seq", "default_max_len"]
