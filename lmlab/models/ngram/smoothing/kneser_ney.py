"""Kneser-Ney and modified Kneser-Ney (Chen & Goodman 1998; KenLM's lmplz conventions).

Adjusted counts ``a``: the highest order uses raw counts; a lower-order n-gram uses its number
of distinct left extensions (continuation count), except n-grams that start with ``<s>``, which
nothing can precede, and keep their raw count.  ``<s>`` as a unigram has ``a = 0``.

Modified KN discounts, per order, from the counts-of-counts ``t_k`` of adjusted counts::

    Y = t1 / (t1 + 2 t2)        D_k = k - (k + 1) Y t_{k+1} / t_k    for k = 1, 2, 3+

They are undefined when some ``t_k`` (k = 1..3) is 0 or a ``D_k`` falls outside ``[0, k]``
(small, deduplicated or artificial data): :class:`DiscountError`, unless fallback discounts are
given (KenLM's ``--discount_fallback``: 0.5, 1, 1.5).  Original KN uses one discount ``D = Y``.

    u(h w)   = (a(h w) - D(a(h w))) / sum_x a(h x)
    gamma(h) = sum_x D(a(h x)) / sum_x a(h x)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ....counts.blocks import blockwise, occurrences, row_chunks
from ....counts.ngram_counts import NgramCounts
from ....errors import DiscountError
from ....text.specials import BOS_ID
from .assemble import Estimate

KENLM_FALLBACK = (0.5, 1.0, 1.5)


def adjusted_counts(counts: NgramCounts) -> list[np.ndarray]:
    """Kneser-Ney adjusted counts of every order (see the module docstring), block by block."""
    N = counts.order
    out = []
    for m in counts.each_order():
        if m == N:
            a = counts.count[m - 1]  # shared, not copied (read only; the counts may be larger than memory)
            if m == 1:
                a = a.copy()
                a[BOS_ID] = 0
            out.append(counts.keep(a))
            continue
        cont = occurrences(counts, counts.suffix[m], len(counts.count[m - 1]))  # distinct left extensions
        dtype = counts.count[m - 1].dtype  # a continuation count is at most a count of the corpus's positions
        [a] = blockwise(counts, m, lambda b, m=m, cont=cont: (
            np.where(counts.bos_first[m - 1][b.rows], counts.count[m - 1][b.rows], cont[b.rows]).astype(dtype),), "r")
        del cont
        if m == 1:
            a[BOS_ID] = 0
        out.append(a)
    return out


def counts_of_counts(a: np.ndarray, kmax: int = 4, rows: int | None = None) -> np.ndarray:
    """``t[k]`` = number of n-grams with adjusted count k, for k = 0..kmax (t[0] unused);
    ``rows`` values at a time."""
    t = np.zeros(kmax + 2, dtype=np.int64)
    for s in row_chunks(len(a), rows):
        part = a[s]
        t += np.bincount(np.minimum(part[part > 0], kmax + 1), minlength=kmax + 2)
    return t[: kmax + 1]


def modified_discounts(t: np.ndarray, m: int) -> tuple[float, float, float]:
    """(D1, D2, D3+) from counts-of-counts ``t`` of order ``m``; :class:`DiscountError` if undefined."""
    for k in (1, 2, 3):
        if t[k] == 0:
            raise DiscountError(
                f"cannot compute modified Kneser-Ney discounts for {m}-grams: no {m}-gram has "
                f"adjusted count {k}, so D{k} is undefined (the corpus is too small, deduplicated "
                "or artificial); pass discount_fallback=(0.5, 1, 1.5) (CLI: --discount_fallback) "
                "or use another smoothing"
            )
    y = t[1] / (t[1] + 2.0 * t[2])
    d = tuple(k - (k + 1) * y * t[k + 1] / t[k] for k in (1, 2, 3))
    for k, dk in enumerate(d, start=1):
        if not 0.0 <= dk <= k:
            raise DiscountError(
                f"modified Kneser-Ney discount D{k} for {m}-grams is {dk:.4f}, outside [0, {k}] "
                f"(counts-of-counts t1..t4 = {t[1]}, {t[2]}, {t[3]}, {t[4]}); pass "
                "discount_fallback=(0.5, 1, 1.5) (CLI: --discount_fallback) or use another smoothing"
            )
    return d  # type: ignore[return-value]


def single_discount(t: np.ndarray, m: int) -> float:
    """Ney's estimate D = t1 / (t1 + 2 t2) for original Kneser-Ney and absolute discounting."""
    if t[1] == 0 or t[2] == 0:
        raise DiscountError(
            f"cannot estimate the discount for {m}-grams: no {m}-grams with count "
            f"{1 if t[1] == 0 else 2}; give the discount explicitly (discount=0.75)"
        )
    return float(t[1] / (t[1] + 2.0 * t[2]))


def discount_table(
    counts: NgramCounts,
    a: list[np.ndarray],
    *,
    modified: bool,
    discount: float | Sequence[float] | None = None,
    fallback: Sequence[float] | None = None,
) -> list[np.ndarray]:
    """Per order, the array ``[0, D1, D2, D3+]`` indexed by min(count, 3)."""
    out = []
    for m in counts.each_order():
        t = counts_of_counts(a[m - 1], rows=counts.block_rows)
        out.append(np.array([0.0, *order_discounts(t, m, modified=modified, discount=discount, fallback=fallback)],
                            dtype=np.float64))
    return out


def order_discounts(
    t, m: int, *, modified: bool, discount: float | Sequence[float] | None = None,
    fallback: Sequence[float] | None = None,
) -> tuple[float, float, float]:
    """(D1, D2, D3+) of order ``m`` from its counts-of-counts ``t`` (t[1..4]): fixed ``discount``
    if given, else modified (three) or Ney's single discount, else ``fallback`` where they are
    undefined.  The one place the discounts are decided: the single-machine estimator and the
    Spark job (:mod:`lmlab.spark.ngram`, which computes ``t`` distributively) both call it."""
    if discount is not None:
        return tuple(float(x) for x in discount) if isinstance(discount, Sequence) else (float(discount),) * 3
    try:
        return modified_discounts(t, m) if modified else (single_discount(t, m),) * 3
    except DiscountError:
        if fallback is None:
            raise
        return tuple(float(x) for x in fallback)


def raw_counts(counts: NgramCounts) -> list[np.ndarray]:
    """Raw counts of every order, with ``<s>`` (never predicted) at 0 among the unigrams.

    Only the unigrams are copied; the higher orders are the counts' own arrays (read them only)."""
    out = [counts.count[0].copy(), *counts.count[1:]]
    out[0][BOS_ID] = 0
    return out


def kneser_ney_estimate(
    counts: NgramCounts,
    *,
    modified: bool = True,
    continuation: bool = True,
    discount: float | Sequence[float] | None = None,
    fallback: Sequence[float] | None = None,
) -> tuple[Estimate, list[np.ndarray]]:
    """(u, gamma) of (modified) Kneser-Ney and the discounts used (per order [0, D1, D2, D3+]).

    With ``continuation=False`` the raw counts are used at every order: absolute discounting.
    """
    a = adjusted_counts(counts) if continuation else raw_counts(counts)
    discounts = discount_table(counts, a, modified=modified, discount=discount, fallback=fallback)

    def order(m: int) -> tuple[np.ndarray, np.ndarray]:
        u, gamma = blockwise(counts, m, lambda b: _kn_block(b, a[m - 1][b.rows], discounts[m - 1]), "rc")
        return u, gamma

    return Estimate.lazy(counts.order, order), discounts  # each order's u and gamma made when used


def _kn_block(b, a: np.ndarray, discounts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """u of the block's n-grams (adjusted counts ``a``) and gamma of its contexts."""
    d = discounts[np.minimum(a, 3)]
    am = a.astype(np.float64)
    d = np.minimum(d, am)  # a discount never exceeds the count
    denom = b.sums(am)
    dsum = b.sums(d)
    with np.errstate(divide="ignore", invalid="ignore"):
        if b.m == 1:
            return (am - d) / denom[0], dsum / denom
        return (am - d) / denom[b.rel], np.where(denom > 0, dsum / denom, 0.0)
