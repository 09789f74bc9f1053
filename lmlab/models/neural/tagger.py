"""Taggers (many-to-many): one label per token, over the batches of :mod:`lmlab.tensors.tagging`.

* :class:`Tagger` (architecture ``rnn``): word embedding (optionally pretrained, optionally
  frozen), concatenated with a character-level BiLSTM embedding of each word (the final states of
  both directions over its characters: for unknown and rare words) -> :class:`RecurrentEncoder`
  (bidirectional, multi-layer, lstm/gru/rnn cells) -> dropout -> per-token linear scores, read
  either by a softmax (loss: the summed token cross-entropy; prediction: the argmax) or by a
  linear-chain CRF (loss: the summed sentence negative log-likelihood; prediction: Viterbi).
* :class:`WindowTagger` (architecture ``window``; Collobert et al. 2011's window approach): each
  token is classified from the concatenated embeddings of the ``2k + 1`` words around it (``<s>``
  pads the left edge, ``</s>`` the right one: learned padding words) -> hidden layer -> tanh or
  hardtanh -> softmax.

Both are ``kind = "tag"`` :class:`TaskModel` s with the named vocabularies ``tokens``, ``chars``
(the RNN tagger with character features only) and ``tags``; :meth:`TaggingModel.from_config`
dispatches on the config's ``architecture``.  ``loss`` returns (summed loss, tokens scored): a
token whose gold tag the tag set lacks (:data:`PAD_ID` inside a sentence) is not scored by the
softmax, and a sentence holding one is left out of the CRF loss (its label sequence has no score).
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import torch
from torch import nn
from torch.nn import functional as F

from ...errors import ConfigError
from ...tensors.tagging import TaggingBatches, encode_tagging, in_input_order
from ...text.specials import BOS_ID, EOS_ID, PAD_ID, UNK_ID
from .config import CELLS
from .crf import LinearChainCRF
from .embeddings import load_pretrained
from .encoder import RecurrentEncoder
from .masking import length_mask
from .task import Batch, TaskModel

ARCHITECTURES = ("rnn", "window")


def _check_vocabs(vocabs: Mapping, need_chars: bool) -> None:
    missing = [n for n in ("tokens", "tags") + (("chars",) if need_chars else ()) if vocabs.get(n) is None]
    if missing:
        raise ConfigError(f"a tagger needs the vocabularies {', '.join(missing)}")


class TaggingModel(TaskModel):
    """What both taggers share: the vocabularies, the softmax loss and argmax prediction over
    :meth:`emissions`, tagging lists of words, and config dispatch on ``architecture``."""

    kind: ClassVar[str] = "tag"
    architecture: ClassVar[str]

    def __init__(self, vocabs: Mapping, *, word_dropout: float = 0.0):
        super().__init__()
        if not 0.0 <= word_dropout < 1.0:
            raise ConfigError(f"word_dropout must be in [0, 1), got {word_dropout}")
        self.tokens, self.chars, self.tags = vocabs["tokens"], vocabs.get("chars"), vocabs["tags"]
        self.word_dropout = word_dropout

    @property
    def vocabs(self) -> dict:
        out = {"tokens": self.tokens, "tags": self.tags}
        if self.uses_chars:
            out["chars"] = self.chars
        return out

    uses_chars = False

    def _word_ids(self, batch: Batch) -> torch.Tensor:
        """The batch's word ids, with word dropout in training (a word becomes ``<unk>``)."""
        tokens = batch["tokens"]
        if self.training and self.word_dropout > 0:
            drop = torch.rand(tokens.shape, device=tokens.device) < self.word_dropout
            tokens = tokens.masked_fill(drop & (tokens != self.tokens.pad_id), UNK_ID)
        return tokens

    def emissions(self, batch: Batch) -> torch.Tensor:
        """Per-token label scores ``(B, T, L)``."""
        raise NotImplementedError

    def loss(self, batch: Batch) -> tuple[torch.Tensor, int]:
        scores = self.emissions(batch)
        tags = batch["tags"]
        n = int((tags != PAD_ID).sum())
        return F.cross_entropy(scores.flatten(0, 1), tags.flatten(), ignore_index=PAD_ID, reduction="sum"), n

    @torch.no_grad()
    def predict(self, batch: Batch) -> list[list[int]]:
        best = self.emissions(batch).argmax(dim=2).tolist()
        return [row[: int(n)] for row, n in zip(best, batch["lengths"].tolist(), strict=True)]

    def tag(self, sentences: Sequence[Sequence[str]], batch_size: int = 64,
            device: torch.device | str | None = None) -> list[list[str]]:
        """The tags of each sentence (a list of words), in input order; no words, no tags."""
        data = encode_tagging(sentences, self.vocabs)
        batches = TaggingBatches(data, batch_size, shuffle=False)
        out = self.predict_batches(batches, device)
        return [self.tags.decode(ids) for ids in in_input_order(len(data), out)]

    @classmethod
    def from_config(cls, config: Mapping, vocabs: Mapping[str, Any]) -> TaggingModel:
        """The tagger of ``config``'s ``architecture`` (``rnn``: :class:`Tagger`, ``window``:
        :class:`WindowTagger`), untrained, over ``vocabs``."""
        config = dict(config)
        kind = config.pop("kind", "tag")
        if kind != "tag":
            raise ConfigError(f"a tagger's config has kind 'tag', got {kind!r}")
        arch = config.pop("architecture", None)
        classes = {"rnn": Tagger, "window": WindowTagger}
        if arch not in classes:
            raise ConfigError(f"a tagger's architecture is one of {', '.join(ARCHITECTURES)}, got {arch!r}")
        _check_options(classes[arch], config)
        return classes[arch](vocabs, **config)


def _check_options(cls, config: Mapping) -> None:
    """Every option of ``config`` is one of ``cls``'s keyword arguments, of its default's type."""
    params = {n: p.default for n, p in inspect.signature(cls.__init__).parameters.items()
              if p.kind is inspect.Parameter.KEYWORD_ONLY}
    problems = [f"unknown option {k!r} for a {cls.architecture} tagger (known: {', '.join(params)})"
                for k in config if k not in params]
    for k, v in config.items():
        want = type(params.get(k))
        ok = isinstance(v, want) and not (want is int and isinstance(v, bool))
        if k in params and not ok and not (want is float and isinstance(v, int) and not isinstance(v, bool)):
            article = "an" if want.__name__[0] in "aeiou" else "a"
            problems.append(f"option {k!r} must be {article} {want.__name__}, got {v!r}")
    if problems:
        raise ConfigError(problems)


class Tagger(TaggingModel):
    """The (Bi)RNN tagger with optional character features and an optional CRF output layer.

    Args (all but ``vocabs`` are saved by :meth:`config_dict`):
        vocabs: ``{"tokens": Vocab, "tags": LabelSet, "chars": Vocab}`` (``chars`` only when
            ``char_hidden_size > 0``).
        emsize: word embedding size.
        hidden_size, num_layers, cell, bidirectional: the encoder (``cell`` one of
            :data:`~lmlab.models.neural.config.CELLS`; only lstm/gru/rnn_tanh/rnn_relu go both ways).
        dropout: on the encoder's inputs, between its layers and on its outputs.
        char_emsize, char_hidden_size: the character BiLSTM (per direction; the word's character
            feature is ``2 * char_hidden_size`` wide); ``char_hidden_size=0``: no character features.
        crf: a linear-chain CRF output layer instead of the softmax.
        word_dropout: in training, each word becomes ``<unk>`` with this probability (so that
            ``<unk>`` is trained).
        freeze_embeddings: the word embedding is not trained (with pretrained vectors).
    """

    architecture = "rnn"

    def __init__(self, vocabs: Mapping, *, emsize: int = 100, hidden_size: int = 200, num_layers: int = 2,
                 cell: str = "lstm", bidirectional: bool = True, dropout: float = 0.5, char_emsize: int = 50,
                 char_hidden_size: int = 50, crf: bool = False, word_dropout: float = 0.0,
                 freeze_embeddings: bool = False):
        _check_vocabs(vocabs, char_hidden_size > 0)
        super().__init__(vocabs, word_dropout=word_dropout)
        if cell not in CELLS:
            raise ConfigError(f"cell {cell!r} is not one of {', '.join(CELLS)}")
        if not 0.0 <= dropout < 1.0 or char_hidden_size < 0:
            raise ConfigError(f"dropout must be in [0, 1) and char_hidden_size >= 0; got {dropout}, {char_hidden_size}")
        self.hparams = dict(emsize=emsize, hidden_size=hidden_size, num_layers=num_layers, cell=cell,
                            bidirectional=bidirectional, dropout=dropout, char_emsize=char_emsize,
                            char_hidden_size=char_hidden_size, crf=crf, word_dropout=word_dropout,
                            freeze_embeddings=freeze_embeddings)
        self.uses_chars = char_hidden_size > 0
        if self.uses_chars:
            self.char_encoder = RecurrentEncoder(len(self.chars) + 1, char_emsize, char_hidden_size, 1, "lstm",
                                                 bidirectional=True, padding_idx=self.chars.pad_id)
        self.encoder = RecurrentEncoder(len(self.tokens) + 1, emsize, hidden_size, num_layers, cell,
                                        bidirectional=bidirectional, dropout=dropout,
                                        padding_idx=self.tokens.pad_id,
                                        feature_size=2 * char_hidden_size if self.uses_chars else 0)
        if freeze_embeddings:
            self.encoder.embedding.weight.requires_grad_(False)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(self.encoder.output_size, len(self.tags))
        self.crf = LinearChainCRF(len(self.tags)) if crf else None

    def config_dict(self) -> dict:
        return {"kind": self.kind, "architecture": self.architecture, **self.hparams}

    def load_pretrained(self, path) -> float:
        """Pretrained word vectors (GloVe/word2vec text, ``emsize`` wide) into the word embedding;
        returns the fraction of the vocabulary they cover."""
        return load_pretrained(self.encoder.embedding, path, self.tokens)

    def char_features(self, chars: torch.Tensor, char_lengths: torch.Tensor) -> torch.Tensor:
        """``(B, T, 2 * char_hidden_size)``: for each word, the character BiLSTM's final forward
        state and final backward state (its state at the first character); zeros at padding."""
        B, T, C = chars.shape
        flat, lens = chars.reshape(B * T, C), char_lengths.reshape(B * T)
        rows = torch.nonzero(lens > 0).squeeze(1)
        h = self.char_encoder(flat[rows], lens[rows]).final[0]  # (2, N, H)
        feats = torch.cat([h[0], h[1]], dim=1)
        return feats.new_zeros(B * T, feats.shape[1]).index_copy(0, rows, feats).view(B, T, -1)

    def emissions(self, batch: Batch) -> torch.Tensor:
        feats = self.char_features(batch["chars"], batch["char_lengths"]) if self.uses_chars else None
        states = self.encoder(self._word_ids(batch), batch["lengths"], features=feats).states
        return self.out(self.drop(states))

    def loss(self, batch: Batch) -> tuple[torch.Tensor, int]:
        if self.crf is None:
            return super().loss(batch)
        scores = self.emissions(batch)
        tags, lengths = batch["tags"], batch["lengths"]
        mask = length_mask(lengths.to(scores.device), scores.shape[1])
        whole = ~((tags == PAD_ID) & mask).any(dim=1)  # sentences whose every tag is known
        if not bool(whole.all()):
            scores, tags, mask, lengths = scores[whole], tags[whole], mask[whole], lengths[whole]
        if not len(lengths):
            return scores.sum() * 0.0, 0
        return self.crf(scores, tags, mask), int(lengths.sum())

    @torch.no_grad()
    def predict(self, batch: Batch) -> list[list[int]]:
        if self.crf is None:
            return super().predict(batch)
        scores = self.emissions(batch)
        return self.crf.decode(scores, length_mask(batch["lengths"].to(scores.device), scores.shape[1]))


class WindowTagger(TaggingModel):
    """Collobert-style window tagger: ``[e(w_{t-k}) .. e(w_{t+k})]`` -> Linear -> tanh/hardtanh
    -> dropout -> Linear -> softmax over the tags.

    Args: ``vocabs`` (``tokens``, ``tags``), ``window`` (k: words each side), ``emsize``,
    ``hidden_size``, ``activation`` (``tanh`` or ``hardtanh``), ``dropout``, ``word_dropout``,
    ``freeze_embeddings``."""

    architecture = "window"
    ACTIVATIONS = {"tanh": torch.tanh, "hardtanh": F.hardtanh}

    def __init__(self, vocabs: Mapping, *, window: int = 2, emsize: int = 50, hidden_size: int = 300,
                 activation: str = "hardtanh", dropout: float = 0.0, word_dropout: float = 0.0,
                 freeze_embeddings: bool = False):
        _check_vocabs(vocabs, False)
        super().__init__(vocabs, word_dropout=word_dropout)
        if activation not in self.ACTIVATIONS:
            raise ConfigError(f"activation must be one of {', '.join(self.ACTIVATIONS)}, got {activation!r}")
        if window < 0 or emsize < 1 or hidden_size < 1 or not 0.0 <= dropout < 1.0:
            raise ConfigError(f"a window tagger needs window >= 0, emsize >= 1, hidden_size >= 1 and dropout "
                              f"in [0, 1); got {window}, {emsize}, {hidden_size}, {dropout}")
        self.hparams = dict(window=window, emsize=emsize, hidden_size=hidden_size, activation=activation,
                            dropout=dropout, word_dropout=word_dropout, freeze_embeddings=freeze_embeddings)
        self.window, self.act = window, self.ACTIVATIONS[activation]
        self.embedding = nn.Embedding(len(self.tokens) + 1, emsize, padding_idx=self.tokens.pad_id)
        if freeze_embeddings:
            self.embedding.weight.requires_grad_(False)
        self.hidden = nn.Linear((2 * window + 1) * emsize, hidden_size)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(hidden_size, len(self.tags))

    def config_dict(self) -> dict:
        return {"kind": self.kind, "architecture": self.architecture, **self.hparams}

    def load_pretrained(self, path) -> float:
        return load_pretrained(self.embedding, path, self.tokens)

    def windows(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """``(B, T, 2k + 1)`` word ids of each position's window: ``<s>`` before the sentence,
        ``</s>`` after its true end (padding is never read)."""
        B, T = tokens.shape
        k = self.window
        inside = length_mask(lengths.to(tokens.device), T)
        ids = tokens.masked_fill(~inside, EOS_ID)
        ids = torch.cat([ids.new_full((B, k), BOS_ID), ids, ids.new_full((B, k), EOS_ID)], dim=1)
        return ids.unfold(1, 2 * k + 1, 1)  # (B, T, 2k + 1)

    def emissions(self, batch: Batch) -> torch.Tensor:
        win = self.windows(self._word_ids(batch), batch["lengths"])
        x = self.embedding(win).flatten(2)  # (B, T, (2k + 1) * emsize)
        return self.out(self.drop(self.act(self.hidden(x))))
