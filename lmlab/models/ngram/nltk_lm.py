"""``NltkLM``: nltk.lm's models, with nltk.lm's conventions and API, reproduced exactly.

``NltkLM(order, smoothing)`` is for code written against nltk.lm (``MLE``, ``Lidstone``,
``Laplace``, ``WittenBellInterpolated``, ``AbsoluteDiscountingInterpolated``,
``KneserNeyInterpolated``, ``StupidBackoff``); ``tests/peer`` holds nltk 3.10.4's own unit-test
expectations and compares every method with nltk.lm.

Its contract is nltk.lm's, not lmlab's :class:`~lmlab.models.base.LanguageModel`:

* ``fit(sentences)`` pads each sentence with ``order - 1`` ``<s>`` and ``</s>`` (none at order
  1) and counts every n-gram of orders 1..N (nltk's ``padded_everygrams``); fitting again adds
  counts, as nltk's ``fit`` does.
* The vocabulary is the one supplied (``vocabulary=``: any iterable of words, e.g. an
  ``nltk.lm.Vocabulary``) or the words of the padded training text seen at least ``unk_cutoff``
  times, plus ``<UNK>``; any other word is ``<UNK>`` (the padding too, when it is seen fewer
  than ``unk_cutoff`` times, as in nltk).  ``len(lm.vocab)`` is add-k's |V|.
* ``score(word, context)`` is nltk's: ``<s>`` is a word like any other; a context is used as
  given (MLE/add-k count at order ``len(context) + 1``, so a short context uses lower-order
  counts and one longer than ``order - 1`` has no counts: 0 for MLE, ``1/|V|`` for add-k); the
  interpolated models and stupid backoff use its last ``order - 1`` words and recurse to
  shorter contexts (a context never seen: ``alpha = 0, gamma = 1``).  MLE's zero is a real zero.
  The scores sum to 1 over the vocabulary (``<s>`` included) except for stupid backoff, MLE after
  a context never seen (0), and nltk's Kneser-Ney after contexts that start with ``<s>`` at order
  >= 3 (its continuation counts see nothing left of the padding), reproduced as nltk computes it.
* ``logscore`` (log2; ``-inf`` for 0), ``entropy(text_ngrams)`` and ``perplexity(text_ngrams)``
  take n-gram tuples, as nltk's (``lm.text_ngrams(sentences)`` makes them from sentences) and
  return ``inf`` where a score is 0; ``generate`` draws what nltk draws for the same seed;
  ``counts`` is nltk's ``NgramCounter`` interface; ``vocab`` is nltk's ``Vocabulary`` interface.
* Not reproduced: a literal ``<unk>`` in the text is ``<UNK>`` (nltk keeps it as a word), and
  ``<s>``/``</s>`` inside a sentence are refused.

It is *not* a ``LanguageModel``: a sentence gives ``len + order - 1`` scores, ``<s>`` has a
probability and the distributions include it.  Every ``LanguageModel`` or ``NgramLM``
operation (``evaluate``, ``score_sentences``, ``MixtureLM``, ``complete``, lmlab's generation,
``to_arpa``/``to_binary``, ...) is refused with :class:`~lmlab.errors.NotALanguageModelError`;
use :class:`~lmlab.models.ngram.model.NgramLM` for those.
"""

from __future__ import annotations

import math
import random
from bisect import bisect
from collections.abc import Iterable, Sequence
from itertools import accumulate

import numpy as np

from ...counts.counter import NgramCounter
from ...counts.ngram_counts import NgramCounts, count_ngrams
from ...errors import ConfigError, CorpusError, NotALanguageModelError, NotFittedError
from ...text.inputs import sentences_of, sentences_tokens, words_of
from ...text.specials import BOS, BOS_ID, EOS, EOS_ID, UNK, UNK_ID
from ...text.tokenize import Tokenizer
from ...text.vocab import Vocab, encode_corpus

UNK_LABEL = "<UNK>"  # nltk.lm's name for the unknown word
#: method -> (nltk.lm class, whether its distributions sum to 1 over the vocabulary, <s> included)
NLTK_METHODS = {
    "mle": ("MLE", True),
    "additive": ("Lidstone / Laplace", True),
    "witten_bell": ("WittenBellInterpolated", True),
    "absolute_discounting": ("AbsoluteDiscountingInterpolated", True),
    # nltk's Kneser-Ney sums to more than 1 after contexts that start with <s> at order >= 3
    "kneser_ney": ("KneserNeyInterpolated", False),
    "stupid_backoff": ("StupidBackoff", False),
}
NLTK_DISCOUNTS = {"kneser_ney": 0.1, "absolute_discounting": 0.75}


def _refusal(owner: str, name: str) -> NotALanguageModelError:
    return NotALanguageModelError(
        f"{owner}.{name}: NltkLM follows nltk.lm's conventions (order - 1 paddings, <s> has a "
        "probability), not lmlab's LanguageModel contract, so it has no LanguageModel or NgramLM "
        "operations (evaluate, scoring sentences, mixtures, completion, ARPA/binary export); "
        "fit NgramLM(order, smoothing) for those"
    )


def _lmlab_names(*classes) -> frozenset[str]:
    return frozenset(n for c in classes for n in dir(c) if not n.startswith("__"))


class NltkVocabulary:
    """nltk.lm's ``Vocabulary`` interface: ``len``, ``in``, iteration, ``lookup``, ``unk_label``."""

    unk_label = UNK_LABEL

    def __init__(self, vocab: Vocab, member: np.ndarray):
        self._vocab, self._member = vocab, member

    def _id(self, word) -> int:
        if not isinstance(word, str):
            raise TypeError(f"a word must be a string, not {type(word).__name__} ({word!r})")
        if word == UNK_LABEL:
            return UNK_ID
        i = self._vocab._index.get(word, UNK_ID)  # noqa: SLF001
        return i if self._member[i] else UNK_ID

    def word(self, i: int) -> str:
        return UNK_LABEL if i == UNK_ID else self._vocab[i]

    def lookup(self, words):
        """A word, or ``<UNK>`` for one outside the vocabulary; a tuple for a sequence (nltk's)."""
        if isinstance(words, str):
            return self.word(self._id(words))
        if isinstance(words, Iterable):
            return tuple(self.lookup(w) for w in words)
        raise TypeError(f"lookup takes a word or a sequence of words, not {type(words).__name__}")

    def __len__(self) -> int:
        return int(self._member.sum())

    def __iter__(self):
        return (self.word(int(i)) for i in np.flatnonzero(self._member))

    def __contains__(self, word) -> bool:
        return isinstance(word, str) and (word == UNK_LABEL or self._id(word) != UNK_ID)

    def __getattr__(self, name: str):
        if name in _lmlab_names(Vocab):
            raise _refusal("NltkLM.vocab", name)
        raise AttributeError(f"'NltkVocabulary' object has no attribute {name!r}")

    def __repr__(self) -> str:
        return f"<NltkVocabulary with unk_label={UNK_LABEL!r} and {len(self)} items>"


class NltkLM:
    """An nltk.lm model (see the module docstring for the contract).

    Args:
        order: highest n-gram order.
        smoothing: one of :data:`NLTK_METHODS` (``additive`` with ``k``: Lidstone, k = 1: Laplace).
        k: add-k's added count (nltk's ``gamma``).
        discount: absolute discounting's (0.75) or Kneser-Ney's (0.1) discount.
        alpha: stupid backoff's factor (0.4).
        vocabulary: the words of the vocabulary (``<UNK>`` is always in it; ``<s>`` and ``</s>``
            must be, at order >= 2), e.g. an ``nltk.lm.Vocabulary`` (its cutoff already applied);
            default: built from the first ``fit``'s padded text.
        unk_cutoff: when the vocabulary is built, words seen fewer times are ``<UNK>``.
        tokenizer: how string sentences are split (default: whitespace).
    """

    def __init__(
        self,
        order: int,
        smoothing: str = "mle",
        *,
        k: float = 1.0,
        discount: float | None = None,
        alpha: float = 0.4,
        vocabulary: Iterable[str] | None = None,
        unk_cutoff: int = 1,
        tokenizer: Tokenizer | None = None,
    ):
        problems = []
        if isinstance(order, bool) or not isinstance(order, int) or order < 1:
            problems.append(f"order must be a positive integer, got {order!r}")
        if smoothing not in NLTK_METHODS:
            problems.append(f"nltk.lm has no {smoothing!r}; NltkLM supports {', '.join(NLTK_METHODS)}")
        elif smoothing == "kneser_ney" and order == 1:
            problems.append("nltk.lm's Kneser-Ney needs order >= 2 (its unigrams count bigram types)")
        if not k > 0:
            problems.append(f"k must be positive, got {k}")
        if not 0 < alpha <= 1:
            problems.append(f"alpha must be in (0, 1], got {alpha}")
        if discount is not None and not 0 <= discount <= 1:
            problems.append(f"discount must be in [0, 1], got {discount}")
        if not isinstance(unk_cutoff, int) or unk_cutoff < 1:
            problems.append(f"unk_cutoff must be a positive integer, got {unk_cutoff!r}")
        if problems:
            raise ConfigError(problems)
        self.order, self.smoothing, self.k, self.alpha = order, smoothing, float(k), float(alpha)
        self.discount = NLTK_DISCOUNTS.get(smoothing, 0.0) if discount is None else float(discount)
        self.unk_cutoff = unk_cutoff
        self.tokenizer = tokenizer or Tokenizer()
        self._vocabulary = None if vocabulary is None else words_of(vocabulary, "vocabulary")
        self._vocab: NltkVocabulary | None = None
        self._sentences: list[list[str]] = []
        self._counts: NgramCounts | None = None

    @property
    def gamma(self) -> float:
        """Lidstone's added count (nltk's name for ``k``)."""
        if self.smoothing != "additive":
            raise AttributeError(f"'NltkLM' with {self.smoothing} has no gamma (only additive has)")
        return self.k

    # -- estimation -----------------------------------------------------------------------
    @property
    def n_pad(self) -> int:
        return self.order - 1

    def fit(self, sentences: Iterable[str | Sequence[str]]) -> NltkLM:
        """Count the sentences (strings or token lists), adding to earlier fits.  Returns ``self``."""
        new = sentences_tokens(sentences, self.tokenizer.tokenize)
        if not new and not self._sentences:
            raise CorpusError("cannot fit a language model on an empty corpus (no lines)")
        for s in new:
            words_of(s, "a sentence")  # every word a string (nltk's sizes: checked word by word)
        if self._vocab is None:
            self._vocab = self._build_vocab(new)
        self._sentences += new
        vocab = self._vocab._vocab  # noqa: SLF001
        masked = [[w if self._vocab._id(w) != UNK_ID else UNK for w in s] for s in self._sentences]  # noqa: SLF001
        ids, starts = encode_corpus(vocab, masked, n_bos=self.n_pad, n_eos=self.n_pad)
        # padding seen fewer than unk_cutoff times is not in the vocabulary: nltk counts it as <UNK>
        ids[~self._vocab._member[ids]] = UNK_ID  # noqa: SLF001
        self._counts = count_ngrams(ids, starts, self.order, len(vocab))
        self._prepare()
        return self

    def _build_vocab(self, sentences: list[list[str]]) -> NltkVocabulary:
        if self._vocabulary is not None:
            words = [w for w in self._vocabulary if w != UNK_LABEL]
            present = set(words)
            if self.n_pad and not {BOS, EOS} <= present:
                raise ConfigError(f"the supplied vocabulary must hold {BOS} and {EOS} at order {self.order} "
                                  "(the padding; nltk.lm would score it as <UNK>)")
        else:
            from collections import Counter

            seen = Counter(w for s in sentences for w in s)
            if self.n_pad:
                seen[BOS] += self.n_pad * len(sentences)
                seen[EOS] += self.n_pad * len(sentences)
            words = [w for w, c in seen.items() if c >= self.unk_cutoff]
            present = set(words)
        vocab = Vocab.from_tokens(words, self.tokenizer)
        member = np.ones(len(vocab), dtype=bool)
        member[BOS_ID], member[EOS_ID] = BOS in present, EOS in present
        return NltkVocabulary(vocab, member)

    def _prepare(self) -> None:
        """Per order m: context totals and types; Kneser-Ney's continuation counts."""
        c = self._counts
        N = self.order
        self._total = [np.array([float(c.count[0].sum())])]
        self._types = [np.array([float(np.count_nonzero(c.count[0]))])]
        for m in range(2, N + 1):
            n_ctx = len(c.count[m - 2])
            self._total.append(np.bincount(c.prefix[m - 1], weights=c.count[m - 1], minlength=n_ctx))
            self._types.append(np.bincount(c.prefix[m - 1], minlength=n_ctx).astype(np.float64))
        # cont[m-1][i]: distinct words before m-gram i; cont_total[m-1][j]: sum of cont over the
        # m-grams after the (m-1)-gram j (m < N); unigrams: over all bigram types.
        self._cont = [np.bincount(c.suffix[m], minlength=len(c.count[m - 1])).astype(np.float64)
                      for m in range(1, N)]
        self._cont_total = [np.array([float(len(c.count[1]))])] if N > 1 else []
        for m in range(2, N):
            self._cont_total.append(np.bincount(c.prefix[m - 1], weights=self._cont[m - 1],
                                                minlength=len(c.count[m - 2])))

    # -- lookups --------------------------------------------------------------------------
    @property
    def vocab(self) -> NltkVocabulary:
        if self._vocab is None:
            raise NotFittedError("this NltkLM is not fitted yet; call fit(sentences) first")
        return self._vocab

    @property
    def counts(self) -> NgramCounter:
        """nltk's ``NgramCounter`` interface (``counts['a']``, ``counts[['a']]['b']``, ``counts[2]``)."""
        if self._counts is None:
            raise NotFittedError("this NltkLM is not fitted yet; call fit(sentences) first")
        v = self.vocab
        return NgramCounter(self._counts, lambda w: v._id(w) if w in v else -1, v.word)  # noqa: SLF001

    def _ngram_id(self, ids: tuple[int, ...]) -> int:
        c, cur = self._counts, -1
        for m, w in enumerate(ids, start=1):
            if m > self.order:
                return -1
            cur = w if m == 1 else int(c.lookup(m, np.array([cur]), np.array([w]))[0])
            if cur < 0:
                return -1
        return cur

    def _context(self, ctx: tuple[int, ...]) -> tuple[int, float, float]:
        """(id, total count after it, distinct words after it) of a context of length >= 1."""
        if len(ctx) >= self.order:
            return -1, 0.0, 0.0
        cid = self._ngram_id(ctx)
        if cid < 0:
            return -1, 0.0, 0.0
        m = len(ctx) + 1
        return cid, float(self._total[m - 1][cid]), float(self._types[m - 1][cid])

    def _count(self, ctx: tuple[int, ...], w: int) -> float:
        if not ctx:
            return float(self._counts.count[0][w])
        gid = self._ngram_id((*ctx, w))
        return float(self._counts.count[len(ctx)][gid]) if gid >= 0 else 0.0

    # -- scores ---------------------------------------------------------------------------
    def _unigram(self, w: int) -> float:
        if self.smoothing == "kneser_ney":
            return self._cont[0][w] / self._cont_total[0][0]
        total = self._total[0][0]
        return self._counts.count[0][w] / total if total else 0.0

    def _score(self, w: int, ctx: tuple[int, ...]) -> float:
        method = self.smoothing
        if method in ("mle", "additive"):
            total = self._total[0][0] if not ctx else self._context(ctx)[1]
            c = self._count(ctx, w) if total else 0.0
            if method == "mle":
                return c / total if total else 0.0
            return (c + self.k) / (total + self.k * len(self.vocab))
        ctx = ctx[len(ctx) - (self.order - 1):] if len(ctx) > self.order - 1 else ctx
        if not ctx:
            return self._unigram(w)
        cid, total, types = self._context(ctx)
        lower = self._score(w, ctx[1:])
        if method == "stupid_backoff":
            c = self._count(ctx, w) if total else 0.0
            return c / total if c > 0 else self.alpha * lower
        if not total:  # a context never seen: alpha = 0, gamma = 1
            return lower
        c = self._count(ctx, w)
        if method == "witten_bell":
            gamma = types / (types + total)
            return (1.0 - gamma) * c / total + gamma * lower
        if method == "kneser_ney" and len(ctx) + 1 < self.order:
            gid = self._ngram_id((*ctx, w))
            c = self._cont[len(ctx)][gid] if gid >= 0 else 0.0
            total = self._cont_total[len(ctx)][cid]
            if not total:
                return lower
        d = self.discount
        return max(c - d, 0.0) / total + d * types / total * lower

    def _ids(self, context) -> tuple[int, ...]:
        if not context:
            return ()
        return tuple(self.vocab._id(t) for t in words_of(context))  # noqa: SLF001

    def score(self, word: str, context: Sequence[str] | None = None) -> float:
        """P(word | context), nltk.lm's ``score`` (words outside the vocabulary are ``<UNK>``)."""
        return float(self._score(self.vocab._id(word), self._ids(context)))  # noqa: SLF001

    def logscore(self, word: str, context: Sequence[str] | None = None) -> float:
        """log2 of :meth:`score` (``-inf`` for 0), nltk.lm's ``logscore``."""
        s = self.score(word, context)
        return math.log2(s) if s > 0 else -math.inf

    def text_ngrams(self, sentences: Iterable[str | Sequence[str]]) -> list[tuple[str, ...]]:
        """The padded ``order``-grams of sentences (nltk: ``ngrams(pad_both_ends(s, n), n)``)."""
        out = []
        for toks in sentences_tokens(sentences, self.tokenizer.tokenize):
            padded = [BOS] * self.n_pad + toks + [EOS] * self.n_pad
            out += [tuple(padded[i:i + self.order]) for i in range(len(padded) - self.order + 1)]
        return out

    def entropy(self, text_ngrams: Iterable[Sequence[str]]) -> float:
        """Cross-entropy (bits) over n-gram tuples: minus the mean :meth:`logscore` (nltk's)."""
        scores = [self.logscore(g[-1], g[:-1]) for g in sentences_of(text_ngrams, "text_ngrams")]
        if not scores:
            raise CorpusError("cannot compute entropy of no n-grams")
        return -sum(scores) / len(scores)

    def perplexity(self, text_ngrams: Iterable[Sequence[str]]) -> float:
        """``2 ** entropy(text_ngrams)`` (nltk's; ``inf`` when an n-gram has probability 0)."""
        return 2.0 ** self.entropy(text_ngrams)

    # -- generation -----------------------------------------------------------------------
    def generate(self, num_words: int = 1, text_seed: Sequence[str] | None = None,
                 random_seed: int | random.Random | None = None) -> str | list[str]:
        """nltk.lm's ``generate``: the same words for the same ``random_seed``."""
        if isinstance(num_words, bool) or not isinstance(num_words, int) or num_words < 1:
            raise ConfigError(f"num_words must be a positive integer, got {num_words!r}")
        seed = [] if text_seed is None else words_of(text_seed, "text_seed")
        rng = random_seed if isinstance(random_seed, random.Random) else random.Random(random_seed)
        if num_words == 1:
            return self._generate_one(seed, rng)
        out: list[str] = []
        for _ in range(num_words):
            out.append(self._generate_one(seed + out, rng))
        return out

    def _generate_one(self, seed: list[str], rng: random.Random) -> str:
        context = seed[-self.order + 1:] if len(seed) >= self.order else seed
        counts = self.counts
        samples = counts[self.vocab.lookup(context)]
        while context and not samples:
            context = context[1:] if len(context) > 1 else []
            samples = counts[self.vocab.lookup(context)]
        words = sorted(samples)
        weights = [self.score(w, context) for w in words]
        cum = list(accumulate(weights))
        return words[bisect(cum, math.fsum(weights) * rng.random())]

    # -- everything else is refused -------------------------------------------------------
    def __getattr__(self, name: str):
        from ..base import LanguageModel
        from .model import NgramLM

        if name in _lmlab_names(LanguageModel, NgramLM):
            raise _refusal("NltkLM", name)
        raise AttributeError(f"'NltkLM' object has no attribute {name!r}")

    def __repr__(self) -> str:
        return f"NltkLM(order={self.order}, smoothing={self.smoothing!r})"
