"""The vocabulary: a frozen, JSON-serialisable token <-> id map that owns the OOV policy.

Ids 0, 1, 2 are always ``<unk>``, ``<s>``, ``</s>`` (as in KenLM).  Other tokens keep the order of
their first appearance in the training text (KenLM's and pytorch/examples' order), so an ARPA file
written by lmlab lists unigrams in the same order as ``lmplz``.  Any token not in the vocabulary
maps to ``<unk>``; a dataset's literal ``<unk>`` token is that same ``<unk>`` and is trained from
its real counts.

Text never holds sentence boundaries: a literal ``<s>`` or ``</s>`` written in a line of text
(training, scoring, a prompt) is an unknown word like any other, encoded as ``<unk>`` and counted
as an OOV, for every model (:meth:`Vocab.encode`, :func:`encode_corpus`).  Only the models add
``<s>``/``</s>`` around a line.  (:meth:`Vocab.lookup` and :meth:`Vocab.symbol_ids` still map the
symbols to their ids, for contexts given as symbols and for model files.)
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from itertools import chain, islice, repeat
from collections.abc import Iterable, Sequence

import numpy as np

from .._json import INT, OBJECT, STR, check_fields, list_of
from ..errors import ConfigError, ModelFormatError, VocabMismatchError
from .inputs import sentences_of, sentences_tokens, words_of
from .specials import BOS, BOS_ID, EOS, EOS_ID, SPECIALS, UNK, UNK_ID
from .tokenize import Tokenizer


class Vocab:
    """Frozen vocabulary.

    Build one with :meth:`Vocab.build` (from tokenised sentences) or :meth:`Vocab.from_tokens`.

    Example:
        >>> v = Vocab.build([["a", "b", "a"], ["c"]], min_count=2)
        >>> v.tokens
        ('<unk>', '<s>', '</s>', 'a')
        >>> v.encode(["a", "zzz"]).tolist()
        [3, 0]
    """

    __slots__ = ("_tokens", "_index", "_words", "tokenizer", "_fingerprint")

    unk, bos, eos = UNK, BOS, EOS
    unk_id, bos_id, eos_id = UNK_ID, BOS_ID, EOS_ID

    def __init__(self, tokens: Sequence[str], tokenizer: Tokenizer | None = None):
        tokens = tuple(tokens)
        if tokens[:3] != SPECIALS:
            raise ConfigError(f"a vocabulary must start with {', '.join(SPECIALS)}; got {tokens[:3]}")
        index = {t: i for i, t in enumerate(tokens)}
        if len(index) != len(tokens):
            dup = [t for t, c in Counter(tokens).items() if c > 1][:5]
            raise ConfigError(f"duplicate tokens in vocabulary: {dup}")
        self._tokens = tokens
        self._index = index
        self._words = {t: i for t, i in index.items() if i not in (BOS_ID, EOS_ID)}  # text -> id
        self.tokenizer = tokenizer or Tokenizer()
        self._fingerprint: str | None = None

    # -- construction ---------------------------------------------------------------------
    @classmethod
    def build(
        cls,
        sentences: Iterable[Sequence[str]],
        *,
        min_count: int = 1,
        max_size: int | None = None,
        tokenizer: Tokenizer | None = None,
    ) -> Vocab:
        """Vocabulary of tokenised ``sentences``: tokens seen at least ``min_count`` times.

        ``max_size`` keeps the most frequent tokens (ties by first appearance), counting the three
        specials.  The kept tokens stay in order of first appearance.
        """
        _check_limits(min_count, max_size)
        counts: Counter[str] = Counter()
        for sent in sentences_of(sentences):
            counts.update(sent)
        return cls.from_counts(counts, min_count=min_count, max_size=max_size, tokenizer=tokenizer)

    @classmethod
    def from_counts(
        cls, counts: dict[str, int], *, min_count: int = 1, max_size: int | None = None,
        tokenizer: Tokenizer | None = None,
    ) -> Vocab:
        """The vocabulary :meth:`build` makes from the token counts of a text, ``counts`` listing
        the tokens in order of first appearance (a ``Counter`` updated line after line)."""
        _check_limits(min_count, max_size)
        words = [w for w, c in counts.items() if c >= min_count and w not in (UNK, BOS, EOS)]
        if max_size is not None and len(words) > max_size - 3:
            first = {w: i for i, w in enumerate(counts)}
            keep = set(sorted(words, key=lambda w: (-counts[w], first[w]))[: max_size - 3])
            words = [w for w in words if w in keep]
        return cls(SPECIALS + tuple(words), tokenizer)

    @classmethod
    def from_tokens(cls, tokens: Iterable[str], tokenizer: Tokenizer | None = None) -> Vocab:
        """Vocabulary with the specials first, then ``tokens`` (specials among them are skipped)."""
        if isinstance(tokens, str):
            words_of(tokens, "Vocab.from_tokens")  # refuses it: a string is not a sequence of tokens
        seen = dict.fromkeys(t for t in tokens if t not in SPECIALS)
        return cls(SPECIALS + tuple(seen), tokenizer)

    def subset(self, keep: np.ndarray) -> Vocab:
        """The vocabulary of the tokens where ``keep`` is true (specials always kept), same order."""
        keep = np.asarray(keep, dtype=bool).copy()
        keep[:3] = True
        return Vocab([t for t, k in zip(self._tokens, keep, strict=True) if k], self.tokenizer)

    # -- lookups --------------------------------------------------------------------------
    @property
    def tokens(self) -> tuple[str, ...]:
        return self._tokens

    def __len__(self) -> int:
        return len(self._tokens)

    @property
    def pad_id(self) -> int:
        """Id that pads a batch of input ids: ``len(self)``, out of band (no token has it).

        An embedding over padded batches has ``len(vocab) + 1`` rows and ``padding_idx=pad_id``;
        the tokens and the fingerprint are unchanged."""
        return len(self._tokens)

    def __contains__(self, token: object) -> bool:
        return token in self._index

    def __getitem__(self, token_id: int) -> str:
        return self._tokens[token_id]

    def __iter__(self):
        return iter(self._tokens)

    def lookup(self, token: str) -> int:
        """Id of ``token``; ``<unk>``'s id for a token not in the vocabulary."""
        return self._index.get(token, UNK_ID)

    def encode(self, tokens: Sequence[str]) -> np.ndarray:
        """Ids of the words of a text; unknown words, and a literal ``<s>``/``</s>``, are ``<unk>``."""
        if isinstance(tokens, str):
            words_of(tokens, "Vocab.encode")  # refuses it: a string is not a sequence of words
        # map() with a repeated default is twice as fast as a generator expression
        return np.fromiter(map(self._words.get, tokens, repeat(UNK_ID)), dtype=np.int32, count=len(tokens))

    def symbol_ids(self, tokens: Sequence[str]) -> np.ndarray:
        """Ids of vocabulary entries, ``<s>``/``</s>`` included (model files, not text)."""
        return np.fromiter(map(self._index.get, tokens, repeat(UNK_ID)), dtype=np.int32, count=len(tokens))

    def decode(self, ids: Iterable[int]) -> list[str]:
        return [self._tokens[int(i)] for i in ids]

    def tokenize(self, line: str) -> list[str]:
        return self.tokenizer.tokenize(line)

    # -- identity and serialisation -------------------------------------------------------
    @property
    def fingerprint(self) -> str:
        """sha256 of the token list and tokenizer settings (first 16 hex digits)."""
        if self._fingerprint is None:
            h = hashlib.sha256()
            h.update(json.dumps(self.tokenizer.to_dict(), sort_keys=True).encode())
            for t in self._tokens:
                h.update(t.encode("utf-8") + b"\x00")
            self._fingerprint = h.hexdigest()[:16]
        return self._fingerprint

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocab) and self.fingerprint == other.fingerprint

    def __hash__(self) -> int:
        return hash(self.fingerprint)

    def __repr__(self) -> str:
        return f"Vocab(size={len(self)}, fingerprint={self.fingerprint})"

    def check_same(self, other: Vocab, what: str = "model") -> None:
        """Raise :class:`VocabMismatchError` unless ``other`` is the same vocabulary."""
        if self != other:
            raise VocabMismatchError(
                f"vocabulary mismatch: {what} has {len(other)} tokens (fingerprint "
                f"{other.fingerprint}) but {len(self)} tokens (fingerprint {self.fingerprint}) "
                "were expected; train both on the same Vocab"
            )

    def to_dict(self) -> dict:
        return {
            "format": "lmlab-vocab",
            "version": 1,
            "tokenizer": self.tokenizer.to_dict(),
            "fingerprint": self.fingerprint,
            "tokens": list(self._tokens),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: dict, source: str = "the vocabulary") -> Vocab:
        """The vocabulary :meth:`to_dict` wrote; ``source`` (a file name) starts every error message.

        Every field is checked (:class:`ModelFormatError` for a missing, unknown or mistyped one)
        and so is the fingerprint when the dict has one (:class:`VocabMismatchError`).
        """
        check_fields(data, _FIELDS, where=source, error=ModelFormatError, required=("format", "tokens"))
        if data.get("version", 1) != 1:
            raise ModelFormatError(f"{source}: vocabulary format version {data['version']}; this lmlab reads "
                                   "version 1 (a newer lmlab wrote it?)")
        if data["format"] != "lmlab-vocab":
            raise ModelFormatError(f"{source}: not an lmlab vocabulary (format {data['format']!r}, "
                                   "expected 'lmlab-vocab')")
        try:
            vocab = cls(data["tokens"], Tokenizer.from_dict(data.get("tokenizer", {})))
        except ConfigError as exc:
            raise ModelFormatError(f"{source}: {exc}") from None
        if "fingerprint" in data and data["fingerprint"] != vocab.fingerprint:
            raise VocabMismatchError(
                f"{source}: vocabulary fingerprint {data['fingerprint']} does not match its tokens "
                f"({vocab.fingerprint}); the file was edited or is corrupt"
            )
        return vocab

    @classmethod
    def from_json(cls, text: str, source: str = "the vocabulary") -> Vocab:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ModelFormatError(f"{source}: not valid JSON ({exc.msg} at line {exc.lineno}, "
                                   f"column {exc.colno})") from None
        return cls.from_dict(data, source)


def _check_limits(min_count: int, max_size: int | None) -> None:
    problems = []
    if min_count < 1:
        problems.append(f"min_count must be at least 1, got {min_count}")
    if max_size is not None and max_size < 4:
        problems.append(f"max_size must be at least 4 (3 specials + 1 word), got {max_size}")
    if problems:
        raise ConfigError(problems)


_FIELDS = {"format": STR, "version": INT, "tokenizer": OBJECT, "fingerprint": STR, "tokens": list_of(STR)}


def encode_corpus(
    vocab: Vocab, sentences: Sequence[Sequence[str]], *, n_bos: int = 1, n_eos: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Encode tokenised sentences into one flat id array, each as ``<s> w1 .. wk </s>``.

    Returns ``(ids, starts)``: ``ids`` int32 and ``starts`` the offset of each sentence's first
    ``<s>`` (length ``len(sentences) + 1``, the last entry ``len(ids)``).  Empty sentences become
    ``<s> </s>`` (one ``</s>`` is predicted for every line, as in KenLM).  ``n_bos``/``n_eos``
    pad with more symbols (nltk.lm pads ``order - 1`` of each).  A literal ``<s>``/``</s>`` inside
    a line is ``<unk>``, as in :meth:`Vocab.encode`.
    """
    sentences_of(sentences)
    get = vocab._words.get  # noqa: SLF001 - hot loop
    n_words = sum(len(s) for s in sentences)
    flat = np.fromiter(map(get, chain.from_iterable(sentences), repeat(UNK_ID)), dtype=np.int32, count=n_words)
    lengths = np.fromiter((len(s) for s in sentences), dtype=np.int64, count=len(sentences))
    return _pad(flat, lengths, n_bos, n_eos)


def encode_text(
    sentences: Iterable[str | Sequence[str]],
    tokenize,
    vocab: Vocab | None = None,
    *,
    min_count: int = 1,
    max_size: int | None = None,
    tokenizer: Tokenizer | None = None,
    n_bos: int = 1,
    n_eos: int = 1,
    batch_lines: int = 1024,
) -> tuple[Vocab | None, np.ndarray, np.ndarray]:
    """``(vocab, ids, starts)``: :meth:`Vocab.build` (unless ``vocab`` is given) and
    :func:`encode_corpus` of the sentences (strings split by ``tokenize``, or token lists), in one
    pass that holds a batch of lines' tokens at a time, never every token as a Python string.

    Each batch's words get provisional ids in order of first appearance, mapped to the
    vocabulary's ids once it is known (the same ids as building it first).  ``vocab`` is None
    when there are no sentences (nothing to build it from).
    """
    counts: Counter[str] = Counter()
    index: dict[str, int] = {}  # provisional ids: order of first appearance, as in counts
    chunks, lengths = [], []
    source = iter(sentences_of(sentences))
    while batch := list(islice(source, batch_lines)):
        toks = sentences_tokens(batch, tokenize)
        del batch
        lengths.append(np.fromiter(map(len, toks), dtype=np.int64, count=len(toks)))
        n = int(lengths[-1].sum())
        if vocab is not None:
            get = vocab._words.get  # noqa: SLF001 - hot loop
            chunks.append(np.fromiter(map(get, chain.from_iterable(toks), repeat(UNK_ID)), dtype=np.int32, count=n))
            continue
        known = len(counts)
        counts.update(chain.from_iterable(toks))
        for w in islice(counts, known, None):  # the batch's new words, in order
            index[w] = len(index)
        chunks.append(np.fromiter(map(index.__getitem__, chain.from_iterable(toks)), dtype=np.int32, count=n))
        del toks
    flat = np.concatenate(chunks) if chunks else np.empty(0, np.int32)
    del chunks
    n_lines = np.concatenate(lengths) if lengths else np.empty(0, np.int64)
    if vocab is None and len(n_lines):
        vocab = Vocab.from_counts(counts, min_count=min_count, max_size=max_size, tokenizer=tokenizer)
        final = np.fromiter(map(vocab._words.get, index, repeat(UNK_ID)), dtype=np.int32, count=len(index))  # noqa: SLF001
        np.take(final, flat, out=flat)
    return vocab, *_pad(flat, n_lines, n_bos, n_eos)


def flatten_ids(
    sentences: Sequence[Sequence[int]], *, n_bos: int = 1, n_eos: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Like :func:`encode_corpus` for sentences that are already id sequences."""
    lengths = np.fromiter((len(s) for s in sentences), dtype=np.int64, count=len(sentences))
    flat = np.concatenate([np.asarray(s, dtype=np.int32) for s in sentences]) if len(sentences) else \
        np.empty(0, np.int32)
    return _pad(flat, lengths, n_bos, n_eos)


def _pad(flat: np.ndarray, lengths: np.ndarray, n_bos: int, n_eos: int) -> tuple[np.ndarray, np.ndarray]:
    starts = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths + n_bos + n_eos, out=starts[1:])
    ids = np.empty(int(starts[-1]), dtype=np.int32)
    is_word = np.ones(len(ids), dtype=bool)
    for j in range(n_bos):
        ids[starts[:-1] + j] = BOS_ID
        is_word[starts[:-1] + j] = False
    for j in range(1, n_eos + 1):
        ids[starts[1:] - j] = EOS_ID
        is_word[starts[1:] - j] = False
    ids[is_word] = flat
    return ids, starts
