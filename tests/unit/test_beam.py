"""The one beam search: exact answers on hand-made decoders and tiny n-gram models, by brute force."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest

from lmlab.errors import ConfigError
from lmlab.generate.beam import LMDecoder, beam_search, length_penalty, lm_beam_search
from lmlab.generate.decode import generate
from lmlab.models.ngram.model import NgramLM
from lmlab.text.specials import EOS_ID

A, B = 3, 4  # tokens of the hand-made decoders (0 <unk>, 1 <s>, 2 </s>)


class TableDecoder:
    """Next-token distributions written out by hand, looked up by the tokens generated so far.

    A state is the tuple of generated tokens; prefixes not in the table end the sentence."""

    def __init__(self, table: dict[tuple[int, ...], dict[int, float]], vocab_size: int = 5):
        self.table, self.V, self.calls = table, vocab_size, 0

    def dist(self, prefix):
        lp = np.full(self.V, -np.inf)
        for tok, p in self.table.get(prefix, {EOS_ID: 1.0}).items():
            lp[tok] = math.log(p)
        return lp

    def step(self, states, tokens):
        self.calls += 1
        new = [s if t is None else s + (t,) for s, t in zip(states, tokens, strict=True)]
        return np.stack([self.dist(s) for s in new]), new


def brute_force(dist, max_len, alpha=0.0, first=()):
    """Every sequence of at most ``max_len`` tokens ending in </s>: [(score, tokens, logprob)], best first."""
    out = []

    def walk(prefix, lp):
        d = dist(prefix)
        for tok in np.flatnonzero(np.isfinite(d)):
            tok = int(tok)
            total = lp + d[tok]
            if tok == EOS_ID:
                out.append((total / length_penalty(len(prefix) - len(first) + 1, alpha), prefix[len(first):], total))
            elif len(prefix) - len(first) + 1 < max_len:
                walk(prefix + (tok,), total)

    walk(first, 0.0)
    return sorted(out, key=lambda x: -x[0])


# greedy takes a (0.6) then a or b (0.35 each): 0.21; the best sentence is b </s> (0.4 * 0.9 = 0.36)
GREEDY_WRONG = {(): {A: 0.6, B: 0.4}, (A,): {A: 0.35, B: 0.35, EOS_ID: 0.3}, (B,): {EOS_ID: 0.9, A: 0.1}}


def test_greedy_is_wrong_and_beam_2_is_right():
    dec = TableDecoder(GREEDY_WRONG)
    want = brute_force(dec.dist, 5)
    assert want[0][1] == (B,) and want[0][2] == pytest.approx(math.log(0.36))
    greedy = beam_search(dec, (), start_token=None, beam=1, max_len=5)
    assert greedy[0].tokens == (A, A) and greedy[0].logprob == pytest.approx(math.log(0.21))
    best = beam_search(dec, (), start_token=None, beam=2, max_len=5)[0]
    assert best.tokens == (B,) and best.finished and best.logprob == pytest.approx(math.log(0.36))


@pytest.mark.parametrize("beam", [1, 2, 3, 4])
def test_nbest_lists_are_sorted_distinct_and_exhaustive_when_wide(beam):
    dec = TableDecoder(GREEDY_WRONG)
    got = beam_search(dec, (), start_token=None, beam=beam, nbest=beam, max_len=5)
    assert len({h.tokens for h in got}) == len(got) <= beam
    assert [h.score for h in got] == sorted((h.score for h in got), reverse=True)
    wide = beam_search(dec, (), start_token=None, beam=50, nbest=6, max_len=5)
    want = brute_force(dec.dist, 5)[:6]
    assert [h.tokens for h in wide] == [w[1] for w in want]
    np.testing.assert_allclose([h.logprob for h in wide], [w[2] for w in want], rtol=1e-12)


def test_length_normalisation_changes_the_winner_as_the_formula_says():
    # "</s>" (p 0.5, length 1) against "a </s>" (p 0.45, length 2)
    dec = TableDecoder({(): {EOS_ID: 0.5, A: 0.5}, (A,): {EOS_ID: 0.9, B: 0.1}})
    short, long_ = math.log(0.5), math.log(0.45)
    assert short > long_ and short / length_penalty(1, 1.0) < long_ / length_penalty(2, 1.0)
    assert length_penalty(2, 1.0) == pytest.approx(7 / 6) and length_penalty(3, 0.6) == pytest.approx((8 / 6) ** 0.6)
    for alpha, winner in ((0.0, ()), (1.0, (A,))):
        got = beam_search(dec, (), start_token=None, beam=2, nbest=2, max_len=4, alpha=alpha)
        assert got[0].tokens == winner == brute_force(dec.dist, 4, alpha)[0][1]
        assert got[0].score == pytest.approx(got[0].logprob / length_penalty(got[0].length, alpha))


def test_max_len_min_len_bans_and_unfinished_hypotheses():
    dec = TableDecoder({(): {A: 0.7, EOS_ID: 0.3}, (A,): {A: 0.8, EOS_ID: 0.2}, (A, A): {A: 0.9, EOS_ID: 0.1}})
    # two tokens at most, </s> included: "a a" does not end, so it ranks after every finished one
    got = beam_search(dec, (), start_token=None, beam=3, nbest=3, max_len=2)
    assert [(h.tokens, h.finished) for h in got] == [((), True), ((A,), True), ((A, A), False)]
    assert got[2].logprob == pytest.approx(math.log(0.56))
    # beam 1 runs out of length without </s>: the unfinished greedy path is returned
    assert [(h.tokens, h.finished) for h in beam_search(dec, (), start_token=None, beam=1, max_len=2)] == [((A, A), False)]
    got = beam_search(dec, (), start_token=None, beam=2, nbest=2, max_len=5, min_len=1)
    assert all(len(h.tokens) >= 1 for h in got)
    got = beam_search(dec, (), start_token=None, beam=2, nbest=2, max_len=5, banned=[A])
    assert [h.tokens for h in got] == [()]
    with pytest.raises(ConfigError, match="nbest must be in 1..beam"):
        beam_search(dec, (), beam=2, nbest=3)
    with pytest.raises(ConfigError, match="beam must be >= 1"):
        beam_search(dec, (), beam=0)


def test_the_every_mode_finishes_every_hypothesis_and_prunes_exactly():
    dec = TableDecoder(GREEDY_WRONG)
    want = brute_force(dec.dist, 5)
    got = beam_search(dec, (), start_token=None, beam=50, nbest=3, max_len=5, finish="every")
    assert [h.tokens for h in got] == [w[1] for w in want[:3]]
    assert got[0].score >= got[1].score >= got[2].score
    # beam 1: "a" ends (0.18) and is followed by "a a" (0.21), which ends
    got = beam_search(dec, (), start_token=None, beam=1, nbest=1, max_len=5, finish="every")
    assert got[0].tokens == (A, A) and got[0].logprob == pytest.approx(math.log(0.21))
    # pruning: once "b </s>" (0.36) is finished, no live extension (0.21, 0.21, 0.04) can beat it
    dec = TableDecoder(GREEDY_WRONG)
    got = beam_search(dec, (), start_token=None, beam=50, nbest=1, max_len=5, finish="every")
    assert got[0].tokens == (B,) and dec.calls == 2


def test_a_seq2seq_style_decoder_starts_from_its_start_token():
    seen = []

    class Echo(TableDecoder):
        def step(self, states, tokens):
            seen.append(list(tokens))
            return super().step(states, tokens)

    got = beam_search(Echo({(1,): {A: 1.0}, (1, A): {EOS_ID: 1.0}}), (), beam=2, max_len=5)
    assert seen[0] == [1] and got[0].tokens == (A,) and got[0].logprob == pytest.approx(0.0)


TRAIN = ["the cat sat on the mat", "the dog sat on the log", "a cat saw a dog", "the cat ran"] * 3


@pytest.fixture(scope="module")
def lm():
    return NgramLM(3, "witten_bell").fit(TRAIN)


@pytest.mark.parametrize("prompt", ["", "the", "a cat", "the dog sat"])
def test_beam_1_is_greedy_generation(lm, prompt):
    for max_len in (3, 8):
        g = generate(lm, prompt, greedy=True, max_tokens=max_len)
        [h] = lm_beam_search(lm, prompt, beam=1, max_len=max_len)
        assert [lm.vocab[t] for t in h.tokens] == g.tokens and h.finished == g.stopped
        assert h.logprob == pytest.approx(sum(g.logprobs), abs=1e-12)


def test_beam_over_an_ngram_model_equals_brute_force():
    lm = NgramLM(2, "witten_bell").fit(["a b", "b a", "a a b", "b"])
    ban = {0, 1}

    def dist(prefix):
        state = lm.begin_state()
        for t in prefix:
            state = lm.advance(state, t)
        lp = lm.next_logprobs([state])[0].copy()
        lp[list(ban)] = -np.inf
        return lp

    want = brute_force(dist, 4)
    got = lm_beam_search(lm, beam=500, nbest=8, max_len=4)
    assert [h.tokens for h in got] == [w[1] for w in want[:8]]
    np.testing.assert_allclose([h.logprob for h in got], [w[2] for w in want[:8]], rtol=1e-12)
    # each log-probability is the model's own sentence log-probability
    for h in got:
        assert h.logprob == pytest.approx(lm.sentence_logprob([lm.vocab[t] for t in h.tokens]), abs=1e-12)
    assert lm_beam_search(lm, beam=3, max_len=4)[0].tokens == want[0][1]
    alpha = 0.8
    want_a = brute_force(dist, 4, alpha)
    got_a = lm_beam_search(lm, beam=500, nbest=5, max_len=4, alpha=alpha)
    assert [h.tokens for h in got_a] == [w[1] for w in want_a[:5]]


def test_lm_decoder_is_advance_then_next_logprobs(lm):
    dec = LMDecoder(lm)
    start = [lm.begin_state(), lm.begin_state()]
    toks = [lm.vocab.lookup("the"), lm.vocab.lookup("a")]
    lps, states = dec.step(start, toks)
    assert states == lm.advance_many(start, toks)
    np.testing.assert_array_equal(lps, lm.next_logprobs(states))
    lps0, states0 = dec.step(start[:1], [None])  # None: the state has read its history
    assert states0 == start[:1]
    np.testing.assert_array_equal(lps0, lm.next_logprobs(start[:1]))


def test_beam_imports_no_torch():
    import subprocess

    code = "import sys, lmlab.generate.beam, lmlab.generate.complete; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


@pytest.mark.parametrize("alpha", [0.0, 1.5])
def test_generate_nbest_are_the_beam_searchs_own_best_first(lm, alpha):
    """``lmlab generate --beam N --nbest K --alpha A`` (and the API, through ``generated``) prints the
    one beam search's K best, best first by the length-normalised score."""
    from lmlab.generate.decode import generated

    want = lm_beam_search(lm, "the", beam=4, nbest=3, max_len=6, alpha=alpha)
    got = list(generated([lm], "the", beam=4, nbest=3, max_tokens=6, alpha=alpha))
    assert [t for t, _ in got] == [" ".join(["the", *(lm.vocab[i] for i in h.tokens)]) for h in want]
    assert [lp for _, lp in got] == [h.logprob for h in want] and len({t for t, _ in got}) == 3
    scores = [h.score for h in want]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize("kw, message", [({"nbest": 2}, "nbest has no effect without beam"),
                                         ({"alpha": 0.6}, "alpha has no effect without beam"),
                                         ({"beam": 2, "nbest": 3}, "nbest 3 is more than the beam keeps (2)"),
                                         ({"beam": 2, "alpha": -1.0}, "alpha must be a number >= 0"),
                                         ({"greedy": True, "n": 3}, "n has no effect with greedy"),
                                         ({"temperature": 0, "n": 2}, "n has no effect with temperature 0 (greedy)"),
                                         ({"temperature": 0, "top_k": 2}, "top_k has no effect with temperature 0")])
def test_generate_refuses_knobs_where_they_mean_nothing(lm, kw, message):
    from lmlab.generate.decode import generated

    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        list(generated([lm], "the", **kw))


def test_temperature_zero_is_greedy(lm):
    from lmlab.generate.decode import generated

    assert list(generated([lm], "the", temperature=0)) == list(generated([lm], "the", greedy=True))


def test_generate_cli_prints_the_nbest(lm, tmp_path, capsys):
    from lmlab.cli.main import main

    from lmlab.models.loading import load
    from lmlab.models.ngram.model_files import save_arpa

    arpa = tmp_path / "lm.arpa"
    save_arpa(lm, arpa)
    assert main(["generate", str(arpa), "--prompt", "the", "--beam", "4", "--nbest", "3", "--alpha", "0.6",
                 "--max_tokens", "6", "--scores"]) == 0
    lines = capsys.readouterr().out.splitlines()
    back = load(str(arpa))
    want = lm_beam_search(back, "the", beam=4, nbest=3, max_len=6, alpha=0.6)
    assert len(want) == 3
    assert [line.split("\t", 1)[1] for line in lines] == [" ".join(["the", *(back.vocab[i] for i in h.tokens)])
                                                          for h in want]
    assert [float(line.split("\t")[0]) for line in lines] == [round(h.logprob / math.log(10), 3) for h in want]
