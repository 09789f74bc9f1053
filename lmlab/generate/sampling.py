"""Pure functions over one next-token log-probability vector (natural log, shape ``(V,)``).

Every filter returns a renormalised log-probability vector with ``-inf`` for the removed tokens,
so filters compose: temperature, then top-k, then top-p (nucleus), then sampling or argmax.
"""

from __future__ import annotations

import numpy as np

from ..errors import ConfigError


def _normalise(lp: np.ndarray) -> np.ndarray:
    m = np.max(lp)
    if not np.isfinite(m):
        raise ConfigError("no token is left to choose from (every token was banned or filtered out)")
    out = lp - (m + np.log(np.sum(np.exp(lp - m))))
    return out


def apply_temperature(lp: np.ndarray, temperature: float) -> np.ndarray:
    """Sharpen (< 1) or flatten (> 1) the distribution; ``temperature == 0`` keeps only the argmax."""
    if not temperature >= 0:  # nan too
        raise ConfigError(f"temperature must be >= 0, got {temperature}")
    if temperature == 0:
        out = np.full_like(lp, -np.inf)
        out[int(np.argmax(lp))] = 0.0
        return out
    return _normalise(lp / temperature)


def top_k(lp: np.ndarray, k: int) -> np.ndarray:
    """Keep the ``k`` most likely tokens (ties broken by the lower id)."""
    if k < 1:
        raise ConfigError(f"top_k must be >= 1, got {k}")
    if k >= len(lp):
        return lp
    keep = np.argsort(-lp, kind="stable")[:k]
    out = np.full_like(lp, -np.inf)
    out[keep] = lp[keep]
    return _normalise(out)


def top_p(lp: np.ndarray, p: float) -> np.ndarray:
    """Nucleus: the smallest set of most likely tokens whose probability reaches ``p``."""
    if not 0 < p <= 1:
        raise ConfigError(f"top_p must be in (0, 1], got {p}")
    order = np.argsort(-lp, kind="stable")
    probs = np.exp(lp[order])
    n = int(np.searchsorted(np.cumsum(probs), p - 1e-12)) + 1
    keep = order[: min(n, len(lp))]
    out = np.full_like(lp, -np.inf)
    out[keep] = lp[keep]
    return _normalise(out)


def ban(lp: np.ndarray, token_ids) -> np.ndarray:
    out = lp.copy()
    out[list(token_ids)] = -np.inf
    return _normalise(out)


def sample(lp: np.ndarray, rng: np.random.Generator) -> int:
    p = np.exp(lp - np.max(lp))
    cum = np.cumsum(p)
    return int(min(np.searchsorted(cum, rng.random() * cum[-1], side="right"), len(lp) - 1))


def greedy(lp: np.ndarray) -> int:
    return int(np.argmax(lp))
