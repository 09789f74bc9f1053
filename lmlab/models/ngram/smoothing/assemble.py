"""From per-order estimates (u, gamma) to backoff tables: interpolated or backoff form.

Interpolated:  p(w | h) = u(h w) + gamma(h) * p(w | h')     for every n-gram (h w) seen
               backoff weight of h = gamma(h)
Backoff:       p(w | h) = u(h w)                             for every n-gram (h w) seen
               backoff weight of h = (1 - sum_w u(h w)) / (1 - sum_w p(w | h'))  over seen w
The unigram level mixes in the uniform distribution over the vocabulary without ``<s>``
(``interpolate_unigrams``, KenLM's default) or gives the left-over mass to ``<unk>`` (SRILM).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ....counts.blocks import blockwise, chunkwise, gather
from ....counts.ngram_counts import NgramCounts
from ....errors import CorpusError
from ....text.specials import BOS_ID, EOS_ID, UNK_ID
from ..tables import BackoffTables

LOG10_ZERO = -99.0  # ARPA's "never": the log10 probability written for <s>
EPS = 1e-12


@dataclass
class Estimate:
    """What a smoother computes: per order ``u`` (seen n-grams) and ``gamma`` (contexts).

    ``u[m-1]`` has one entry per m-gram; ``gamma[m-1]`` one per (m-1)-gram context
    (``gamma[0]`` is a length-1 array: the unigram level's left-over mass).  ``has_children``
    marks the contexts that are followed by something.
    """

    u: list[np.ndarray | None]
    gamma: list[np.ndarray | None]
    #: computes order m's ``(u, gamma)`` when :meth:`order` first asks for them (None: the lists
    #: hold every order), so that a consumer going order by order holds one order's at a time
    compute: Callable[[int], tuple[np.ndarray, np.ndarray]] | None = None

    @classmethod
    def lazy(cls, order: int, compute: Callable[[int], tuple[np.ndarray, np.ndarray]]) -> Estimate:
        """An estimate whose orders are computed when first used (see :meth:`order`)."""
        return cls([None] * order, [None] * order, compute)

    def order(self, m: int) -> tuple[np.ndarray, np.ndarray]:
        """``(u, gamma)`` of order m."""
        if self.u[m - 1] is None and self.compute is not None:
            self.u[m - 1], self.gamma[m - 1] = self.compute(m)
        return self.u[m - 1], self.gamma[m - 1]

    def release(self, m: int) -> None:
        """Order m's arrays are no longer needed (a lazy estimate computes them again if asked)."""
        self.u[m - 1] = self.gamma[m - 1] = None


def assemble(
    counts: NgramCounts,
    est: Estimate,
    *,
    interpolate: bool = True,
    interpolate_unigrams: bool = True,
    dtype: type = np.float32,
) -> BackoffTables:
    """Backoff tables of the smoothed model described by ``est``.

    ``dtype=np.float64`` keeps double precision (for exact comparisons).  The estimate's arrays
    are released as they are used (``est`` is spent), and each order's probabilities become
    log10 values as soon as the order above no longer needs them, so the estimate, the
    probabilities and the tables are never all held at once.
    """
    N, V = counts.order, counts.vocab_size
    n_uniform = V - 1  # the vocabulary without <s>, <unk> included
    u1, gamma1 = est.order(1)
    gamma0 = float(gamma1[0])
    p1 = u1.astype(np.float64)  # a copy
    del u1, gamma1
    est.release(1)
    if interpolate_unigrams:
        p1 += gamma0 / n_uniform
    else:
        p1[UNK_ID] += gamma0
    p1[BOS_ID] = 0.0
    logprob10, backoff10 = [], []

    def finish(m: int, p: np.ndarray, b: np.ndarray) -> None:
        """Order m's probabilities and backoffs as log10 (order 1 (the vocabulary) at once: <s>
        and </s> are set by their ids)."""
        logprob10.append(chunkwise(counts, len(p), lambda s: _log10_prob(p[s], m == 1, s.start).astype(dtype), m == 1))
        backoff10.append(chunkwise(counts, len(b), lambda s: _log10_backoff(b[s], m).astype(dtype), m == 1))

    lower = p1
    for m in counts.each_order(2):
        u, gamma = est.order(m)
        p, bow = blockwise(counts, m, lambda b, u=u, gamma=gamma: _assemble_block(counts, u, gamma, b, lower, interpolate), "rc")
        del u, gamma
        est.release(m)
        finish(m - 1, lower, bow)
        del bow
        lower = p
    finish(N, lower, np.empty(0))
    return BackoffTables(order=N, vocab_size=V, keys=list(counts.keys), logprob10=logprob10, backoff10=backoff10)


def _assemble_block(counts: NgramCounts, u: np.ndarray, gamma: np.ndarray, b, lower_probs: np.ndarray,
                    interpolate: bool):
    """Probabilities of the block's m-grams and backoff weights of its contexts (``u``, ``gamma``:
    the order's estimate)."""
    m, prefix = b.m, b.rel
    lower = gather(counts, lower_probs, counts.suffix[m - 1][b.rows])
    has_children = b.has_children()
    gamma = gamma[b.ctx]
    if interpolate:
        p = gamma[prefix]
        p *= lower
        p += u[b.rows]
        return p, np.where(has_children, gamma, 1.0)
    p = u[b.rows].astype(np.float64)
    # An n-gram whose discounted estimate is 0 (a discount equal to its count) is treated
    # as unseen: it keeps its place in the table but gets the backed-off probability.
    seen = p > 0
    left = 1.0 - b.sums(p)
    lower_left = 1.0 - b.sums(np.where(seen, lower, 0.0))
    # Where the lower order has no mass left for the unseen words (its seen words are
    # exactly this context's), the left-over mass cannot be passed down: rescale the
    # context's probabilities to sum to 1 and give it no backoff mass (as SRILM does).
    stuck = has_children & (lower_left <= EPS) & (left > EPS)
    if np.any(stuck):
        scale = np.where(stuck, 1.0 / np.maximum(1.0 - left, EPS), 1.0)
        p = p * scale[prefix]
        left = np.where(stuck, 0.0, left)
    with np.errstate(divide="ignore", invalid="ignore"):
        bow = np.where(has_children & (lower_left > EPS), left / lower_left, 1.0)
    bow = np.where(stuck, 0.0, np.maximum(bow, 0.0))
    return np.where(seen, p, bow[prefix] * lower), bow


def _log10_prob(p: np.ndarray, unigram: bool, first: int = 0) -> np.ndarray:
    """log10 of probabilities (of n-grams ``first, first + 1, ..``)."""
    if np.any(~np.isfinite(p)) or np.any(p < 0):
        bad = int(np.flatnonzero(~np.isfinite(p) | (p < 0))[0])
        raise CorpusError(f"smoothing produced an invalid probability (n-gram id {first + bad}: {p[bad]})")
    with np.errstate(divide="ignore"):
        out = np.minimum(np.log10(p), 0.0)
    out[np.isneginf(out)] = LOG10_ZERO  # a zero probability: ARPA's "never"
    if unigram:
        out[BOS_ID] = LOG10_ZERO
    return out


def _log10_backoff(b: np.ndarray, m: int) -> np.ndarray:
    if len(b) == 0:
        return np.empty(0, dtype=np.float32)
    with np.errstate(divide="ignore"):
        out = np.log10(b)
    out[~np.isfinite(out)] = LOG10_ZERO
    if m == 1:
        out[EOS_ID] = 0.0
    return out
