"""Tagged sentences as padded batches for the taggers (:mod:`lmlab.models.neural.tagger`).

Three named vocabularies (the names a tagger checkpoint stores them under):

* ``tokens``: a :class:`~lmlab.text.vocab.Vocab` of the training words seen at least
  ``min_count`` times; its tokenizer's ``lowercase`` says whether words are lower-cased before
  lookup (the setting travels with the vocabulary, so prediction encodes as training did);
* ``chars``: a :class:`~lmlab.text.vocab.Vocab` of the characters of the training words (as
  written, not lower-cased), for character-level word features;
* ``tags``: a :class:`~lmlab.text.labels.LabelSet` of the training tags.

A :class:`~lmlab.tensors.batch.Batch` of ``B`` sentences, longest ``T`` words, longest word ``C``
characters, holds (all int64):

* ``tokens (B, T)``: word ids, ``tokens.pad_id`` at padding;
* ``lengths (B,)``: true sentence lengths (each >= 1);
* ``chars (B, T, C)``: each word's character ids, ``chars.pad_id`` at padding;
* ``char_lengths (B, T)``: each word's number of characters, 0 at padded words;
* ``tags (B, T)``: tag ids, :data:`~lmlab.text.specials.PAD_ID` at padding and at a gold tag
  that the label set does not have (counted in :attr:`TaggingData.unseen`, never a crash);
  only when the sentences have tags.

``n_items`` is the number of tokens with a known tag (all tokens when there are no tags);
``index`` is each row's position in the encoded data.  A sentence with no words cannot be
batched (it has no states): it is left out of every batch (:attr:`TaggingData.empty`), and a
caller gives it an empty tag sequence.

Batches are length-bucketed: sentences of similar length go together (little padding); with
``shuffle`` the grouping and the order of the batches are drawn from ``(seed, epoch)`` alone, so
an epoch can be replayed exactly (resume).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from ..errors import ConfigError
from ..text.labels import LabelSet
from ..text.specials import PAD_ID
from ..text.tokenize import Tokenizer
from ..text.vocab import Vocab
from .batch import Batch, bucketed_order

VOCAB_NAMES = ("tokens", "chars", "tags")


def _words_tags(sentences) -> tuple[list[Sequence[str]], list[Sequence[str]], list[str]]:
    """Words, tags and a name for each sentence: a TaggedSentence or a ``(words, tags)`` pair."""
    words, tags, where = [], [], []
    for i, s in enumerate(sentences, start=1):
        if hasattr(s, "words"):
            w, t, line = s.words, s.tags, getattr(s, "line", 0)
        else:
            (w, t), line = s, 0
        if len(w) != len(t):
            at = f"line {line}" if line else f"sentence {i}"
            raise ConfigError(f"{at}: {len(w)} words but {len(t)} tags")
        words.append(w)
        tags.append(t)
        where.append(f"line {line}" if line else f"sentence {i}")
    return words, tags, where


def build_tagging_vocabs(sentences, *, min_count: int = 1, lowercase: bool = False,
                         char_min_count: int = 1) -> dict:
    """``{"tokens": Vocab, "chars": Vocab, "tags": LabelSet}`` of training sentences
    (TaggedSentence objects or ``(words, tags)`` pairs)."""
    words, tags, _ = _words_tags(sentences)
    tokenizer = Tokenizer(lowercase=lowercase)
    tokens = Vocab.build(([tokenizer.normalize(w) for w in ws] for ws in words), min_count=min_count,
                         tokenizer=tokenizer)
    chars = Vocab.build((list(w) for ws in words for w in ws), min_count=char_min_count)
    if not any(len(t) for t in tags):
        raise ConfigError("no tagged words to build a tag set from")
    return {"tokens": tokens, "chars": chars, "tags": LabelSet.build(tags, name="tags")}


@dataclass
class TaggingData:
    """Encoded sentences: per sentence, word ids ``(n,)``, a character matrix ``(n, c)`` with each
    word's character lengths ``(n,)``, and tag ids ``(n,)`` (or no tags)."""

    tokens: list[np.ndarray]
    chars: list[np.ndarray] | None
    char_lengths: list[np.ndarray] | None
    tags: list[np.ndarray] | None
    token_pad: int
    char_pad: int
    unseen: Counter = field(default_factory=Counter)  # gold tags outside the label set, with counts

    def __len__(self) -> int:
        return len(self.tokens)

    @property
    def lengths(self) -> np.ndarray:
        return np.fromiter((len(t) for t in self.tokens), dtype=np.int64, count=len(self.tokens))

    @property
    def empty(self) -> list[int]:
        """Positions of the sentences with no words (in no batch)."""
        return [i for i, t in enumerate(self.tokens) if not len(t)]

    def batch(self, rows: Sequence[int]) -> Batch:
        """The padded batch of these sentences (each with at least one word), in this order."""
        rows = list(rows)
        if not rows:
            raise ConfigError("a batch needs at least one sentence")
        lengths = np.array([len(self.tokens[r]) for r in rows], dtype=np.int64)
        if int(lengths.min()) < 1:
            raise ConfigError("a sentence with no words cannot be batched")
        B, T = len(rows), int(lengths.max())
        tokens = np.full((B, T), self.token_pad, dtype=np.int64)
        for b, r in enumerate(rows):
            tokens[b, : lengths[b]] = self.tokens[r]
        tensors = {"tokens": torch.from_numpy(tokens), "lengths": torch.from_numpy(lengths)}
        if self.chars is not None:
            C = max(self.chars[r].shape[1] for r in rows)
            chars = np.full((B, T, C), self.char_pad, dtype=np.int64)
            char_lengths = np.zeros((B, T), dtype=np.int64)
            for b, r in enumerate(rows):
                m = self.chars[r]
                chars[b, : m.shape[0], : m.shape[1]] = m
                char_lengths[b, : m.shape[0]] = self.char_lengths[r]
            tensors["chars"] = torch.from_numpy(chars)
            tensors["char_lengths"] = torch.from_numpy(char_lengths)
        if self.tags is not None:
            tags = np.full((B, T), PAD_ID, dtype=np.int64)
            for b, r in enumerate(rows):
                tags[b, : lengths[b]] = self.tags[r]
            tensors["tags"] = torch.from_numpy(tags)
            n_items = int((tags != PAD_ID).sum())
        else:
            n_items = int(lengths.sum())
        return Batch(tensors, n_items, rows)


def encode_tagging(words: Sequence[Sequence[str]], vocabs: Mapping, tags: Sequence[Sequence[str]] | None = None,
                   *, where: Sequence[str] | None = None) -> TaggingData:
    """Encode sentences (lists of words, and their tags when given) with the named vocabularies;
    ``vocabs["chars"]`` may be absent or None (no character features)."""
    vocab: Vocab = vocabs["tokens"]
    char_vocab: Vocab | None = vocabs.get("chars")
    labels: LabelSet | None = vocabs.get("tags")
    if tags is not None and len(tags) != len(words):
        raise ConfigError(f"{len(words)} sentences but {len(tags)} tag sequences")
    norm = vocab.tokenizer.normalize
    out_tokens = [vocab.encode([norm(w) for w in ws]).astype(np.int64) for ws in words]
    chars = char_lengths = None
    if char_vocab is not None:
        cache: dict[str, np.ndarray] = {}
        chars, char_lengths = [], []
        for ws in words:
            rows = []
            for w in ws:
                ids = cache.get(w)
                if ids is None:
                    ids = cache[w] = char_vocab.encode(list(w)).astype(np.int64)
                rows.append(ids)
            lens = np.fromiter((len(x) for x in rows), dtype=np.int64, count=len(rows))
            m = np.full((len(rows), int(lens.max()) if len(rows) else 0), char_vocab.pad_id, dtype=np.int64)
            for i, x in enumerate(rows):
                m[i, : len(x)] = x
            chars.append(m)
            char_lengths.append(lens)
    out_tags = None
    unseen: Counter = Counter()
    if tags is not None:
        if labels is None:
            raise ConfigError("encoding tags needs a tag set (vocabs['tags'])")
        out_tags = []
        for i, (ws, ts) in enumerate(zip(words, tags, strict=True)):
            if len(ws) != len(ts):
                at = where[i] if where else f"sentence {i + 1}"
                raise ConfigError(f"{at}: {len(ws)} words but {len(ts)} tags")
            out_tags.append(labels.encode_counting(ts, unseen))
    return TaggingData(out_tokens, chars, char_lengths, out_tags, vocab.pad_id,
                       char_vocab.pad_id if char_vocab is not None else 0, unseen)


def encode_sentences(sentences, vocabs: Mapping) -> TaggingData:
    """:func:`encode_tagging` of TaggedSentence objects or ``(words, tags)`` pairs."""
    words, tags, where = _words_tags(sentences)
    return encode_tagging(words, vocabs, tags, where=where)


def length_batches(lengths: Sequence[int], batch_size: int, *, shuffle: bool = False, seed: int = 0,
                   epoch: int = 0, pool: int = 50) -> list[list[int]]:
    """Rows of each batch: :func:`lmlab.tensors.batch.bucketed_order` over the sentences that have
    words (those of length 0 are left out), seeded with ``(seed, epoch)``."""
    lengths = np.asarray(lengths, dtype=np.int64)
    keep = np.flatnonzero(lengths > 0)
    return [keep[sub].tolist() for sub in bucketed_order(lengths[keep], batch_size, shuffle=shuffle,
                                                          seed=(seed, epoch), pool=pool)]


class TaggingBatches:
    """The batches of :class:`TaggingData`, epoch by epoch (see :func:`length_batches`)."""

    def __init__(self, data: TaggingData, batch_size: int = 32, *, shuffle: bool = True, seed: int = 0,
                 pool: int = 50):
        self.data, self.batch_size, self.shuffle, self.seed, self.pool = data, batch_size, shuffle, seed, pool
        self._lengths = data.lengths
        self._n = len(length_batches(self._lengths, batch_size))

    def __len__(self) -> int:
        return self._n

    def rows(self, epoch: int = 0) -> list[list[int]]:
        return length_batches(self._lengths, self.batch_size, shuffle=self.shuffle, seed=self.seed, epoch=epoch,
                              pool=self.pool)

    def epoch(self, epoch: int = 0, start: int = 0) -> Iterator[Batch]:
        """The batches of epoch ``epoch``, from its ``start``-th batch on (exact resume)."""
        for rows in self.rows(epoch)[start:]:
            yield self.data.batch(rows)

    def __iter__(self) -> Iterator[Batch]:
        return self.epoch(0)


def in_input_order(n: int, batches_predictions: Sequence[tuple[Sequence[int], Sequence]], empty=list) -> list:
    """Predictions put back in input order: ``(batch.index, predictions)`` pairs for ``n`` inputs;
    inputs in no batch (empty sentences) get ``empty()``."""
    out: list = [None] * n
    for index, preds in batches_predictions:
        if len(index) != len(preds):
            raise ConfigError(f"{len(preds)} predictions for a batch of {len(index)}")
        for i, p in zip(index, preds):
            out[i] = p
    return [empty() if p is None else p for p in out]
