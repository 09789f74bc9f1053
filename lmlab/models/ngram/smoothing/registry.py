"""The smoothing methods by name, with their forms and whether they give probabilities."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ....counts.ngram_counts import NgramCounts
from ..tables import BackoffTables
from .assemble import assemble
from .kneser_ney import kneser_ney_estimate

Estimator = Callable[[Any, NgramCounts], tuple[BackoffTables, list[np.ndarray] | None]]


@dataclass(frozen=True)
class SmootherSpec:
    estimate: Estimator
    forms: tuple[bool, ...]  # True = interpolated, False = backoff
    default_interpolate: bool
    normalized: bool = True
    description: str = ""


def _kn(modified: bool) -> Estimator:
    def estimate(lm, counts: NgramCounts):
        est, discounts = kneser_ney_estimate(
            counts, modified=modified, discount=lm.discount, fallback=lm.discount_fallback
        )
        tables = assemble(
            counts, est, interpolate=lm.interpolate, interpolate_unigrams=lm.interpolate_unigrams
        )
        return tables, discounts

    return estimate


SMOOTHERS: dict[str, SmootherSpec] = {
    "modified_kneser_ney": SmootherSpec(
        _kn(True), (True, False), True, description="three discounts per order (KenLM lmplz)"
    ),
    "kneser_ney": SmootherSpec(_kn(False), (True, False), True, description="one discount per order"),
}
