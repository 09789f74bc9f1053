"""Each recurrent cell against hand-written equations (numpy, float64) and PyTorch's modules."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from lmlab.models.neural.build import build_model  # noqa: E402
from lmlab.models.neural.config import RNNLMConfig  # noqa: E402


def sig(x):
    return 1 / (1 + np.exp(-x))


def hand_step(cell, x, h, c, w_ih, w_hh, b_ih, b_hh):
    """The textbook equations, written out in numpy (gate order as PyTorch stores them)."""
    H = h.shape[1]
    gi, gh = x @ w_ih.T + b_ih, h @ w_hh.T + b_hh
    if cell == "lstm":
        i, f, g, o = (sig(gi[:, :H] + gh[:, :H]), sig(gi[:, H:2*H] + gh[:, H:2*H]),
                      np.tanh(gi[:, 2*H:3*H] + gh[:, 2*H:3*H]), sig(gi[:, 3*H:] + gh[:, 3*H:]))
        c = f * c + i * g
        return o * np.tanh(c), c
    if cell == "gru":  # PyTorch's: reset applied after the recurrent product
        r, z = sig(gi[:, :H] + gh[:, :H]), sig(gi[:, H:2*H] + gh[:, H:2*H])
        n = np.tanh(gi[:, 2*H:] + r * gh[:, 2*H:])
        return (1 - z) * n + z * h, c
    if cell == "gru_cho":  # Cho et al. 2014: reset applied before the product
        r, z = sig(gi[:, :H] + gh[:, :H]), sig(gi[:, H:2*H] + gh[:, H:2*H])
        n = np.tanh(gi[:, 2*H:] + (r * h) @ w_hh[2*H:].T + b_hh[2*H:])
        return (1 - z) * n + z * h, c
    pre = gi + gh
    return {"rnn_tanh": np.tanh, "rnn_relu": lambda v: np.maximum(v, 0), "rnn_sigmoid": sig}[cell](pre), c


@pytest.mark.parametrize("cell", ["rnn_tanh", "rnn_relu", "rnn_sigmoid", "lstm", "gru", "gru_cho"])
def test_forward_and_step_equal_hand_stepped_cells(cell):
    torch.manual_seed(0)
    V, E, H, L, T, B = 11, 5, 4, 2, 6, 3
    model = build_model(RNNLMConfig(vocab_size=V, emsize=E, nhid=H, nlayers=L, cell=cell, dropout=0.0)).double().eval()
    tokens = torch.randint(0, V, (T, B))
    hidden = tuple(torch.randn(L, B, H, dtype=torch.float64) for _ in range(2 if cell == "lstm" else 1))
    with torch.no_grad():
        logits, _ = model(tokens, hidden)
        out = model.encoder(tokens).numpy()
        h = [hidden[0][l].numpy() for l in range(L)]
        c = [hidden[1][l].numpy() if cell == "lstm" else None for l in range(L)]
        tops = []
        stepped = hidden
        for t in range(T):
            x = out[t]
            for layer in range(L):
                p = [getattr(model.rnn, f"{n}_l{layer}").detach().numpy() for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
                h[layer], c[layer] = hand_step(cell, x, h[layer], c[layer], *p)
                x = h[layer]
            tops.append(x)
            stepped = model.step(tokens[t], stepped)
            np.testing.assert_allclose(stepped[0][-1].numpy(), x, rtol=0, atol=1e-10)
        want = np.stack(tops) @ model.decoder.weight.detach().numpy().T + model.decoder.bias.detach().numpy()
        got = logits.numpy().copy()
        got[..., 1] = want[..., 1]  # <s> is masked to -inf on purpose
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-10)
        assert np.all(np.isneginf(logits[..., 1].numpy()))


@pytest.mark.parametrize("init", ["orthogonal", "identity"])
def test_recurrent_inits(init):
    model = build_model(RNNLMConfig(vocab_size=7, emsize=4, nhid=4, nlayers=1, cell="rnn_relu", init=init))
    w = model.rnn.weight_hh_l0.detach()
    if init == "identity":
        assert torch.equal(w, torch.eye(4)) and torch.count_nonzero(model.rnn.bias_hh_l0) == 0
    else:
        assert torch.allclose(w @ w.t(), torch.eye(4), atol=1e-5)


def test_tied_weights_share_storage():
    model = build_model(RNNLMConfig(vocab_size=9, emsize=6, nhid=6, nlayers=1, tied=True))
    assert model.decoder.weight.data_ptr() == model.encoder.weight.data_ptr()


@pytest.mark.parametrize("place", ["dropout_emb", "dropout_between", "dropout_out"])
def test_dropout_rates_apply_to_their_own_place_only(place):
    """Each place's rate is its own: with only ``place`` non-zero, training-mode outputs are random
    (and the other places are not: the same mask seed gives the same output), and in eval mode
    nothing is dropped."""
    import torch

    cfg = RNNLMConfig(vocab_size=11, emsize=6, nhid=6, nlayers=2, cell="lstm", dropout=0.0, **{place: 0.5})
    model = build_model(cfg).train()
    assert cfg.dropouts() == tuple(0.5 if p == place else 0.0
                                    for p in ("dropout_emb", "dropout_between", "dropout_out"))
    assert (model.drop_emb.p, model.rnn.dropout, model.drop_out.p) == cfg.dropouts()
    x = torch.arange(10).reshape(5, 2) % 11
    torch.manual_seed(0)
    a, _ = model(x, model.init_hidden(2))
    b, _ = model(x, model.init_hidden(2))
    assert not torch.allclose(a, b)
    model.eval()
    c, _ = model(x, model.init_hidden(2))
    d, _ = model(x, model.init_hidden(2))
    assert torch.equal(c, d)


def test_dropout_default_and_validation():
    from lmlab.errors import ConfigError
    from lmlab.models.neural.config import config_from_dict

    assert RNNLMConfig(vocab_size=5, dropout=0.3, dropout_out=0.1).dropouts() == (0.3, 0.3, 0.1)
    # configs written before the per-place rates existed load with ``dropout`` everywhere
    assert config_from_dict({"vocab_size": 5, "dropout": 0.4}).dropouts() == (0.4, 0.4, 0.4)
    with pytest.raises(ConfigError) as e:
        config_from_dict({"vocab_size": 5, "dropout_emb": 1.5, "dropout_out": -0.1})
    assert "dropout_emb must be in [0, 1)" in str(e.value) and "dropout_out must be in [0, 1)" in str(e.value)


@pytest.mark.parametrize("cell,keep,bidirectional", [("lstm", 1, False), ("lstm", 1, True), ("gru", 1, True)])
def test_chrono_init_sets_the_keeping_gates_bias_in_every_layer_and_direction(cell, keep, bidirectional):
    """Tallec & Ollivier's chrono initialisation: the bias of the gate that keeps the state (the
    LSTM's forget gate, block 1 of i f g o; the GRU's update gate, block 1 of r z n) is
    log(U(1, T - 1)) in bias_ih with bias_hh's part zero, so the sum is; the LSTM's input gate the
    negative; every other parameter as PyTorch initialised it."""
    from lmlab.models.neural.cells import init_recurrent, recurrent_layers

    torch.manual_seed(0)
    rnn = recurrent_layers(cell, 3, 50, num_layers=2, bidirectional=bidirectional)
    before = {n: p.detach().clone() for n, p in rnn.named_parameters()}
    init_recurrent(rnn, "chrono", cell, chrono_tmax=40)
    H, names = 50, [f"l{layer}{sfx}" for layer in range(2) for sfx in (("", "_reverse") if bidirectional else ("",))]
    for name in names:
        b_ih, b_hh = getattr(rnn, f"bias_ih_{name}").detach(), getattr(rnn, f"bias_hh_{name}").detach()
        b = b_ih[keep * H:(keep + 1) * H]
        assert float(b.min()) >= 0.0 and float(b.max()) <= np.log(39) + 1e-6 and float(b.std()) > 0.3
        assert torch.count_nonzero(b_hh[keep * H:(keep + 1) * H]) == 0
        touched = {keep} | ({0} if cell == "lstm" else set())
        if cell == "lstm":
            assert torch.equal(b_ih[:H], -b) and torch.count_nonzero(b_hh[:H]) == 0
        for g in set(range(b_ih.shape[0] // H)) - touched:
            assert torch.equal(b_ih[g * H:(g + 1) * H], before[f"bias_ih_{name}"][g * H:(g + 1) * H])
        assert torch.equal(getattr(rnn, f"weight_hh_{name}"), before[f"weight_hh_{name}"])


def test_encoder_inits_and_their_errors():
    from lmlab.errors import ConfigError
    from lmlab.models.neural.cells import init_recurrent, recurrent_layers

    rnn = recurrent_layers("gru", 3, 4, num_layers=1, bidirectional=True)
    init_recurrent(rnn, "orthogonal", "gru")
    for sfx in ("", "_reverse"):
        w = getattr(rnn, f"weight_hh_l0{sfx}").detach()
        for g in range(3):
            assert torch.allclose(w[4 * g:4 * (g + 1)] @ w[4 * g:4 * (g + 1)].t(), torch.eye(4), atol=1e-5)
    init_recurrent(rnn, "identity", "gru")
    assert torch.equal(rnn.weight_hh_l0_reverse.detach()[4:8], torch.eye(4))
    assert torch.count_nonzero(rnn.bias_ih_l0_reverse) == 0
    with pytest.raises(ConfigError, match="needs an lstm or gru cell, not 'rnn_tanh'"):
        init_recurrent(recurrent_layers("rnn_tanh", 3, 4), "chrono", "rnn_tanh", chrono_tmax=10)
    with pytest.raises(ConfigError, match="T >= 3"):
        init_recurrent(rnn, "chrono", "gru", chrono_tmax=2)
    with pytest.raises(ConfigError, match="init must be one of"):
        init_recurrent(rnn, "xavier", "gru")
