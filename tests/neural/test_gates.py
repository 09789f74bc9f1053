"""Gate activity (lmlab.diagnostics.gates): the gates recomputed from a cell's own weights give
exactly the next state the model's fused cells compute, and the corpus averages are averages."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lmlab.diagnostics.gates import check_gated, corpus_gate_stats, gate_summary, sentence_gates, trace_gates
from lmlab.errors import ConfigError
from lmlab.models.neural.cells import GATE_NAMES, gated_step
from lmlab.models.neural.rnn import RNNLM
from lmlab.text.specials import BOS_ID

V, E, H = 13, 5, 4


def model(cell: str, layers: int = 2) -> RNNLM:
    torch.manual_seed(3)
    m = RNNLM(V, E, H, layers, cell, dropout=0.0).double().eval()
    with torch.no_grad():  # biases away from zero so every gate term matters
        for p in m.rnn.parameters():
            p.add_(0.3 * torch.randn_like(p))
    return m


@pytest.mark.parametrize("cell", ["lstm", "gru", "gru_cho"])
def test_recomputed_gates_reproduce_the_cells_next_state(cell):
    """The gates' own state equation, step by step over a batch, is the fused cell's state
    (torch.lstm_cell / torch.gru_cell / the loop GRU via RNNLM.step and the batched forward)."""
    m = model(cell)
    tokens = torch.randint(3, V, (7, 3))
    hidden = tuple(torch.randn(2, 3, H, dtype=torch.float64) for _ in range(2 if cell == "lstm" else 1))
    gates, states = trace_gates(m, tokens, hidden)
    stepped = hidden
    with torch.no_grad():
        for t in range(tokens.shape[0]):
            stepped = m.step(tokens[t], stepped)
            for mine, theirs in zip(states[t], stepped, strict=True):
                torch.testing.assert_close(mine, theirs, rtol=1e-12, atol=1e-12)
        out, _ = m.top_states(tokens, hidden)
    torch.testing.assert_close(torch.stack([s[0][-1] for s in states]), out, rtol=1e-12, atol=1e-12)
    assert set(gates) == set(GATE_NAMES[cell])
    for v in gates.values():
        assert v.shape == (2, 7, 3, H) and (v > 0).all() and (v < 1).all()


def test_lstm_gates_are_the_textbook_ones_by_hand():
    """f keeps c, i lets the candidate in, o exposes tanh(c): one unit, hand-set weights."""
    w_ih = torch.tensor([[0.0], [0.0], [1.0], [0.0]], dtype=torch.float64)  # i f g o, input 1-d
    w_hh = torch.zeros(4, 1, dtype=torch.float64)
    b = torch.tensor([0.0, 2.0, 0.0, -1.0], dtype=torch.float64)
    x, h, c = torch.tensor([[0.5]], dtype=torch.float64), torch.zeros(1, 1, dtype=torch.float64), \
        torch.tensor([[0.8]], dtype=torch.float64)
    gates, (h1, c1) = gated_step("lstm", x, (h, c), w_ih, w_hh, b, torch.zeros(4, dtype=torch.float64))
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    assert gates["forget"].item() == pytest.approx(sig(2.0)) and gates["input"].item() == pytest.approx(0.5)
    assert gates["output"].item() == pytest.approx(sig(-1.0))
    assert c1.item() == pytest.approx(sig(2.0) * 0.8 + 0.5 * np.tanh(0.5))
    assert h1.item() == pytest.approx(sig(-1.0) * np.tanh(c1.item()))


def test_gru_update_gate_one_keeps_the_state():
    """A saturated update gate (z = 1) copies h: the GRU's additive path, by hand."""
    w_ih = torch.zeros(3, 1, dtype=torch.float64)
    w_hh = torch.zeros(3, 1, dtype=torch.float64)
    b_ih = torch.tensor([0.0, 50.0, 0.0], dtype=torch.float64)
    h = torch.tensor([[0.37]], dtype=torch.float64)
    for cell in ("gru", "gru_cho"):
        gates, (h1,) = gated_step(cell, torch.ones(1, 1, dtype=torch.float64), (h,), w_ih, w_hh, b_ih, torch.zeros(3, dtype=torch.float64))
        assert gates["update"].item() == pytest.approx(1.0) and gates["reset"].item() == pytest.approx(0.5)
        assert h1.item() == pytest.approx(0.37, rel=1e-12)


def test_corpus_stats_are_the_means_over_every_real_position():
    m = model("lstm", layers=1)
    rng = np.random.default_rng(0)
    sents = [rng.integers(3, V, n).tolist() for n in (1, 4, 9, 2, 6)]
    stats = corpus_gate_stats(m, sents, batch=2)  # batches with padding
    for g in GATE_NAMES["lstm"]:
        values = np.concatenate([sentence_gates(m, s, [str(t) for t in s]).gates[g][0] for s in sents])
        assert values.shape == (sum(len(s) + 1 for s in sents), H)
        want = gate_summary(values)
        got = stats[(0, g)]
        assert got["values"] == want["values"]
        for key in ("mean", "std", "below_0.1", "above_0.9"):
            assert got[key] == pytest.approx(want[key], rel=1e-9, abs=1e-12)


def test_sentence_gates_start_at_bos_and_name_the_tokens():
    m = model("gru", layers=1)
    sg = sentence_gates(m, [4, 5, 6], ["a", "b", "c"])
    assert sg.tokens == ["<s>", "a", "b", "c"] and sg.gates["update"].shape == (1, 4, H)
    gates, _ = trace_gates(m, torch.tensor([[BOS_ID], [4]]), m.init_hidden(1))
    np.testing.assert_array_equal(sg.gates["reset"][0, :2], gates["reset"][0, :, 0].numpy())


@pytest.mark.parametrize("cell", ["rnn_tanh", "rnn_sigmoid"])
def test_a_cell_without_gates_is_refused(cell):
    with pytest.raises(ConfigError, match="has no gates"):
        check_gated(RNNLM(V, E, H, 1, cell), "runs/x")
    with pytest.raises(ConfigError, match="no recurrent cell"):
        check_gated(torch.nn.Linear(2, 2), "runs/x")
