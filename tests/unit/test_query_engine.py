"""Every n-gram query path runs the one query engine and scores like the reference.

The paths: the batch scorer (``corpus_log10``), lmlab's KenLM-compatible ``Model``/``State`` API,
``lmlab query`` on the command line, and the ``LanguageModel`` interface (``step``, ``advance``,
``advance_many``, ``next_logprobs``, ``token_logprobs``), on a model estimated from PTB train, as
fitted and as read back from ARPA and ``.lmbin``.  The reference is tests/ngram_reference.py: the
backoff rule written plainly over the sorted tables (no hashing, no states).  Every token of the
sample of PTB test gets the same log10 score from each path to 1e-6.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from lmlab import kenlm as lk
from lmlab.errors import ConfigError
from lmlab.models.ngram.model import NgramLM
from lmlab.text.specials import BOS_ID, EOS_ID
from lmlab.text.vocab import flatten_ids
from tests.cli_run import cli
from tests.ngram_reference import next_log10, reference_log10

LN10 = math.log(10.0)
ATOL = 1e-6  # log10


@pytest.fixture(scope="module")
def ptb_models(ptb, tmp_path_factory):
    """A 4-gram from the first 3000 lines of PTB train: fitted, and read back from ARPA and .lmbin."""
    tmp = tmp_path_factory.mktemp("engine")
    fitted = NgramLM(4, discount_fallback=(0.5, 1, 1.5)).fit(ptb["train"][:3000])
    fitted.to_arpa(tmp / "m.arpa")
    fitted.to_binary(tmp / "m.lmbin")
    fitted.to_binary(tmp / "t.lmbin", trie=True)  # the compact layout: the same kernels, the same scores
    return {"fitted": fitted, "arpa": tmp / "m.arpa", "lmbin": tmp / "m.lmbin", "trie": tmp / "t.lmbin"}


@pytest.fixture(scope="module")
def test_lines(ptb):
    return ptb["test"][:150]


@pytest.fixture(scope="module")
def reference(ptb_models, test_lines):
    """Per line, the reference log10 score of every word and </s>."""
    lm = ptb_models["fitted"]
    enc = [lm.vocab.encode(s.split()) for s in test_lines]
    ids, starts = flatten_ids(enc)
    lp, _ = reference_log10(lm.tables, ids, starts)
    return [lp[starts[i] + 1 : starts[i + 1]] for i in range(len(enc))]


def _lm(ptb_models, source):
    return ptb_models["fitted"] if source == "fitted" else NgramLM.from_arpa(ptb_models["arpa"]) \
        if source == "arpa" else NgramLM.from_binary(ptb_models[source])


@pytest.mark.parametrize("source", ["fitted", "arpa", "lmbin", "trie"])
def test_language_model_paths_equal_the_reference(ptb_models, test_lines, reference, source):
    lm = _lm(ptb_models, source)
    enc = [lm.vocab.encode(s.split()) for s in test_lines]
    batch = lm.corpus_token_logprobs(enc)
    flat, _, _ = lm.corpus_log10(enc)
    np.testing.assert_allclose(flat, np.concatenate(reference), rtol=0, atol=ATOL)
    for e, want, b in zip(enc[:60], reference, batch, strict=False):
        np.testing.assert_allclose(lm.token_logprobs(e) / LN10, want, rtol=0, atol=ATOL)
        np.testing.assert_allclose(b / LN10, want, rtol=0, atol=ATOL)
        state, states, steps = lm.begin_state(), [], []
        for t in [*e.tolist(), EOS_ID]:
            states.append(state)
            lp, nxt = lm.step(state, t)
            assert nxt == lm.advance(state, t)
            steps.append(lp)
            state = nxt
        np.testing.assert_allclose(np.array(steps) / LN10, want, rtol=0, atol=ATOL)
        rows = lm.next_logprobs(states)  # one batch: each row the step's distribution
        np.testing.assert_array_equal(rows[np.arange(len(steps)), [*e.tolist(), EOS_ID]], steps)
        tokens = [*e.tolist(), EOS_ID]
        assert lm.advance_many(states, tokens) == [lm.advance(s, t) for s, t in zip(states, tokens, strict=True)]


@pytest.mark.parametrize("source", ["fitted", "lmbin", "trie"])
def test_next_logprobs_equal_the_reference_distribution(ptb_models, test_lines, source):
    """Whole distributions after real histories (every order of context, OOVs among them)."""
    lm = _lm(ptb_models, source)
    tables = ptb_models["fitted"].tables
    for line in test_lines[:8]:
        ids = [BOS_ID, *lm.vocab.encode(line.split()).tolist()]
        state = lm.begin_state()
        for i in range(1, min(len(ids), 9)):
            want = next_log10(tables, ids[max(0, i - 3) : i]) * LN10
            want[BOS_ID] = -np.inf
            np.testing.assert_allclose(lm.next_logprobs([state])[0], want, rtol=0, atol=ATOL * LN10)
            state = lm.advance(state, ids[i])


@pytest.mark.parametrize("source", ["arpa", "lmbin", "trie"])
def test_kenlm_api_paths_equal_the_reference(ptb_models, test_lines, reference, source):
    model = lk.Model(ptb_models[source])
    for line, want in zip(test_lines, reference, strict=True):
        assert model.score(line) == pytest.approx(float(want.sum()), abs=ATOL * len(want))
        np.testing.assert_allclose([p for p, _, _ in model.full_scores(line)], want, rtol=0, atol=ATOL)
        state, out = lk.State(), lk.State()
        model.BeginSentenceWrite(state)
        got, full = [], []
        for w in [*line.split(), "</s>"]:
            full.append(model.BaseFullScore(state, w, out).log_prob)
            got.append(model.BaseScore(state, w, out))
            state, out = out, state
        np.testing.assert_allclose(got, want, rtol=0, atol=ATOL)
        assert full == got


@pytest.mark.parametrize("source", ["lmbin", "trie"])
def test_query_cli_equals_the_reference(ptb_models, test_lines, reference, capsys, tmp_path, source):
    """``lmlab query`` from the binary: every word's log10 score (printed as float32)."""
    text = tmp_path / "test.txt"
    text.write_text("\n".join(test_lines[:40]) + "\n", encoding="utf-8")
    code, out, _ = cli(capsys, "query", ptb_models[source], "--text", text)
    assert code == 0
    lines = out.splitlines()
    assert len(lines) > 40
    for printed, want in zip(lines[:40], reference, strict=False):
        fields = printed.split("\t")[:-1]
        got = [float(f.rsplit(" ", 1)[1]) for f in fields]
        np.testing.assert_allclose(got, want, rtol=0, atol=ATOL)


def test_states_of_earlier_lmlab_and_bad_states(ptb_models):
    """A tuple of fewer than ``order`` token ids (lmlab's earlier n-gram state) is the state after
    those tokens; anything else that is not a state of the model is refused by name."""
    lm = NgramLM.from_binary(ptb_models["lmbin"])
    a, b = lm.vocab.lookup("the"), lm.vocab.lookup("company")
    new = [lm.begin_state(), lm.advance(lm.null_state(), a), lm.advance(lm.advance(lm.null_state(), a), b)]
    np.testing.assert_array_equal(lm.next_logprobs([(BOS_ID,), (a,), (a, b)]), lm.next_logprobs(new))
    assert lm.advance((a,), b) == new[2] and lm.step((a,), b) == lm.step(new[1], b)
    lm.step(new[0], a)  # bound: step() now tries the compiled kernel first, which must not let these through
    for bad in [(0, 10**9, -1, -1), (1, 2, 3, 4, 5), (len(lm.vocab),), "x", (0, -5, -1, -1), (9, 1, -1, -1),
                (0, 2**70, -1, -1), None]:
        with pytest.raises(ConfigError, match="is not a state of this 4-gram model"):
            lm.next_logprobs([new[0], bad])
        with pytest.raises(ConfigError, match="is not a state of this 4-gram model"):
            lm.step(bad, a)
    assert lm.next_logprobs([]).shape == (0, len(lm.vocab)) and lm.advance_many([], []) == []
    with pytest.raises(ConfigError, match="is not a state of this 4-gram model"):
        lm.step([0, BOS_ID, -1, -1], a)  # a list is not a state tuple (the kernel's unboxing fails on it)
    from lmlab.errors import VocabMismatchError

    for bad_id in (-1, len(lm.vocab), 2**70):
        with pytest.raises(VocabMismatchError, match="outside this model's vocabulary"):
            lm.step(new[0], bad_id)
    assert lm.step(new[0], np.int64(a)) == lm.step(new[0], a)  # numpy ids, as a decoder passes them
    lp, state = lm.step(new[0], BOS_ID)
    assert lp == -math.inf and state == lm.step(new[0], BOS_ID)[1]  # <s> is never predicted; the history moves on


def test_stale_cached_kernels_are_dropped_when_a_fast_module_changes(tmp_path):
    """numba keys a cached kernel on its own file only, and the kernels inline the layout's
    primitives from another file: a change to any ``fast*.py`` must clear every cached kernel."""
    from lmlab.models.ngram.fastlayout import drop_stale_kernels

    (tmp_path / "fastlayout.py").write_text("A = 1\n")
    (tmp_path / "fastkernels.py").write_text("B = 1\n")
    cache = tmp_path / "__pycache__"
    cache.mkdir()
    cached = [cache / "fastkernels._advance-1.py311.nbi", cache / "fastkernels._advance-1.py311.1.nbc"]
    other = cache / "model.something.nbi"
    for p in [*cached, other]:
        p.write_text("x")
    drop_stale_kernels(tmp_path)  # no stamp yet: what is cached cannot be trusted
    assert not any(p.exists() for p in cached) and other.exists()
    for p in cached:
        p.write_text("x")
    drop_stale_kernels(tmp_path)  # sources unchanged: the cache stays
    assert all(p.exists() for p in cached)
    (tmp_path / "fastlayout.py").write_text("A = 2\n")  # a primitive changed, not the kernels' file
    drop_stale_kernels(tmp_path)
    assert not any(p.exists() for p in cached) and other.exists()
