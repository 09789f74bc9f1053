"""Gradient flow through a recurrent LM: the norm of dL_t/dh_{t-k} against the distance k.

For each of ``positions`` positions t of a token stream, the loss ``L_t`` is the cross-entropy of
the token at t+1 given the state after the token at t; its gradient with respect to the top
layer's hidden state ``h_{t-k}`` (and, for an LSTM, its cell state ``c_{t-k}``) is taken for every
``k`` in ``0..max_distance``.  The positions run side by side as the columns of one batch, each
from a state warmed up (without gradients) over the ``warmup`` tokens before its window, so one
backward pass gives every position's gradients (the columns are independent, so the gradient of
their summed loss with respect to one column's state is that column's own).

The states are the ones the model's own one-step path computes (:meth:`RNNLM.step`, the fused
cell functions PyTorch's layers run, or the loop cells' own step function): each step's output is
kept with ``retain_grad``, so no cell equation is written twice.  The median and quartiles over
positions are reported for each k, beside the spectral radius (per gate block) and the largest
singular value of the top layer's ``W_hh``.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ..errors import ConfigError
from ..models.neural.rnn import RNNLM
from ..text.specials import BOS_ID

GATES = {"lstm": "ifgo", "gru": "rzn", "gru_cho": "rzn"}  # PyTorch's order of the blocks of W_hh


@dataclass
class GradientFlow:
    """Per-position gradient norms ``(positions, max_distance + 1)``, column k for distance k."""

    cell: str
    init: str
    hidden: np.ndarray  # ||dL_t / dh_{t-k}|| (top layer)
    cell_state: np.ndarray | None  # ||dL_t / dc_{t-k}|| for an LSTM (NaN at k = 0), else None
    spectral_radius: dict[str, float]  # per gate block of the top layer's W_hh (H x H)
    largest_singular: float  # of the whole top-layer W_hh

    @property
    def positions(self) -> int:
        return self.hidden.shape[0]

    def records(self, model: str) -> list[dict]:
        """One record per distance: medians and quartiles over the positions."""
        out = []
        for k in range(self.hidden.shape[1]):
            rec = {"model": model, "distance": k}
            rec.update(_quartiles("grad_norm", self.hidden[:, k]))
            rec.update(_quartiles("cell_grad_norm", None if self.cell_state is None else self.cell_state[:, k]))
            rec.update(cell=self.cell, init=self.init, positions=self.positions,
                       w_hh_spectral_radius=max(self.spectral_radius.values()),
                       w_hh_largest_singular=self.largest_singular)
            out.append(rec)
        return out


def _quartiles(name: str, x: np.ndarray | None) -> dict:
    if x is None or np.isnan(x).all():
        return {name: None, f"{name}_q1": None, f"{name}_q3": None}
    q1, med, q3 = np.quantile(x, [0.25, 0.5, 0.75])
    return {name: float(med), f"{name}_q1": float(q1), f"{name}_q3": float(q3)}


def window_positions(stream: np.ndarray, max_distance: int, warmup: int, positions: int) -> np.ndarray:
    """``positions`` positions t spread evenly over ``stream``, each with ``warmup + max_distance``
    tokens before it and a target after it that is not ``<s>`` (never predicted); an error if
    they do not fit."""
    n = len(stream)
    first = warmup + max_distance
    candidates = np.arange(first, n - 1)
    candidates = candidates[stream[candidates + 1] != BOS_ID]
    if len(candidates) == 0:
        raise ConfigError(f"the text has {n} tokens: distance {max_distance} (after a warm-up of {warmup}) "
                          f"needs at least {first + 2}; give a smaller --max-distance or a longer text")
    if len(candidates) < positions:
        raise ConfigError(f"the text has {n} tokens: room for {len(candidates)} positions at distance "
                          f"{max_distance} (warm-up {warmup}), not {positions}; give fewer --positions, a smaller "
                          "--max-distance or a longer text")
    return candidates[np.linspace(0, len(candidates) - 1, positions).round().astype(np.int64)]


def matrix_norms(model: RNNLM) -> tuple[dict[str, float], float]:
    """(spectral radius of each gate block of the top layer's W_hh, its largest singular value)."""
    w = getattr(model.rnn, f"weight_hh_l{model.nlayers - 1}").detach().double().cpu()
    H = w.shape[1]
    names = GATES.get(model.cell, "h")
    radius = {g: float(torch.linalg.eigvals(w[i * H : (i + 1) * H]).abs().max()) for i, g in enumerate(names)}
    return radius, float(torch.linalg.matrix_norm(w, ord=2))


def gradient_flow(model: RNNLM, stream: Sequence[int] | np.ndarray, *, max_distance: int = 50,
                  positions: int = 1000, warmup: int = 35, batch: int = 1000) -> GradientFlow:
    """Gradient norms of ``model`` over a token-id ``stream`` (see the module docstring).

    The model runs in eval mode (no dropout) on a float64 copy of its weights (a float32 norm
    that vanishes underflows to 0 within a few dozen steps); ``batch`` positions go through one
    forward and backward pass at a time."""
    if not isinstance(model, RNNLM):
        raise ConfigError(f"{type(model).__name__} has no recurrent state: gradient flow is for recurrent LMs")
    if getattr(model, "adaptive", False):
        raise ConfigError("gradient flow of an adaptive-softmax model is not supported")
    stream = np.asarray(stream, dtype=np.int64)
    ts = window_positions(stream, max_distance, warmup, positions)
    stream = torch.as_tensor(stream)
    init = getattr(getattr(model, "config", None), "init", "default")
    model = copy.deepcopy(model).double().eval()
    hs, cs = [], []
    for a in range(0, len(ts), batch):
        h, c = _batch_norms(model, stream, torch.as_tensor(ts[a : a + batch]), max_distance, warmup)
        hs.append(h)
        cs.append(c)
    radius, sigma = matrix_norms(model)
    return GradientFlow(model.cell, init, np.concatenate(hs),
                        np.concatenate(cs) if model.cell == "lstm" else None, radius, sigma)


def _batch_norms(model: RNNLM, stream: torch.Tensor, ts: torch.Tensor, K: int, warmup: int):
    device = next(model.parameters()).device
    offsets = torch.arange(-(warmup + K), 1)  # window: warm-up, then t-K .. t
    tokens = stream[ts[None, :] + offsets[:, None]].to(device)  # (warmup + K + 1, B)
    targets = stream[ts + 1].to(device)
    hidden = model.init_hidden(len(ts))
    with torch.no_grad():
        for i in range(warmup):
            hidden = model.step(tokens[i], hidden)
    hidden = tuple(part.detach().requires_grad_(True) for part in hidden)  # the state after t-K-1
    kept = []  # kept[j]: the state after the token at t-K+j (kept[K] is the state the loss reads)
    for i in range(warmup, warmup + K + 1):
        hidden = model.step(tokens[i], hidden)
        for part in hidden:
            part.retain_grad()
        kept.append(hidden)
    logits = model.logits(hidden[0][-1])
    loss = torch.nn.functional.cross_entropy(logits, targets, reduction="sum")
    loss.backward()
    parts = range(2 if model.cell == "lstm" else 1)
    nan = torch.full((len(ts),), float("nan"), dtype=torch.float64, device=device)
    # the fused LSTM cell computes h_t from c_t inside one call, so c_t (k = 0) reaches L_t by no
    # path autograd sees: its norm is NaN (reported as null); at k >= 1 c_{t-k} is a step's input
    norms = [torch.stack([nan if kept[K - k][p].grad is None else kept[K - k][p].grad[-1].double().norm(dim=-1)
                          for k in range(K + 1)], dim=1) for p in parts]
    out = [n.detach().cpu().numpy() for n in norms]
    return out[0], out[1] if model.cell == "lstm" else None
