"""Gradient flow (lmlab.diagnostics.gradients): hand-set linear RNNs give exact powers of the
recurrent weight, a tanh RNN matches finite differences, and bad inputs are refused."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lmlab.diagnostics.gradients import gradient_flow, matrix_norms, window_positions
from lmlab.errors import ConfigError
from lmlab.models.neural.rnn import RNNLM
from lmlab.text.specials import BOS_ID

H, V = 4, 12


def linear_rnn(scale: float) -> RNNLM:
    """A ReLU RNN whose state stays positive is linear: h_t = x_t + scale * h_{t-1} (identity input
    weights, zero biases, positive embeddings), so dL/dh_{t-k} = scale^k dL/dh_t exactly."""
    torch.manual_seed(0)
    m = RNNLM(V, H, H, 1, "rnn_relu", dropout=0.0).double()
    with torch.no_grad():
        m.rnn.weight_ih_l0.copy_(torch.eye(H))
        m.rnn.weight_hh_l0.copy_(scale * torch.eye(H))
        m.rnn.bias_ih_l0.zero_()
        m.rnn.bias_hh_l0.zero_()
        m.encoder.weight.uniform_(0.1, 1.0)
    return m


def stream(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    s = rng.integers(3, V, n)
    s[::17] = BOS_ID  # sentence starts: never a target
    return s


@pytest.mark.parametrize("scale", [0.5, 2.0])
def test_linear_rnn_norms_are_powers_of_the_recurrent_weight(scale):
    m = linear_rnn(scale)
    flow = gradient_flow(m, stream(400), max_distance=12, positions=50, warmup=5)
    k = np.arange(13)
    np.testing.assert_allclose(flow.hidden, flow.hidden[:, :1] * scale ** k, rtol=1e-9, atol=0)
    assert flow.spectral_radius == {"h": pytest.approx(scale)} and flow.largest_singular == pytest.approx(scale)
    rec = flow.records("lin")
    assert [r["distance"] for r in rec] == list(k) and rec[5]["grad_norm"] == pytest.approx(
        rec[0]["grad_norm"] * scale ** 5, rel=1e-9)


def _loss_from(m, tokens, target, state):
    """L_t from a given state at t-k: the model's own steps over the tokens after it."""
    h = state
    for tok in tokens:
        h = m.step(tok.reshape(1), h)
    return torch.nn.functional.cross_entropy(m.logits(h[0][-1]), target.reshape(1)).item()


def test_tanh_rnn_matches_finite_differences():
    torch.manual_seed(1)
    m = RNNLM(V, 3, H, 2, "rnn_tanh", dropout=0.0).double().eval()
    s = stream(60, seed=3)
    K, W = 4, 3
    flow = gradient_flow(m, s, max_distance=K, positions=3, warmup=W)
    ts = window_positions(s, K, W, 3)
    st = torch.as_tensor(s)
    eps = 1e-6
    for row, t in enumerate(ts):
        for k in range(K + 1):
            with torch.no_grad():
                h = m.init_hidden(1)
                for tok in st[t - K - W : t - k + 1]:  # the state after the token at t-k
                    h = m.step(tok.reshape(1), h)
                grad = np.zeros(H)
                for i in range(H):
                    diff = []
                    for sign in (1, -1):
                        top = h[0].clone()
                        top[-1, 0, i] += sign * eps
                        diff.append(_loss_from(m, st[t - k + 1 : t + 1], st[t + 1], (top,)))
                    grad[i] = (diff[0] - diff[1]) / (2 * eps)
            assert flow.hidden[row, k] == pytest.approx(np.linalg.norm(grad), rel=1e-6)


def test_lstm_reports_the_cell_state_and_every_gate_block():
    torch.manual_seed(2)
    m = RNNLM(V, 3, H, 1, "lstm", dropout=0.0)
    flow = gradient_flow(m, stream(200), max_distance=6, positions=20, warmup=4)
    assert flow.cell_state.shape == flow.hidden.shape == (20, 7)
    assert np.isnan(flow.cell_state[:, 0]).all() and (flow.cell_state[:, 1:] > 0).all()
    assert flow.records("m")[0]["cell_grad_norm"] is None
    assert set(flow.spectral_radius) == set("ifgo")
    radius, sigma = matrix_norms(m)
    assert sigma >= max(radius.values()) - 1e-6  # |eigenvalue| <= largest singular value (each block)
    rec = flow.records("m")[3]
    assert rec["cell_grad_norm_q1"] <= rec["cell_grad_norm"] <= rec["cell_grad_norm_q3"]


@pytest.mark.parametrize("cell", ["gru", "rnn_sigmoid", "gru_cho"])
def test_every_cell_runs(cell):
    torch.manual_seed(0)
    flow = gradient_flow(RNNLM(V, 3, H, 1, cell, dropout=0.0), stream(100), max_distance=5, positions=10, warmup=2)
    assert flow.cell_state is None and np.isfinite(flow.hidden).all() and (flow.hidden[:, 0] > 0).all()


def test_positions_avoid_sentence_starts_and_batches_agree():
    m = linear_rnn(0.5)
    s = stream(300)
    ts = window_positions(s, 10, 3, 40)
    assert (s[ts + 1] != BOS_ID).all() and ts.min() >= 13 and len(set(ts)) == 40
    a = gradient_flow(m, s, max_distance=10, positions=40, warmup=3)
    b = gradient_flow(m, s, max_distance=10, positions=40, warmup=3, batch=7)
    np.testing.assert_allclose(a.hidden, b.hidden, rtol=1e-12)


def test_a_distance_the_text_cannot_hold_is_refused():
    with pytest.raises(ConfigError, match="needs at least"):
        window_positions(stream(30), 40, 5, 10)
    with pytest.raises(ConfigError, match="room for"):
        window_positions(stream(60), 40, 5, 100)


@pytest.mark.parametrize("cell", ["rnn_tanh", "lstm", "gru"])
def test_initialisations_set_the_recurrent_matrix_norms(cell):
    """--init identity: every gate block of W_hh is I (spectral radius 1); orthogonal: every block
    is orthogonal (all singular values 1: the stacked (g*H, H) matrix has sigma_max sqrt(g))."""
    g = {"rnn_tanh": 1, "lstm": 4, "gru": 3}[cell]
    torch.manual_seed(0)
    radius, sigma = matrix_norms(RNNLM(V, 3, H, 1, cell, dropout=0.0, init="identity"))
    assert all(r == pytest.approx(1.0) for r in radius.values()) and sigma == pytest.approx(np.sqrt(g))
    radius, sigma = matrix_norms(RNNLM(V, 3, H, 1, cell, dropout=0.0, init="orthogonal"))
    assert all(r == pytest.approx(1.0) for r in radius.values()) and sigma == pytest.approx(np.sqrt(g))
    radius, sigma = matrix_norms(RNNLM(V, 3, H, 1, cell, dropout=0.0))
    assert all(r < sigma for r in radius.values())
