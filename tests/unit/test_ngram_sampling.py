"""The query engine's sampler (NgramLM.sample_tokens, what generate uses at temperature 1): each
draw comes exactly from next_logprobs' distribution (chi-square over many draws, on models whose
states back off at every order), seeded draws repeat, and the generic path agrees in law."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lmlab.generate.decode import generate
from lmlab.models.ngram.model import NgramLM
from lmlab.text.specials import BOS_ID, EOS_ID, UNK_ID

WORDS = "the cat sat on mat dog log a saw ran".split()
_R = np.random.default_rng(0)
TRAIN = [" ".join(WORDS[(i * 3 + int(_R.integers(0, 4))) % len(WORDS)] for i in range(int(_R.integers(1, 9))))
         for _ in range(300)]  # a Markov-ish toy corpus
TRAIN += ["the q1", "the q2 dog", "a q2", "the q3", "a q3 sat", "cat q3", "the q4", "a q4", "on q4", "dog q4"]


def _chi2_p(observed: np.ndarray, expected: np.ndarray) -> float:
    """Upper-tail p-value of Pearson's statistic (Wilson-Hilferty normal approximation)."""
    keep = expected > 0
    assert observed[~keep].sum() == 0, "drew a token of probability 0"
    stat = float(((observed[keep] - expected[keep]) ** 2 / expected[keep]).sum())
    k = int(keep.sum()) - 1
    if k < 1:
        return 1.0
    z = ((stat / k) ** (1 / 3) - (1 - 2 / (9 * k))) / math.sqrt(2 / (9 * k))
    return 0.5 * math.erfc(z / math.sqrt(2))


def _states(lm):
    """States with every length of matched context, and the null state."""
    v = lm.vocab.lookup
    out = [lm.null_state(), lm.begin_state()]
    for words in (["the"], ["the", "cat"], ["cat", "sat", "on"], ["dog", "cat"], ["mat"], ["log", "a"]):
        s = lm.begin_state()
        for w in words:
            s = lm.advance(s, v(w))
        out.append(s)
    s = lm.null_state()
    out.append(lm.advance(lm.advance(s, v("on")), v("cat")))
    return out


@pytest.fixture(scope="module", params=[("modified_kneser_ney", 3), ("witten_bell", 4), ("stupid_backoff", 3),
                                        ("kneser_ney", 1)])
def lm(request):
    smoothing, order = request.param
    kw = {"discount_fallback": (0.5, 1, 1.5)} if "kneser" in smoothing else {}
    return NgramLM(order, smoothing, **kw).fit(TRAIN)


@pytest.mark.parametrize("banned", [(), (UNK_ID, EOS_ID)])
def test_each_draw_follows_next_logprobs(lm, banned):
    n = 4000
    for i, state in enumerate(_states(lm)):
        lp = lm.next_logprobs([state])[0]
        p = np.exp(lp)
        p[list(banned) + [BOS_ID]] = 0.0
        p /= p.sum()
        rng = np.random.default_rng(100 + i)
        drawn = [lm.sample_tokens(state, rng, 1, banned, stop_at_eos=False)[0][0] for _ in range(n)]
        obs = np.bincount(drawn, minlength=len(p)).astype(float)
        assert _chi2_p(obs, n * p) > 1e-4, (lm.smoothing, state, banned)


def test_logprobs_and_states_along_a_sample(lm):
    rng = np.random.default_rng(5)
    ids, lps, stopped = lm.sample_tokens(lm.begin_state(), rng, 50, (UNK_ID,), stop_at_eos=True)
    state = lm.begin_state()
    for t, got in zip(ids, lps, strict=True):
        assert got == lm.next_logprobs([state])[0, t]  # bit for bit what next_logprobs says
        assert t not in (BOS_ID, UNK_ID)
        state = lm.advance(state, t)
    assert stopped == (ids[-1] == EOS_ID) and EOS_ID not in ids[:-1]


def test_seeded_generation_repeats_and_uses_the_sampler(lm, monkeypatch):
    a = generate(lm, "the", seed=7, max_tokens=40)
    assert a == generate(lm, "the", seed=7, max_tokens=40)
    assert generate(lm, "the", seed=8, max_tokens=40) != a or len(a.tokens) < 3
    # the tokens are those sample_tokens draws with the same seed (no second path in generate)
    state = lm.advance(lm.begin_state(), lm.vocab.lookup("the"))
    ids, lps, stopped = lm.sample_tokens(state, np.random.default_rng(7), 40, (UNK_ID,))
    assert a.tokens == [lm.vocab[t] for t in (ids[:-1] if stopped else ids)] and a.logprobs == lps
    monkeypatch.setattr(type(lm), "sample_tokens", lambda *a, **k: None)  # the generic path
    assert generate(lm, "the", seed=7, max_tokens=40).stopped in (True, False)


def test_generated_sentence_lengths_agree_with_the_generic_path():
    """The sampler and the full-distribution path give the same law of whole sentences: the
    mean length over many seeds agrees within sampling error."""
    lm = NgramLM(3, "witten_bell").fit(TRAIN)
    fast = [len(generate(lm, seed=s, max_tokens=30).tokens) for s in range(1500)]
    base = type(lm).__mro__[1]  # LanguageModel.sample_tokens: None, so generate samples next_logprobs
    lm.sample_tokens = lambda *a, **k: base.sample_tokens(lm, *a, **k)
    slow = [len(generate(lm, seed=10**6 + s, max_tokens=30).tokens) for s in range(1500)]
    se = math.sqrt(np.var(fast) / len(fast) + np.var(slow) / len(slow))
    assert abs(np.mean(fast) - np.mean(slow)) < 4 * se


def test_everything_banned_and_bad_input_are_refused():
    from lmlab.errors import ConfigError, VocabMismatchError

    lm = NgramLM(2, "witten_bell").fit(["a b", "b a"])
    rng = np.random.default_rng(0)
    with pytest.raises(ConfigError, match="no token is left"):
        lm.sample_tokens(lm.begin_state(), rng, 3, range(len(lm.vocab)))
    with pytest.raises(ConfigError, match="not a state of this 2-gram model"):
        lm.sample_tokens((0, 10**6), rng, 3, ())
    with pytest.raises(ConfigError, match="not a state"):
        lm.sample_tokens(("x", "y"), rng, 3, ())
    with pytest.raises(VocabMismatchError):
        lm.sample_tokens(lm.begin_state(), rng, 3, (99,))


def test_a_subclass_that_changes_next_logprobs_is_sampled_through_it():
    class OnlyEos(NgramLM):
        def next_logprobs(self, states):
            out = np.full((len(states), len(self.vocab)), -np.inf)
            out[:, EOS_ID] = 0.0
            return out

    lm = OnlyEos(2, "witten_bell").fit(TRAIN)
    assert lm.sample_tokens(lm.begin_state(), np.random.default_rng(0), 3, ()) is None
    g = generate(lm, seed=1, max_tokens=5)
    assert g.tokens == [] and g.stopped


@pytest.mark.parametrize("layout", [{"quant_bits": 8}, {"trie": True}, {"trie": True, "quant_bits": 8}])
def test_binary_layouts_sample_their_own_distribution(tmp_path, layout):
    """A quantised hash-table file draws through the engine's sampler; a trie file (no
    continuation index) through the generic path: either way each draw follows the file's own
    next_logprobs, and seeded generation repeats."""
    from lmlab.models.loading import load

    lm = NgramLM(3, "witten_bell").fit(TRAIN)
    lm.to_binary(tmp_path / "m.lmbin", **layout)
    back = load(tmp_path / "m.lmbin")
    state = back.advance(back.begin_state(), back.vocab.lookup("the"))
    drawn = back.sample_tokens(state, np.random.default_rng(3), 1, ())
    assert (drawn is None) == bool(layout.get("trie"))
    if drawn is not None:
        n = 3000
        counts = np.zeros(len(back.vocab))
        rng = np.random.default_rng(5)
        for _ in range(n):
            ids, _, _ = back.sample_tokens(state, rng, 1, ())
            counts[ids[0]] += 1
        p = np.exp(back.next_logprobs([state])[0])
        p[BOS_ID] = 0.0
        assert _chi2_p(counts, n * p / p.sum()) > 1e-4
    g = generate(back, "the", seed=4, max_tokens=20)
    assert g == generate(back, "the", seed=4, max_tokens=20)
