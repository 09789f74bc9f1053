"""The encoder-decoder and its batches: teacher forcing, no leak through padding, attention weights,
greedy = beam 1, a wide beam = brute force, n-best, round trip, and learning to reverse."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from lmlab.errors import ConfigError
from lmlab.generate.beam import beam_search, length_penalty
from lmlab.generate.translate import attention, translate
from lmlab.models.neural.seq2seq import Seq2Seq
from lmlab.tensors.parallel import parallel_batches, source_batches
from lmlab.text.specials import BOS_ID, EOS_ID, PAD_ID
from lmlab.text.vocab import Vocab

PAIRS = [("a b c", "x y"), ("b", "y y x"), ("c a", ""), ("a a b c b", "x"), ("c", "y x y x")]
SRC = Vocab.build([s.split() for s, _ in PAIRS])
TGT = Vocab.build([t.split() for _, t in PAIRS])  # 5 ids: <unk> <s> </s> x y
# (attention, input_feed, cell): every attention type, Luong with and without input feeding
SETUPS = [("none", False, "gru"), ("none", False, "lstm"), ("bahdanau", False, "gru"), ("bahdanau", False, "lstm"),
          ("dot", False, "lstm"), ("general", False, "gru"), ("general", True, "lstm"), ("dot", True, "gru")]


def model(att="bahdanau", feed=False, cell="gru", bi=True, layers=2, seed=0, **kw):
    torch.manual_seed(seed)
    return Seq2Seq(SRC, TGT, emsize=3, hidden_size=4, num_layers=layers, cell=cell, bidirectional=bi,
                   attention=att, input_feed=feed, **kw).double().eval()


def one_batch():
    [b] = parallel_batches(PAIRS, SRC, TGT, batch_size=8)
    return b


def test_parallel_batches_hold_teacher_forcing_inputs_and_outputs():
    [b] = parallel_batches(PAIRS[:2], SRC, TGT, batch_size=8)
    assert b.index == [1, 0]  # by source length
    x, y = TGT.lookup("x"), TGT.lookup("y")
    assert b["source"].tolist() == [[SRC.lookup("b"), SRC.pad_id, SRC.pad_id], SRC.encode(["a", "b", "c"]).tolist()]
    assert b["source_lengths"].tolist() == [1, 3]
    assert b["target_input"].tolist() == [[BOS_ID, y, y, x], [BOS_ID, x, y, TGT.pad_id]]
    assert b["target_output"].tolist() == [[y, y, x, EOS_ID], [x, y, EOS_ID, PAD_ID]]
    assert b["target_lengths"].tolist() == [4, 3] and b.n_items == 7
    [e] = parallel_batches([("a", "")], SRC, TGT)
    assert e["target_input"].tolist() == [[BOS_ID]] and e["target_output"].tolist() == [[EOS_ID]] and e.n_items == 1
    with pytest.raises(ConfigError, match="source line 2 is empty"):
        parallel_batches([("a", "x"), ("", "y")], SRC, TGT)
    [s] = source_batches(["a b", "", "c"], SRC)
    assert s.index == [2, 0] and s.n_items == 2 and set(s.tensors) == {"source", "source_lengths"}  # "" left out
    shuffled = parallel_batches(PAIRS * 9, SRC, TGT, batch_size=4, shuffle=True, seed=1)
    assert sorted(i for b in shuffled for i in b.index) == list(range(45))


@pytest.mark.parametrize("att,feed,cell", SETUPS)
def test_a_padded_batch_equals_each_pair_alone(att, feed, cell):
    m = model(att, feed, cell)
    b = one_batch()
    loss, n = m.loss(b)
    assert n == b.n_items == sum(len(t.split()) + 1 for _, t in PAIRS)
    loss.backward()
    grads = [p.grad.clone() for p in m.parameters()]
    greedy = dict(zip(b.index, m.greedy(b), strict=True))
    total, summed = 0.0, [torch.zeros_like(p) for p in m.parameters()]
    for one in parallel_batches(PAIRS, SRC, TGT, batch_size=1):
        m.zero_grad()
        lo, _ = m.loss(one)
        lo.backward()
        total += float(lo.detach())
        for s, p in zip(summed, m.parameters(), strict=True):
            s += p.grad
        [g] = m.greedy(one)
        want = greedy[one.index[0]]
        assert g.tokens == want.tokens and g.finished == want.finished
        assert math.isclose(g.logprob, want.logprob, abs_tol=1e-10)
    assert math.isclose(total, float(loss.detach()), abs_tol=1e-10)
    for gb, gs in zip(grads, summed, strict=True):
        torch.testing.assert_close(gb, gs, rtol=0, atol=1e-10)


@pytest.mark.parametrize("att,feed,cell", SETUPS)
def test_greedy_scores_equal_teacher_forcing_on_its_output_and_beam_1_is_greedy(att, feed, cell):
    """The stepped decoder (decoding) and the teacher-forced one (training, fused where it can be)
    compute the same log-probabilities; beam 1 through the one beam search is greedy decoding."""
    m = model(att, feed, cell)
    b = one_batch()
    decoded = m.greedy(b, max_len=6)
    for row, ((dec, start, limit), d) in enumerate(zip(m.beam_decoders(b, max_len=6), decoded, strict=True)):
        [h] = beam_search(dec, start, start_token=BOS_ID, beam=1, max_len=limit, banned=[BOS_ID])
        assert list(h.tokens) == d.tokens and h.finished == d.finished
        assert math.isclose(h.logprob, d.logprob, abs_tol=1e-10)
        out = d.tokens + [EOS_ID] * d.finished
        with torch.no_grad():
            mem = m.encode(b["source"][row : row + 1], b["source_lengths"][row : row + 1])
            logits, _ = m.teacher_forced(mem, torch.tensor([[BOS_ID] + out[:-1]]))
        lp = torch.log_softmax(logits[0], 1)
        assert math.isclose(float(lp[range(len(out)), out].sum()), d.logprob, abs_tol=1e-10)
    via = translate(m, b, beam=1, max_len=6)
    assert [list(h.tokens) for [h] in via] == [d.tokens for d in decoded]


@pytest.mark.parametrize("att,feed,cell", [s for s in SETUPS if s[0] != "none"])
def test_attention_weights_sum_to_one_over_the_true_source_and_are_zero_on_padding(att, feed, cell):
    m = model(att, feed, cell)
    b = one_batch()
    with torch.no_grad():
        _, attn = m.teacher_forced(m.encode(b["source"], b["source_lengths"]), b["target_input"])
    B, T, S = attn.shape
    assert (B, S) == tuple(b["source"].shape) and T == b["target_input"].shape[1]
    for row, n in enumerate(b["source_lengths"].tolist()):
        assert float(attn[row, :, n:].abs().sum()) == 0.0
        torch.testing.assert_close(attn[row, :, :n].sum(1), torch.ones(T, dtype=attn.dtype), rtol=0, atol=1e-12)
        assert bool((attn[row, :, :n] > 0).all())
    hyps = translate(m, b, beam=2, max_len=4)
    weights = attention(m, b, [h[0] for h in hyps])
    for w, h, n in zip(weights, hyps, b["source_lengths"].tolist(), strict=True):
        assert w.shape == (h[0].length, n)
        np.testing.assert_allclose(w.sum(1), 1.0, atol=1e-12)


def test_a_model_without_attention_has_no_weights_but_exports_its_context_vector():
    m = model("none", layers=2)
    b = one_batch()
    with pytest.raises(ConfigError, match="no attention"):
        m.attention_weights(b, [[EOS_ID]] * len(b))
    ctx = m.context_vectors(b)
    assert ctx.shape == (len(b), 8)
    final = m.encoder(b["source"], b["source_lengths"]).final[0]  # (L * D, B, H)
    torch.testing.assert_close(ctx, torch.cat([final[2], final[3]], dim=1), rtol=0, atol=0)
    row = b.index.index(0)  # one sentence alone: the backward half is its state after reading back to token 1
    [alone] = source_batches([PAIRS[0][0]], SRC)
    torch.testing.assert_close(m.context_vectors(alone)[0], ctx[row], rtol=0, atol=1e-12)


@pytest.mark.parametrize("att,feed,cell", [("none", False, "gru"), ("bahdanau", False, "lstm"),
                                           ("general", True, "gru")])
@pytest.mark.parametrize("alpha", [0.0, 1.0])
def test_a_wide_beam_equals_brute_force_over_every_target_sentence(att, feed, cell, alpha):
    m = model(att, feed, cell)
    b = one_batch()
    max_len = 3
    hyps = translate(m, b, beam=100, nbest=6, max_len=max_len, alpha=alpha)
    for row, (dec, start, _) in enumerate(m.beam_decoders(b)):
        words = [t for t in range(len(TGT)) if t not in (BOS_ID, EOS_ID)]
        want = []
        for n in range(max_len):
            for seq in itertools.product(words, repeat=n):
                out = list(seq) + [EOS_ID]
                state, lp = start, 0.0
                for prev, tok in zip([BOS_ID, *out[:-1]], out, strict=True):
                    lps, (state,) = dec.step([state], [prev])
                    lp += float(lps[0, tok])
                want.append((lp / length_penalty(len(out), alpha), seq))
        want.sort(key=lambda w: -w[0])
        got = hyps[row]
        assert [h.tokens for h in got] == [w[1] for w in want[:6]]
        np.testing.assert_allclose([h.score for h in got], [w[0] for w in want[:6]], rtol=1e-12)
        assert all(h.finished for h in got)


def test_nbest_lists_are_sorted_and_distinct():
    m = model("dot", False, "lstm")
    for hyps in translate(m, one_batch(), beam=8, nbest=8, max_len=5, alpha=0.6):
        assert len(hyps) == 8
        scores = [h.score for h in hyps if h.finished]
        assert scores == sorted(scores, reverse=True)
        assert len({(h.tokens, h.finished) for h in hyps}) == 8


def test_a_config_round_trip_gives_identical_predictions():
    m = model("general", True, "lstm", decoder_hidden_size=5)
    config = json.loads(json.dumps(m.config_dict()))
    assert config["kind"] == "seq2seq" == Seq2Seq.kind and config["decoder_hidden_size"] == 5
    again = Seq2Seq.from_config(config, {"source": SRC, "target": TGT}).double().eval()
    again.load_state_dict(m.state_dict())
    b = one_batch()
    assert again.predict(b) == m.predict(b)
    assert translate(again, b, beam=3, nbest=2) == translate(m, b, beam=3, nbest=2)
    assert set(m.vocabs) == {"source", "target"}
    with pytest.raises(ConfigError, match="unknown seq2seq settings: colour"):
        Seq2Seq.from_config({**config, "colour": 1}, m.vocabs)


def test_bad_settings_are_errors():
    with pytest.raises(ConfigError, match="dot attention needs"):
        Seq2Seq(SRC, TGT, hidden_size=4, attention="dot", decoder_hidden_size=5)
    with pytest.raises(ConfigError, match="input feeding"):
        Seq2Seq(SRC, TGT, attention="bahdanau", input_feed=True)
    with pytest.raises(ConfigError, match="attention must be one of"):
        Seq2Seq(SRC, TGT, attention="luong")


def test_no_bos_is_ever_decoded_and_max_len_is_kept():
    m = model("none")
    with torch.no_grad():
        m.out.bias[BOS_ID] = 50.0  # <s> would win every step
        m.out.bias[EOS_ID] = -50.0  # and </s> never
    for d in m.greedy(one_batch(), max_len=4):
        assert BOS_ID not in d.tokens and len(d.tokens) == 4 and not d.finished


@pytest.mark.parametrize("att", ["bahdanau", "general"])
def test_a_short_run_learns_to_reverse_sequences(att):
    rng = np.random.default_rng(0)
    letters = "abcdef"
    pairs = []
    for _ in range(40):
        s = [letters[i] for i in rng.integers(0, 6, size=int(rng.integers(2, 6)))]
        pairs.append((" ".join(s), " ".join(reversed(s))))
    vocab = Vocab.from_tokens(list(letters))
    torch.manual_seed(0)
    m = Seq2Seq(vocab, vocab, emsize=16, hidden_size=24, cell="gru", attention=att)
    opt = torch.optim.Adam(m.parameters(), lr=0.03)
    [b] = parallel_batches(pairs, vocab, vocab, batch_size=64)
    for _ in range(120):
        opt.zero_grad()
        loss, n = m.loss(b)
        (loss / n).backward()
        opt.step()
    m.eval()
    got = dict(zip(b.index, m.predict(b), strict=True))
    right = sum(vocab.decode(got[i]) == t.split() for i, (_, t) in enumerate(pairs))
    assert right == len(pairs)
