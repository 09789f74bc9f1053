"""``MixtureLM``: linear interpolation of any language models over one vocabulary.

    P(w | h) = sum_k lambda_k P_k(w | h_k)

Weights are given, or tuned by EM on held-out text (:func:`em_weights`): with ``q_k(t)`` the
posterior of component k for token t, ``lambda_k <- mean_t q_k(t)``; the held-out likelihood never
decreases from one iteration to the next (the test checks it).  Every component must use the same
vocabulary (train the neural model on the n-gram model's ``Vocab``); a mismatch is an error.

A mixture is saved as data, like every model: a JSON file naming its components (paths relative
to the file) and their weights, which :func:`lmlab.models.loading.load` opens like any model::

    {"kind": "mixture", "components": [{"path": "ptb.o5.lmbin", "weight": 0.41},
                                       {"path": "runs/ptb-lstm", "weight": 0.59}]}
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np

from ..errors import ConfigError, CorpusError, NotNormalizedError
from ..text.inputs import sentences_of
from ..text.vocab import Vocab
from .base import LanguageModel


def _logsumexp(a: np.ndarray, axis: int = 0) -> np.ndarray:
    m = np.max(a, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    return np.squeeze(m, axis=axis) + np.log(np.sum(np.exp(a - m), axis=axis))


class MixtureLM(LanguageModel):
    def __init__(self, models: Sequence[LanguageModel], weights: Sequence[float] | None = None):
        if len(models) < 1:
            raise ConfigError("a mixture needs at least one model")
        for i, m in enumerate(models):
            if not m.normalized:
                raise NotNormalizedError(f"component {i}: {m.not_probabilities()}; it cannot be mixed")
            if i:
                models[0].vocab.check_same(m.vocab, f"component {i}")
        self.models = list(models)
        w = np.full(len(models), 1.0 / len(models)) if weights is None else np.asarray(weights, dtype=np.float64)
        if len(w) != len(models) or np.any(w < 0) or not np.isclose(w.sum(), 1.0):
            raise ConfigError(f"mixture weights must be {len(models)} non-negative numbers summing to 1, got {w.tolist()}")
        self.weights = w

    @property
    def vocab(self) -> Vocab:
        return self.models[0].vocab

    def begin_state(self):
        return tuple(m.begin_state() for m in self.models)

    def null_state(self):
        return tuple(m.null_state() for m in self.models)

    def advance(self, state, token_id: int):
        return tuple(m.advance(s, token_id) for m, s in zip(self.models, state, strict=True))

    def advance_many(self, states, token_ids):
        parts = [m.advance_many([s[k] for s in states], token_ids) for k, m in enumerate(self.models)]
        return list(zip(*parts, strict=True))

    def next_logprobs(self, states) -> np.ndarray:
        parts = np.stack([m.next_logprobs([s[k] for s in states]) for k, m in enumerate(self.models)])
        with np.errstate(divide="ignore"):
            return _logsumexp(parts + np.log(self.weights)[:, None, None], axis=0)

    def corpus_token_logprobs(self, sentences: Sequence[Sequence[int]]) -> list[np.ndarray]:
        per = [m.corpus_token_logprobs(sentences) for m in self.models]
        out = []
        with np.errstate(divide="ignore"):
            logw = np.log(self.weights)[:, None]
            for i in range(len(sentences)):
                out.append(_logsumexp(np.stack([p[i] for p in per]) + logw, axis=0))
        return out

    @classmethod
    def tuned(cls, models: Sequence[LanguageModel], heldout: Iterable[str | Sequence[str]], **kw) -> MixtureLM:
        """A mixture with EM weights tuned on held-out sentences."""
        return cls.tuned_with_scores(models, heldout, **kw)[0]

    @classmethod
    def tuned_with_scores(cls, models: Sequence[LanguageModel], heldout: Iterable[str | Sequence[str]],
                          weights: Sequence[float] | None = None,
                          **kw) -> tuple[MixtureLM, list[np.ndarray], np.ndarray]:
        """The mixture (EM weights tuned on held-out sentences, or the given ``weights``), the
        held-out sentences' ids and the (K + 1, N) per-token log-probabilities of every component
        and (last row) of the mixture: each model scores the text once."""
        enc = [models[0].encode(s) for s in sentences_of(heldout, "heldout")]
        lp = np.stack([np.concatenate(m.corpus_token_logprobs(enc)) for m in models])
        mix = cls(models, em_weights(lp, **kw)[0] if weights is None else weights)
        with np.errstate(divide="ignore"):
            mixed = _logsumexp(lp + np.log(mix.weights)[:, None], axis=0)
        return mix, enc, np.vstack([lp, mixed])


def em_weights(token_logprobs: np.ndarray, iters: int = 100, tol: float = 1e-7) -> tuple[np.ndarray, list[float]]:
    """EM for the weights of a linear mixture.

    ``token_logprobs``: (K, N) natural-log probabilities of N held-out tokens under K models.
    Returns the weights and the mean held-out log-likelihood after each iteration.
    """
    K = token_logprobs.shape[0]
    if token_logprobs.ndim != 2 or token_logprobs.shape[1] == 0:
        raise CorpusError("no held-out tokens to tune the mixture weights on (the held-out text is empty)")
    w = np.full(K, 1.0 / K)
    history: list[float] = []
    for _ in range(iters):
        with np.errstate(divide="ignore"):
            joint = token_logprobs + np.log(w)[:, None]
        total = _logsumexp(joint, axis=0)
        history.append(float(total.mean()))
        post = np.exp(joint - total)
        w = post.mean(axis=1)
        if len(history) > 1 and history[-1] - history[-2] < tol:
            break
    return w, history


MIXTURE_KIND = "mixture"


def write_mixture_spec(path: str | os.PathLike, components: Sequence[str | os.PathLike],
                       weights: Sequence[float]) -> Path:
    """Write a mixture file (atomically); component paths are stored relative to it when they can be."""
    from .._io import write_text_atomic

    path = Path(path)
    w = np.asarray(weights, dtype=np.float64)
    if len(w) != len(components) or np.any(w < 0) or not np.isclose(w.sum(), 1.0):
        raise ConfigError(f"mixture weights must be {len(components)} non-negative numbers summing to 1, "
                          f"got {w.tolist()}")
    base = path.resolve().parent
    entries = []
    for c, wk in zip(components, w, strict=True):
        target = Path(c).resolve()
        try:
            rel = os.path.relpath(target, base)
        except ValueError:  # another drive (Windows)
            rel = str(target)
        entries.append({"path": rel, "weight": float(wk)})
    write_text_atomic(path, json.dumps({"kind": MIXTURE_KIND, "components": entries}, indent=2) + "\n")
    return path


def read_mixture_spec(path: str | os.PathLike) -> list[tuple[Path, float]]:
    """The components (absolute paths) and weights of a mixture file; every problem named at once."""
    from .._json import read_json

    path = Path(path)
    spec = read_json(path, "a mixture file", ConfigError)
    if spec.get("kind") != MIXTURE_KIND:
        raise ConfigError(f"{path}: not a mixture file (expected {{\"kind\": \"mixture\", \"components\": [...]}})")
    problems = [f"unknown field {k!r}" for k in spec if k not in ("kind", "components")]
    comps = spec.get("components")
    if not isinstance(comps, list) or not comps:
        problems.append("components must be a non-empty list of {\"path\": ..., \"weight\": ...}")
        comps = []
    out = []
    for i, c in enumerate(comps):
        if not isinstance(c, dict) or set(c) != {"path", "weight"} or not isinstance(c["path"], str) \
                or isinstance(c["weight"], bool) or not isinstance(c["weight"], int | float):
            problems.append(f"component {i} must be {{\"path\": string, \"weight\": number}}, got {c!r}")
            continue
        out.append((path.resolve().parent / c["path"], float(c["weight"])))
    if problems:
        raise ConfigError([f"{path}: {p}" for p in problems])
    return out


def load_mixture(path: str | os.PathLike, load_component: Callable[[Path], LanguageModel]) -> MixtureLM:
    """Open a mixture file, loading each component with ``load_component``."""
    comps = read_mixture_spec(path)
    try:
        return MixtureLM([load_component(p) for p, _ in comps], [w for _, w in comps])
    except ConfigError as e:
        raise ConfigError(f"{path}: {e}") from None
