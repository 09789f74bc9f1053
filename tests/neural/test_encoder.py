"""The recurrent encoder over padded batches: no leak through padding in either direction."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from lmlab.errors import ConfigError  # noqa: E402
from lmlab.models.neural.encoder import RecurrentEncoder  # noqa: E402
from lmlab.models.neural.rnn import RNNLM  # noqa: E402


V, E, H = 11, 3, 4
LENGTHS = [4, 1, 3, 2]
SETUPS = [(cell, bi) for cell in ("lstm", "gru", "rnn_tanh", "rnn_relu") for bi in (False, True)]
SETUPS += [("rnn_sigmoid", False), ("gru_cho", False)]


def encoder(cell, bi, layers=2, seed=0):
    torch.manual_seed(seed)
    return RecurrentEncoder(V, E, H, layers, cell, bidirectional=bi).double()


def padded_batch(seed=1):
    g = torch.Generator().manual_seed(seed)
    tokens = torch.randint(0, V, (len(LENGTHS), max(LENGTHS)), generator=g)  # padding holds real ids
    return tokens, torch.tensor(LENGTHS)


def loss_of(out):
    return out.states.sum() + sum(f.sum() for f in out.final)


@pytest.mark.parametrize("cell,bi", SETUPS)
def test_a_padded_batch_equals_each_sequence_alone(cell, bi):
    enc = encoder(cell, bi)
    tokens, lengths = padded_batch()
    out = enc(tokens, lengths)
    D = 2 if bi else 1
    assert out.states.shape == (4, 4, D * H) and all(f.shape == (2 * D, 4, H) for f in out.final)
    loss_of(out).backward()
    batch_grads = [p.grad.clone() for p in enc.parameters()]
    summed = [torch.zeros_like(p) for p in enc.parameters()]
    for b, n in enumerate(LENGTHS):
        enc.zero_grad()
        alone = enc(tokens[b : b + 1, :n], torch.tensor([n]))
        torch.testing.assert_close(out.states[b, :n], alone.states[0], rtol=0, atol=1e-12)
        assert float(out.states[b, n:].detach().abs().sum()) == 0.0  # padding states are zero
        for fb, fa in zip(out.final, alone.final, strict=True):
            torch.testing.assert_close(fb[:, b], fa[:, 0], rtol=0, atol=1e-12)
        loss_of(alone).backward()
        for s, p in zip(summed, enc.parameters(), strict=True):
            s += p.grad
    for gb, gs in zip(batch_grads, summed, strict=True):
        torch.testing.assert_close(gb, gs, rtol=0, atol=1e-10)


@pytest.mark.parametrize("cell,bi", SETUPS)
def test_final_states_are_the_states_at_the_true_ends(cell, bi):
    enc = encoder(cell, bi)
    tokens, lengths = padded_batch()
    with torch.no_grad():
        out = enc(tokens, lengths)
    top_fwd = out.final[0][-2 if bi else -1]
    for b, n in enumerate(LENGTHS):
        torch.testing.assert_close(top_fwd[b], out.states[b, n - 1, :H], rtol=0, atol=0)
        if bi:  # the backward direction ends (after reading everything) at position 0
            torch.testing.assert_close(out.final[0][-1][b], out.states[b, 0, H:], rtol=0, atol=0)


def test_the_backward_direction_starts_at_the_true_last_token():
    """By hand: the backward state at position 0 is the cell run over the true tokens reversed."""
    enc = encoder("rnn_tanh", True, layers=1)
    tokens, lengths = padded_batch()
    with torch.no_grad():
        out = enc(tokens, lengths)
        r = enc.rnn
        for b, n in enumerate(LENGTHS):
            h = torch.zeros(1, H, dtype=torch.float64)
            for t in reversed(range(n)):
                x = enc.embedding(tokens[b : b + 1, t])
                h = torch.tanh(x @ r.weight_ih_l0_reverse.t() + r.bias_ih_l0_reverse
                               + h @ r.weight_hh_l0_reverse.t() + r.bias_hh_l0_reverse)
                torch.testing.assert_close(out.states[b, t, H:], h[0], rtol=0, atol=1e-12)
            # and had padding been read, position 0 would differ (the test can fail)
            if n < 4:
                whole = enc(tokens[b : b + 1], torch.tensor([4]))
                assert not torch.allclose(whole.states[0, 0, H:], h[0])


@pytest.mark.parametrize("cell", ["lstm", "gru_cho"])
def test_the_unidirectional_encoder_is_the_language_models_stack(cell):
    """Same cell mapping as RNNLM: with its weights, the encoder gives the LM's top states."""
    torch.manual_seed(3)
    lm = RNNLM(V, E, H, 2, cell, dropout=0.0).double().eval()
    enc = encoder(cell, False).eval()
    enc.embedding.load_state_dict(lm.encoder.state_dict())
    enc.rnn.load_state_dict(lm.rnn.state_dict())
    tokens, lengths = padded_batch()
    with torch.no_grad():
        out = enc(tokens, lengths)
        for b, n in enumerate(LENGTHS):
            top, _ = lm.top_states(tokens[b : b + 1, :n].t(), lm.init_hidden(1))
            torch.testing.assert_close(out.states[b, :n], top[:, 0], rtol=0, atol=1e-12)


def test_features_are_concatenated_and_bad_input_refused():
    torch.manual_seed(0)
    enc = RecurrentEncoder(V, E, H, 1, "gru", bidirectional=True, feature_size=2).double()
    tokens, lengths = padded_batch()
    feats = torch.randn(4, 4, 2, dtype=torch.float64)
    out = enc(tokens, lengths, features=feats)
    assert out.states.shape == (4, 4, 2 * H)
    with pytest.raises(ConfigError, match="5 input features"):
        enc(tokens, lengths)
    with pytest.raises(ConfigError, match="1..4"):
        enc(tokens, torch.tensor([4, 0, 3, 2]), features=feats)
    with pytest.raises(ConfigError, match="no bidirectional form"):
        RecurrentEncoder(V, E, H, 1, "gru_cho", bidirectional=True)


def test_a_torch_decoder_over_the_encoder_runs_on_the_one_beam_search():
    """The step protocol for a seq2seq-style decoder: batched hidden states, conditioned on an
    encoded source; a wide beam equals brute-force enumeration of every target sentence."""
    import math

    import numpy as np

    from lmlab.generate.beam import beam_search
    from lmlab.text.specials import BOS_ID, EOS_ID

    torch.manual_seed(5)
    enc = RecurrentEncoder(V, E, H, 1, "gru", bidirectional=True).double().eval()
    cell = torch.nn.GRUCell(E, 2 * H).double()
    emb, out = torch.nn.Embedding(5, E).double(), torch.nn.Linear(2 * H, 5).double()

    class Decoder:
        @torch.no_grad()
        def step(self, states, tokens):
            h = cell(emb(torch.tensor(tokens)), torch.stack(states))
            lp = torch.log_softmax(out(h), dim=-1)
            lp[:, BOS_ID] = float("-inf")
            return lp.numpy(), list(h.unbind(0))

    tokens, lengths = padded_batch()
    with torch.no_grad():
        h0 = enc(tokens[:1], lengths[:1]).final[0]  # (2, 1, H): both directions' final states
    start = torch.cat([h0[0, 0], h0[1, 0]])
    dec = Decoder()
    got = beam_search(dec, start, beam=200, nbest=5, max_len=3)
    # brute force: every sentence of at most 3 tokens (</s> included)
    want = []

    def walk(prefix, state, last, lp):
        lps, (new,) = dec.step([state], [last])
        for t in range(5):
            if not np.isfinite(lps[0, t]):
                continue
            if t == EOS_ID:
                want.append((lp + lps[0, t], prefix))
            elif len(prefix) + 1 < 3:
                walk(prefix + (t,), new, t, lp + lps[0, t])

    walk((), start, BOS_ID, 0.0)
    want.sort(key=lambda w: -w[0])
    assert [h.tokens for h in got] == [w[1] for w in want[:5]]
    np.testing.assert_allclose([h.logprob for h in got], [w[0] for w in want[:5]], rtol=1e-12)
    # beam 1 is the greedy loop written out
    state, last, greedy, total = start, BOS_ID, [], 0.0
    for _ in range(4):
        lps, (state,) = dec.step([state], [last])
        last = int(np.argmax(lps[0]))
        total += lps[0, last]
        if last == EOS_ID:
            break
        greedy.append(last)
    [g] = beam_search(dec, start, beam=1, max_len=4)
    assert list(g.tokens) == greedy and math.isclose(g.logprob, total, abs_tol=1e-12)
