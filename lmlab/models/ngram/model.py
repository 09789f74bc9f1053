"""``NgramLM``: estimate an n-gram model from text and query it (the nltk.lm-style API).

Example:
    >>> lm = NgramLM(order=2, smoothing="witten_bell").fit([["a", "b"], ["a", "c"]])
    >>> round(sum(lm.score(w, ["a"]) for w in lm.vocab if w != "<s>"), 6)
    1.0
"""

from __future__ import annotations

import math
import random
import threading
from collections.abc import Iterable, Sequence

import numpy as np

from ...counts.counter import NgramCounter
from ...counts.heap import trim
from ...counts.ngram_counts import NgramCounts, count_ngrams
from ...errors import ConfigError, CorpusError, NotFittedError, VocabMismatchError
from ...text.inputs import sentences_tokens, words_of
from ...text.specials import BOS_ID, EOS_ID
from ...text.tokenize import Tokenizer
from ...text.vocab import Vocab, encode_text, flatten_ids
from ..base import LanguageModel, State
from .smoothing import registry
from .tables import LN10, BackoffTables, context_kinds


_BUILD_LOCK = threading.Lock()


def _as_token_lists(sentences: Iterable[str | Sequence[str]], tokenizer: Tokenizer) -> list[list[str]]:
    return sentences_tokens(sentences, tokenizer.tokenize)


class NgramLM(LanguageModel):
    """An n-gram language model of any order.

    Args:
        order: highest n-gram order (any positive integer).
        smoothing: one of :data:`lmlab.models.ngram.smoothing.registry.SMOOTHERS`.
        interpolate: interpolated (True) or backoff (False) form; ``None`` = the method's default.
        discount: fixed discount(s) for kneser_ney / modified_kneser_ney / absolute_discounting.
        discount_fallback: discounts (D1, D2, D3+) to use where modified KN's closed form fails
            (KenLM's ``--discount_fallback`` uses 0.5, 1, 1.5); ``None`` raises instead.
        interpolate_unigrams: mix the uniform distribution into unigrams (KenLM default) or give
            the left-over unigram mass to ``<unk>`` (SRILM).
        k: the added count of ``additive`` smoothing (1 = Laplace).
        alpha: stupid backoff's penalty.
        min_count, max_size: vocabulary limits when the vocabulary is built from the text.
        prune: count thresholds per order (``lmplz --prune``): n-grams of order m >= 2 with a raw
            count <= prune[m-1] are dropped (the last threshold repeats; unigrams: 0).
        limit_vocab: words to keep (``lmplz --limit_vocab_file``): n-grams with any other word are
            dropped, their mass going to their contexts' backoff, and those words become OOVs.
        tokenizer: how strings are split (default: whitespace).
    """

    def __init__(
        self,
        order: int = 3,
        smoothing: str = "modified_kneser_ney",
        *,
        interpolate: bool | None = None,
        discount: float | Sequence[float] | None = None,
        discount_fallback: Sequence[float] | None = None,
        interpolate_unigrams: bool = True,
        k: float = 1.0,
        alpha: float = 0.4,
        min_count: int = 1,
        max_size: int | None = None,
        prune: Sequence[int] | None = None,
        limit_vocab: Iterable[str] | None = None,
        tokenizer: Tokenizer | None = None,
        compat: str | None = None,
    ):
        problems = []
        if isinstance(order, bool) or not isinstance(order, int) or order < 1:
            problems.append(f"order must be a positive integer, got {order!r}")
        if smoothing not in registry.SMOOTHERS:
            problems.append(
                f"unknown smoothing {smoothing!r}; choose one of {', '.join(registry.SMOOTHERS)}"
            )
        if k <= 0:
            problems.append(f"k must be positive, got {k}")
        if not 0 < alpha <= 1:
            problems.append(f"alpha must be in (0, 1], got {alpha}")
        if discount is not None:
            ds = list(discount) if isinstance(discount, Sequence) else [discount]
            if len(ds) not in (1, 3) or any(not 0 <= d for d in ds):
                problems.append(f"discount must be one number or three (D1, D2, D3+) >= 0, got {discount!r}")
        if prune is not None and not problems:
            from .prune import check_thresholds

            try:
                check_thresholds(prune, order)
            except ConfigError as exc:
                problems += exc.problems
        if discount_fallback is not None and len(list(discount_fallback)) != 3:
            problems.append(f"discount_fallback must be three numbers (D1, D2, D3+), got {discount_fallback!r}")
        if compat is not None:
            problems.append(f"compat={compat!r}: nltk.lm's models are lmlab.NltkLM(order, smoothing) "
                            "(nltk's conventions and API; not a LanguageModel)")
        if problems:
            raise ConfigError(problems)
        spec = registry.SMOOTHERS[smoothing]
        if interpolate is None:
            interpolate = spec.default_interpolate
        if interpolate not in spec.forms:
            raise ConfigError(
                f"{smoothing} has no {'interpolated' if interpolate else 'backoff'} form"
            )
        self.order = order
        self.smoothing = smoothing
        self.interpolate = interpolate
        self.discount = discount
        self.discount_fallback = tuple(discount_fallback) if discount_fallback is not None else None
        self.interpolate_unigrams = interpolate_unigrams
        self.k = k
        self.alpha = alpha
        self.min_count = min_count
        self.max_size = max_size
        self.prune = list(prune) if prune is not None else None
        self.limit_vocab = set(limit_vocab) if limit_vocab is not None else None
        self.n_pad = 1  # one <s> and one </s> per sentence (KenLM's padding)
        self.tokenizer = tokenizer or Tokenizer()
        self.normalized = spec.normalized
        self._vocab: Vocab | None = None
        self._tables: BackoffTables | None = None
        self._fast = None  # hashed tables when loaded from a binary file
        self._bound = None  # the query engine's step function, bound to the tables (see _engine)
        self._counts: NgramCounts | None = None
        self._corpus: tuple[np.ndarray, np.ndarray] | None = None  # (ids, starts) the counts come from
        self.discounts: list[np.ndarray] | None = None
        self.meta: dict = {}

    # -- estimation -----------------------------------------------------------------------
    def fit(self, sentences: Iterable[str | Sequence[str]], vocab: Vocab | None = None) -> NgramLM:
        """Estimate the model from sentences (strings, or lists of tokens).  Returns ``self``."""
        # one pass, a batch of lines at a time: the words are never all held as Python strings
        vocab, ids, starts = encode_text(sentences, self.tokenizer.tokenize, vocab, min_count=self.min_count,
                                         max_size=self.max_size, tokenizer=self.tokenizer,
                                         n_bos=self.n_pad, n_eos=self.n_pad)
        if len(starts) == 1:
            raise CorpusError("cannot fit a language model on an empty corpus (no lines)")
        trim()  # the batches' memory goes back before the counts are made
        counts = count_ngrams(ids, starts, self.order, len(vocab))
        trim()  # and the counting's temporaries before the estimation
        self.fit_counts(counts, vocab)
        if self._counts is counts:  # kept as the corpus's ids, counted again when asked (ngram_counts)
            self._counts, self._corpus = None, (ids, starts)
        return self

    def fit_counts(self, counts: NgramCounts, vocab: Vocab) -> NgramLM:
        """Estimate the model from n-gram counts of a corpus encoded with ``vocab`` (``fit`` counts
        in memory; :mod:`lmlab.counts.external` counts a larger corpus on disk).  Returns ``self``."""
        if counts.n_tokens == counts.n_sentences and self.order > 1 and len(vocab) <= 3:
            raise CorpusError("the training corpus has no words (only empty lines)")
        self._fit_counts(counts, vocab)
        return self

    def _fit_counts(self, counts: NgramCounts, vocab: Vocab) -> None:
        if self.smoothing not in registry.SMOOTHERS:
            raise ConfigError(f"this model was read from a file and its smoothing is {self.smoothing!r}, so it "
                              "cannot be re-estimated; fit a new NgramLM(order, smoothing) instead")
        self._fit_vocab = vocab  # the estimator may shrink it (limit_vocab)
        tables, discounts = registry.SMOOTHERS[self.smoothing].estimate(self, counts)
        if self._fit_vocab is not vocab:
            vocab, counts = self._fit_vocab, None
        self._vocab, self._tables, self._counts, self.discounts = vocab, tables, counts, discounts
        self._corpus = None

    # -- state ----------------------------------------------------------------------------
    @property
    def vocab(self) -> Vocab:
        if self._vocab is None:
            raise NotFittedError("this NgramLM is not fitted yet; call fit(sentences) first")
        return self._vocab

    @property
    def tables(self) -> BackoffTables:
        if self._tables is None:
            if self._fast is not None:
                from .fastbuild import tables_from_fast

                with _BUILD_LOCK:  # concurrent first queries (threads, a server) build them once
                    if self._tables is None:
                        self._tables = tables_from_fast(self._fast)
                return self._tables
            raise NotFittedError("this NgramLM is not fitted yet; call fit(sentences) first")
        return self._tables

    @property
    def fast(self):
        """The query engine's tables (:mod:`.fastquery`): every query runs on them."""
        if self._fast is not None:
            return self._fast
        tables = self.tables
        built = self.__dict__.get("_fast_of")
        if built is None or built[0] is not tables:
            built = self.__dict__["_fast_of"] = (tables, tables.fast)
        return built[1]

    def _engine(self):
        """(step function, vocabulary size, order) of the query engine, bound once per model."""
        bound = self._bound
        if bound is None or bound[0] is not (self._fast or self._tables):
            fast = self.fast
            step = fast.step_function()  # partial(entry point, buf, meta): step() calls the two unwrapped
            bound = self._bound = (self._fast or self._tables, step.func, len(self.vocab), self.order, step.args, step)
        return bound[5], bound[2], bound[3]

    def _checked_id(self, token_id, V: int) -> int:
        t = int(token_id)
        if not 0 <= t < V:
            raise VocabMismatchError(f"token id {t} is outside this model's vocabulary of {V} tokens: "
                                     "the text was encoded with another vocabulary")
        return t

    @property
    def ngram_counts(self) -> NgramCounts:
        """Raw n-gram counts as arrays (models read from ARPA files have none).  A model fitted from
        text keeps only the text's ids and counts them again on first use (estimation is done with
        them: the memory goes to writing the model)."""
        if self._counts is None and self._corpus is not None:
            with _BUILD_LOCK:
                if self._counts is None:
                    ids, starts = self._corpus
                    self._counts = count_ngrams(ids, starts, self.order, len(self.vocab))
        if self._counts is None:
            raise NotFittedError("this model has no counts (it was not fitted from text here)")
        return self._counts

    @property
    def counts(self) -> NgramCounter:
        """The counts by words, as nltk.lm's ``counts``: ``counts['the']``, ``counts[['the']]['market']``."""
        v = self.vocab
        return NgramCounter(self.ngram_counts, lambda w: v._index.get(w, -1), v.__getitem__)  # noqa: SLF001

    def prune_entropy(self, threshold: float) -> NgramLM:
        """A new model pruned by relative entropy (Stolcke 1998) with ``threshold``.

        An n-gram is removed when doing so raises the model's perplexity by a relative amount
        below ``threshold`` (SRILM's ``-prune``); backoff weights are recomputed.
        """
        from .prune import entropy_prune

        tables, removed = entropy_prune(self.tables, threshold)
        lm = NgramLM.from_tables(tables, self.vocab)
        lm.smoothing, lm.interpolate, lm.normalized = self.smoothing, self.interpolate, self.normalized
        lm.meta = dict(self.meta, entropy_pruned=threshold, removed=removed)
        return lm

    @classmethod
    def from_tables(cls, tables: BackoffTables, vocab: Vocab, **kwargs) -> NgramLM:
        kwargs.setdefault("tokenizer", vocab.tokenizer)
        lm = cls(order=tables.order, **kwargs)
        lm._vocab, lm._tables = vocab, tables
        return lm

    # -- LanguageModel --------------------------------------------------------------------
    # States are the query engine's (:mod:`.fastquery`): a tuple of ``order`` ints holding the
    # slots of the history's suffixes in the model, so stepping is a few hash lookups.
    def begin_state(self) -> State:
        return self.fast.begin_state(BOS_ID)

    def null_state(self) -> State:
        return self.fast.null_state()

    def advance(self, state: State, token_id: int) -> State:
        return self.step(state, token_id)[1]

    def advance_many(self, states: Sequence[State], token_ids: Sequence[int]) -> list[State]:
        V = len(self.vocab)
        toks = [self._checked_id(t, V) for t in token_ids]
        if len(toks) != len(states):
            raise ConfigError(f"advance_many: {len(states)} states but {len(toks)} tokens")
        return self.fast.step_states(states, toks)[0] if toks else []

    def next_logprobs(self, states: Sequence[State]) -> np.ndarray:
        out = self.fast.next_dists(states, LN10)
        out[:, BOS_ID] = -np.inf
        return out

    def sample_tokens(self, state: State, rng: np.random.Generator, max_tokens: int, banned_ids,
                      stop_at_eos: bool = True) -> tuple[list[int], list[float], bool] | None:
        """Exact ancestral sampling in the query engine, without a full distribution per token
        (:meth:`.fastquery.FastTables.sample_tokens`); ``None`` in a subclass that changes
        :meth:`next_logprobs` (the engine's draws would not follow it), and on the trie layout
        (it has no continuation index to draw from: the generic path, exact too)."""
        if type(self).next_logprobs is not NgramLM.next_logprobs or self.fast.trie:
            return None
        if len(state) != self.order:
            state = self.fast.state_of(state)
        V = len(self.vocab)
        banned = {BOS_ID, *(self._checked_id(t, V) for t in banned_ids)}
        ids, lp10, stopped = self.fast.sample_tokens(state, rng, max_tokens, banned, stop_at_eos)
        return ids.tolist(), (lp10 * LN10).tolist(), stopped

    def step(self, state: State, token_id: int) -> tuple[float, State]:
        # The fast path, once bound: the compiled kernel checks the state and the id itself (a
        # matched length < 0, or an exception for what is not a state tuple of this model's length,
        # sends the call to the checked path below, which converts or names the problem).
        bound = self._bound
        if bound is not None and bound[0] is (self._fast or self._tables):
            try:
                lp10, m, nxt = bound[1](*bound[4], state, token_id)
            except Exception:  # noqa: BLE001 - the checked path raises the right error
                m = -1
            if m >= 0:
                return (lp10 * LN10 if token_id != BOS_ID else -math.inf), nxt
        return self._checked_step(state, token_id)

    def _checked_step(self, state: State, token_id: int) -> tuple[float, State]:
        step, V, N = self._engine()
        t = int(token_id)
        if not 0 <= t < V:
            self._checked_id(t, V)
        if not isinstance(state, tuple) or len(state) != N:
            state = self.fast.state_of(state)  # an earlier lmlab state (fewer token ids), else refused
        try:
            lp10, m, nxt = step(state, t)
        except (OverflowError, TypeError, ValueError, IndexError, SystemError):  # not int64 entries
            m = -1
        if m < 0:
            self.fast._refuse(state)
        return (lp10 * LN10 if t != BOS_ID else -math.inf), nxt

    def token_logprobs(self, ids: Sequence[int], *, bos: bool = True, eos: bool = True) -> np.ndarray:
        seq = np.ascontiguousarray(ids, dtype=np.int64).ravel()
        V = len(self.vocab)
        if len(seq) and not (0 <= seq.min() and seq.max() < V):
            self._checked_id(seq[(seq >= V) | (seq < 0)][0], V)
        return self.fast.sentence_scores(seq, bos, eos, LN10)

    def corpus_log10(self, sentences: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Flat log10 scores: ``(log10p, ngram_length, ids)`` with ``<s>`` positions removed."""
        ids, starts = flatten_ids(sentences, n_bos=self.n_pad, n_eos=self.n_pad)
        if len(ids) and int(ids.max()) >= len(self.vocab):
            raise VocabMismatchError(
                f"token id {int(ids.max())} is outside this model's vocabulary of {len(self.vocab)} "
                "tokens: the text was encoded with another vocabulary"
            )
        kinds = context_kinds(len(ids), starts, self.n_pad)
        lp, length = self.fast.score(ids, kinds)
        keep = kinds == 0
        return lp[keep], length[keep], ids[keep]

    def corpus_token_logprobs(self, sentences: Sequence[Sequence[int]]) -> list[np.ndarray]:
        if not len(sentences):
            return []
        lp, _, _ = self.corpus_log10(sentences)
        bounds = np.cumsum([len(s) + self.n_pad for s in sentences])[:-1]
        return np.split(lp * LN10, bounds)

    # -- nltk.lm-style API ----------------------------------------------------------------
    def score(self, word: str, context: Sequence[str] | None = None) -> float:
        """P(word | context) (a probability, as in nltk.lm); unknown words are scored as <unk>."""
        return math.exp(self.logprob(word, () if context is None else context))

    def logscore(self, word: str, context: Sequence[str] | None = None) -> float:
        """log2 P(word | context), as nltk.lm's ``logscore``."""
        return self.logprob(word, () if context is None else context) / math.log(2)

    def _encode_all(self, sentences: Iterable[str | Sequence[str]]) -> list[np.ndarray]:
        return [self.vocab.encode(t) for t in _as_token_lists(sentences, self.vocab.tokenizer)]

    def perplexity(self, sentences: Iterable[str | Sequence[str]]) -> float:
        """Perplexity over sentences: every word and one ``</s>`` per sentence, OOVs included."""
        self._require_normalized("perplexity")
        enc = self._encode_all(sentences)
        lp, _, _ = self.corpus_log10(enc)
        if len(lp) == 0:
            raise CorpusError("cannot compute perplexity of an empty text")
        return float(10.0 ** (-lp.sum() / len(lp)))

    def entropy(self, sentences: Iterable[str | Sequence[str]]) -> float:
        """Cross-entropy in bits per token (log2 of :meth:`perplexity`)."""
        return math.log2(self.perplexity(sentences))

    def not_probabilities(self) -> str:
        spec = registry.SMOOTHERS.get(self.smoothing)
        return f"{self.smoothing} " + (spec.not_probabilities if spec else "gives scores, not probabilities")

    def _require_normalized(self, what: str) -> None:
        if not self.normalized:
            from ...errors import NotNormalizedError

            raise NotNormalizedError(f"{self.not_probabilities()}: lmlab does not report its {what}"
                                     " (use a smoothed method: witten_bell, modified_kneser_ney...)")

    def generate(
        self, num_words: int = 1, text_seed: Sequence[str] | None = None, random_seed: int | None = None
    ) -> str | list[str]:
        """Sample ``num_words`` words after ``text_seed`` (nltk.lm's signature and return type)."""
        if isinstance(num_words, bool) or not isinstance(num_words, int) or num_words < 1:
            raise ConfigError(f"num_words must be a positive integer, got {num_words!r}")
        rng = random.Random(random_seed)
        state = self.null_state()
        for t in ["<s>"] if text_seed is None else words_of(text_seed, "text_seed") or ["<s>"]:
            state = self.advance(state, self.vocab.lookup(t))
        words = []
        for _ in range(num_words):
            p = np.exp(self.next_logprobs([state])[0])
            p[BOS_ID] = 0.0
            cum = np.cumsum(p)
            tok = int(np.searchsorted(cum, rng.random() * cum[-1], side="right"))
            tok = min(tok, len(p) - 1)
            words.append(self.vocab[tok])
            state = self.begin_state() if tok == EOS_ID else self.advance(state, tok)
        return words[0] if num_words == 1 else words

    # -- model files (lmlab.models.ngram.model_files) ----------------------------------------
    def to_arpa(self, path) -> None:
        """Write the model as an ARPA file (:func:`~lmlab.models.ngram.model_files.save_arpa`)."""
        from .model_files import save_arpa

        save_arpa(self, path)

    def to_binary(self, path, **kwargs) -> None:
        """Write the model as an ``.lmbin`` (:func:`~lmlab.models.ngram.model_files.save_binary`)."""
        from .model_files import save_binary

        save_binary(self, path, **kwargs)

    @staticmethod
    def from_arpa(path) -> NgramLM:
        """Read an ARPA file (:func:`~lmlab.models.ngram.model_files.load_arpa`)."""
        from .model_files import load_arpa

        return load_arpa(path)

    @staticmethod
    def from_binary(path, **kwargs) -> NgramLM:
        """Open an ``.lmbin`` (:func:`~lmlab.models.ngram.model_files.load_binary`)."""
        from .model_files import load_binary

        return load_binary(path, **kwargs)

    def __repr__(self) -> str:
        fitted = f", sizes={self._tables.sizes()}" if self._tables is not None else ""
        return f"NgramLM(order={self.order}, smoothing={self.smoothing!r}{fitted})"
