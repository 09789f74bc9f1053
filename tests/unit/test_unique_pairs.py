"""lmlab.counts.unique_pairs gives exactly np.unique's (keys, inverse, counts) of prefix * V + word."""

from __future__ import annotations

import numpy as np
import pytest

from lmlab.counts.unique_pairs import unique_pairs


@pytest.mark.parametrize("n, n_prefix, V", [(0, 1, 3), (1, 1, 3), (500, 7, 5), (20000, 3000, 40), (5000, 2, 9000)])
def test_unique_pairs_equal_np_unique(n, n_prefix, V):
    rng = np.random.default_rng(n + V)
    prefix = rng.integers(0, n_prefix, n).astype(np.int64)
    word = rng.integers(0, V, n).astype(np.int64)
    keys, inverse, counts = unique_pairs(prefix, word, n_prefix, V)
    want = np.unique(prefix * V + word, return_inverse=True, return_counts=True)
    for got, ref in zip((keys, inverse, counts), want, strict=True):
        assert got.dtype == np.int64 and np.array_equal(got, ref)
