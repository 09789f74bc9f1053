"""Pruning: count cut-offs while estimating, and relative-entropy pruning of a trained model.

Count cut-offs (``lmplz --prune``): an n-gram of order m >= 2 whose raw count is at most the
threshold of its order is dropped; thresholds must not decrease with the order (the last one
repeats), so the kept n-grams stay closed under prefixes and suffixes.  Discounts still come from
the unpruned counts, and each dropped n-gram's discounted mass ``u`` moves into its context's
``gamma`` (KenLM's rule), so the model stays normalised.

Relative-entropy pruning (Stolcke 1998, SRILM's ``-prune``) works on any backoff model.  From the
highest order down, an n-gram ``(h, w)`` that is neither a prefix nor a suffix of a kept longer
n-gram is removed when the relative increase in perplexity it causes, ``exp(D) - 1`` with::

    D = -P(h) * { p(w|h) [log p(w|h') + log a'(h) - log p(w|h)] + n(h) [log a'(h) - log a(h)] }
    a'(h) = (n(h) + p(w|h)) / (d(h) + p(w|h')),   n(h) = 1 - sum_seen p(.|h),  d(h) = 1 - sum_seen p(.|h')

is below the threshold.  ``P(h)`` is the history's probability by the chain rule (``<s>`` has
probability 1).  All backoff weights are then recomputed from the lowest order up, so the pruned
model stays normalised.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ...counts.blocks import appended, blockwise, gather, row_chunks
from ...counts.ngram_counts import NgramCounts
from ...errors import ConfigError
from ...text.specials import BOS_ID
from .smoothing.assemble import LOG10_ZERO, Estimate
from .tables import BackoffTables


def check_thresholds(thresholds: Sequence[int], order: int) -> list[int]:
    """Per-order count thresholds (index m-1), the last one repeated up to ``order``."""
    t = [int(x) for x in thresholds]
    problems = []
    if not t:
        problems.append("--prune needs at least one threshold")
    elif t[0] != 0:
        problems.append(f"unigrams cannot be pruned (the first threshold must be 0, got {t[0]})")
    if any(x < 0 for x in t):
        problems.append(f"prune thresholds must be >= 0, got {t}")
    if any(b < a for a, b in zip(t, t[1:], strict=False)):
        problems.append(f"prune thresholds must not decrease with the order, got {t}")
    if len(t) > order:
        problems.append(f"{len(t)} prune thresholds for an order-{order} model")
    if problems:
        raise ConfigError(problems)
    return (t + [t[-1]] * order)[:order]


def count_keep_masks(counts: NgramCounts, thresholds: Sequence[int]) -> list[np.ndarray]:
    t = check_thresholds(thresholds, counts.order)
    keep = [np.ones(len(counts.count[0]), dtype=bool)]
    for m in range(2, counts.order + 1):
        keep.append(_blockwise(counts, m, lambda b, m=m: counts.count[m - 1][b.rows] > t[m - 1]))
    return keep


def both_masks(counts: NgramCounts, a: list[np.ndarray], b: list[np.ndarray]) -> list[np.ndarray]:
    """Per order, the n-grams both masks keep."""
    return [a[0] & b[0], *(_blockwise(counts, m, lambda blk, m=m: a[m - 1][blk.rows] & b[m - 1][blk.rows])
                           for m in range(2, counts.order + 1))]


def _blockwise(counts: NgramCounts, m: int, fn) -> np.ndarray:
    """An array of one value per m-gram, ``fn(block)`` for each block of rows."""
    return blockwise(counts, m, lambda b: (fn(b),), "r")[0]


def subset_counts(counts: NgramCounts, keep: list[np.ndarray]) -> NgramCounts:
    """The counts restricted to kept n-grams (closed under prefixes and suffixes), re-numbered.

    ``keep[0]`` may drop words too: word ids are then re-numbered in the same order.
    """
    new_id = [np.cumsum(keep[0]) - 1, *(_new_ids(counts, k) for k in keep[1:])]
    word_id = new_id[0]
    V = int(keep[0].sum())
    k0 = keep[0]
    keys, prefix, word, suffix, cnt, bos = [np.arange(V, dtype=np.int64)], [counts.prefix[0][k0]], \
        [np.arange(V, dtype=np.int32)], [counts.suffix[0][k0]], [counts.count[0][k0]], [counts.bos_first[0][k0]]

    def kept(b):
        m = b.m
        kb = keep[m - 1][b.rows]
        pre = new_id[m - 2][counts.prefix[m - 1][b.rows][kb]]
        w = word_id[counts.word[m - 1][b.rows][kb]]
        return (pre * V + w, pre, w.astype(np.int32), gather(counts, new_id[m - 2], counts.suffix[m - 1][b.rows][kb]),
                counts.count[m - 1][b.rows][kb], counts.bos_first[m - 1][b.rows][kb])

    for m in counts.each_order(2):
        parts = appended(counts, m, kept, [_kept_rows(counts, keep[m - 1])] * 6)
        for lst, out in zip((keys, prefix, word, suffix, cnt, bos), parts, strict=True):
            lst.append(out)
    return NgramCounts(counts.order, V, keys, prefix, word, suffix, cnt, bos, counts.n_sentences, counts.n_tokens,
                       folder=counts.folder, _kept=counts._kept, block_rows=counts.block_rows)  # noqa: SLF001


def _kept_rows(counts: NgramCounts, keep: np.ndarray) -> int:
    return sum(int(np.count_nonzero(keep[s])) for s in row_chunks(len(keep), counts.block_rows))


def _new_ids(counts: NgramCounts, keep: np.ndarray) -> np.ndarray:
    """``cumsum(keep) - 1``: the new id of each kept n-gram, a block of rows at a time."""
    if counts.block_rows is None:
        return np.cumsum(keep) - 1
    out = counts.new_array(len(keep), np.int64)
    base = -1
    for s in row_chunks(len(keep), counts.block_rows):
        out[s] = np.cumsum(keep[s]) + base
        base = int(out[s.stop - 1]) if s.stop > s.start else base
        counts.release_pages()
    return out


def vocab_keep_masks(counts: NgramCounts, vocab, allowed: set[str]) -> list[np.ndarray]:
    """KenLM's ``--limit_vocab_file``: drop every n-gram with a word outside ``allowed``
    (the specials always stay)."""
    ok = np.array([t in allowed for t in vocab.tokens], dtype=bool)
    ok[:3] = True
    keep = [ok]
    for m in range(2, counts.order + 1):  # every word is allowed: those of the prefix, and the last
        keep.append(_blockwise(counts, m, lambda b, m=m, low=keep[-1]: low[counts.prefix[m - 1][b.rows]]
                               & ok[counts.word[m - 1][b.rows]]))
    return keep


def prune_estimate(counts: NgramCounts, est: Estimate, keep: list[np.ndarray]) -> tuple[NgramCounts, Estimate]:
    """Drop n-grams; their discounted mass goes to their contexts' gamma (stays normalised)."""
    k0 = keep[0]
    u1, gamma1 = est.order(1)
    us, gammas = [u1[k0]], [gamma1 + u1[~k0].sum()]
    est.release(1)
    def kept(b):
        m = b.m
        kb, kc = keep[m - 1][b.rows], keep[m - 2][b.ctx]
        drop = ~kb
        u, gamma = est.order(m)
        moved = np.bincount(b.rel[drop], weights=u[b.rows][drop], minlength=b.c_hi - b.c_lo)
        return u[b.rows][kb], (gamma[b.ctx] + moved)[kc]

    for m in counts.each_order(2):
        u, gamma = appended(counts, m, kept, [_kept_rows(counts, keep[m - 1]), _kept_rows(counts, keep[m - 2])])
        est.release(m)
        us.append(u)
        gammas.append(gamma)
    return subset_counts(counts, keep), Estimate(us, gammas)


# ---------------------------------------------------------------------------------------------
# relative-entropy pruning
# ---------------------------------------------------------------------------------------------
def _suffix_log10(tables: BackoffTables, words: np.ndarray) -> np.ndarray:
    """log10 p(w | h') for rows ``h w`` of ``words`` (n, m), h' = h without its first word."""
    return conditional_log10(tables, words[:, 1:])


def conditional_log10(tables: BackoffTables, rows: np.ndarray) -> np.ndarray:
    """log10 p(last | the others) under the backoff model, for each row of word ids (the query
    engine's backoff rule, on the tables as they are)."""
    if rows.shape[1] == 1:
        return tables.logprob10[0][rows[:, 0]].astype(np.float64)
    from .fastquery import FastTables

    return FastTables(tables).score_rows(rows)


def _ids(tables: BackoffTables, mat: np.ndarray) -> np.ndarray:
    cur = mat[:, 0].astype(np.int64)
    for j in range(1, mat.shape[1]):
        cur = tables.lookup(j + 1, cur, mat[:, j])
    return cur


def _history_log10(tables: BackoffTables) -> list[np.ndarray]:
    """log10 P(h) of every n-gram as a history, by the chain rule; ``<s>`` has probability 1."""
    lp1 = tables.logprob10[0].astype(np.float64).copy()
    lp1[BOS_ID] = 0.0
    out = [lp1]
    V = tables.vocab_size
    for m in range(2, tables.order):
        pre = tables.keys[m - 1] // V
        out.append(out[-1][pre] + tables.logprob10[m - 1].astype(np.float64))
    return out


def _backoffs(tables: BackoffTables, m: int, p_lower: np.ndarray) -> np.ndarray:
    """log10 backoff of every (m-1)-gram context from the m-grams it has (others: 0)."""
    V = tables.vocab_size
    prefix = tables.keys[m - 1] // V
    n_ctx = len(tables.keys[m - 2])
    p = 10.0 ** tables.logprob10[m - 1].astype(np.float64)
    num = 1.0 - np.bincount(prefix, weights=p, minlength=n_ctx)
    den = 1.0 - np.bincount(prefix, weights=10.0 ** p_lower, minlength=n_ctx)
    has = np.bincount(prefix, minlength=n_ctx) > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        b = np.where(has & (den > 1e-12) & (num > 1e-12), np.log10(num / den), 0.0)
    b = np.where(has & (num <= 1e-12), LOG10_ZERO, b)
    return b.astype(np.float32)


def entropy_prune(tables: BackoffTables, threshold: float) -> tuple[BackoffTables, list[int]]:
    """Relative-entropy pruning; returns the pruned tables and the number removed per order.

    n-grams that are a prefix or a suffix of a kept longer n-gram are kept.
    """
    if not threshold > 0:
        raise ConfigError(f"the pruning threshold must be > 0, got {threshold}")
    if tables.constant_backoff10 is not None:
        raise ConfigError("relative-entropy pruning needs a normalised backoff model (not stupid backoff)")
    N, V = tables.order, tables.vocab_size
    keys = list(tables.keys)
    logp = list(tables.logprob10)
    back = list(tables.backoff10)
    removed = [0] * N
    for m in range(N, 1, -1):
        t = BackoffTables(N, V, keys, logp, back)
        n = len(keys[m - 1])
        words = t.ngram_words(m, np.arange(n))
        prefix = keys[m - 1] // V
        n_ctx = len(keys[m - 2])
        lp_h = t.logprob10[m - 1].astype(np.float64) * np.log(10)  # ln p(w|h)
        lp_low = _suffix_log10(t, words) * np.log(10)  # ln p(w|h')
        p_h, p_low = np.exp(lp_h), np.exp(lp_low)
        num = np.clip(1.0 - np.bincount(prefix, weights=p_h, minlength=n_ctx), 0.0, 1.0)
        den = np.clip(1.0 - np.bincount(prefix, weights=p_low, minlength=n_ctx), 0.0, 1.0)
        hist = _history_log10(t)[m - 2] * np.log(10)
        with np.errstate(divide="ignore", invalid="ignore"):
            a_old = np.log(np.where(den > 0, num / np.where(den > 0, den, 1), 1.0))
            a_new = np.log((num[prefix] + p_h) / (den[prefix] + p_low))
            d = -np.exp(hist[prefix]) * (
                p_h * (lp_low + a_new - lp_h) + num[prefix] * (a_new - a_old[prefix])
            )
        d = np.where(np.isfinite(d), d, np.inf)
        # Keep the model closed under prefixes and suffixes (as estimated models are, and as
        # KenLM's lookup, which stops at the first order that misses, requires).
        needed = np.zeros(n, dtype=bool)
        if m < N:
            needed[np.unique(keys[m] // V)] = True
            higher = t.ngram_words(m + 1, np.arange(len(keys[m])))
            suffix = _ids(t, higher[:, 1:])
            needed[suffix[suffix >= 0]] = True
        drop = (np.expm1(np.maximum(d, 0.0)) < threshold) & ~needed
        removed[m - 1] = int(drop.sum())
        if not drop.any():
            continue
        keep = ~drop
        new_id = np.cumsum(keep) - 1
        keys[m - 1] = keys[m - 1][keep]
        logp[m - 1] = logp[m - 1][keep]
        if m < N:
            back[m - 1] = back[m - 1][keep]
            keys[m] = new_id[keys[m] // V] * V + keys[m] % V
    # Backoff weights from the bottom up, each order against the final lower-order model.
    for m in range(2, N + 1):
        t = BackoffTables(N, V, keys, logp, back)
        words = t.ngram_words(m, np.arange(len(keys[m - 1])))
        back[m - 2] = _backoffs(t, m, _suffix_log10(t, words))
    return BackoffTables(N, V, keys, logp, back), removed
