"""lmlab.kenlm: KenLM's Python API, checked against KenLM's own query output and itself."""

from __future__ import annotations

import numpy as np
import pytest

from lmlab import kenlm
from tests.conftest import read_lines


@pytest.fixture(scope="module")
def toy(kenlm_ref):
    return kenlm.Model(kenlm_ref / "toy.o3.arpa"), read_lines(kenlm_ref / "toytest.txt"), read_lines(
        kenlm_ref / "toy.query.txt"
    )


def _expected(line):
    out = []
    for field in line.split("\t")[:-1]:
        word_id, n, val = field.rsplit(" ", 2)
        out.append((float(val), int(n), word_id.endswith("=0")))
    return out


def test_full_scores_match_kenlm_query(toy):
    model, lines, expected = toy
    for line, exp in zip(lines, expected, strict=False):
        got = list(model.full_scores(line))
        assert [(n, oov) for _, n, oov in got] == [(n, oov) for _, n, oov in _expected(exp)]
        assert [p for p, _, _ in got] == pytest.approx([p for p, _, _ in _expected(exp)], abs=1e-6)
        assert model.score(line) == pytest.approx(sum(p for p, _, _ in got), abs=1e-9)


def test_state_api_equals_score(toy):
    model, lines, _ = toy
    for line in lines:
        state, out = kenlm.State(), kenlm.State()
        model.BeginSentenceWrite(state)
        total = 0.0
        for w in line.split() + ["</s>"]:
            total += model.BaseScore(state, w, out)
            state, out = out, state
        assert total == pytest.approx(model.score(line), abs=1e-9)


def test_null_context_and_flags(toy):
    model, _, _ = toy
    st, out = kenlm.State(), kenlm.State()
    model.NullContextWrite(st)
    r = model.BaseFullScore(st, "cat", out)
    assert r.log_prob == pytest.approx(-1.2193784, abs=1e-6) and r.ngram_length == 1 and not r.oov
    assert model.score("cat", bos=False, eos=False) == pytest.approx(r.log_prob)
    assert [t[1] for t in model.full_scores("the cat", bos=False, eos=False)] == [1, 2]
    assert "cat" in model and "bird" not in model and model.order == 3
    assert model.perplexity("the cat sat on the log") == pytest.approx(
        10 ** (-model.score("the cat sat on the log") / 7)
    )
    a, b = kenlm.State(), kenlm.State()
    model.BeginSentenceWrite(a)
    model.BeginSentenceWrite(b)
    assert a == b and hash(a) == hash(b)


def test_shakespeare_o5_sentence_totals(kenlm_ref, data_root):
    model = kenlm.Model(kenlm_ref / "shakes.o5.arpa.gz")
    lines = read_lines(data_root / "tinyshakespeare" / "input.txt")[36000:]
    expected = read_lines(kenlm_ref / "query.o5.txt")
    for line, exp in zip(lines[:500], expected[:500], strict=True):
        total = float(exp.rsplit("Total: ", 1)[1].split(" ")[0])
        assert model.score(line) == pytest.approx(total, abs=1e-4)


def test_kernels_through_entry_points_equal_the_dispatcher():
    """The per-call fast path (compiled entry points) is taken and gives the dispatcher's results."""
    from numba.core.registry import CPUDispatcher

    from lmlab.models.ngram import fastkernels as fq
    from lmlab.models.ngram.model import NgramLM

    lm = NgramLM(3, "witten_bell").fit(["a b c a", "b c d", "a c"])
    fast = lm.fast
    ids = lm.vocab.encode("a b zz c".split()).astype(np.int64)
    nowhere = np.empty(0)
    assert fast.score_sentence(ids, True, True) == fq._sentence_scores(fast.buf, fast.meta, ids, True, True, 1.0, nowhere)
    assert fast.score_sentence(ids.astype(np.int32), False, True) == fq._sentence_scores(
        fast.buf, fast.meta, ids, False, True, 1.0, nowhere)
    state = fast.begin_state()
    assert fast.step(state, int(ids[0])) == fq._step(fast.buf, fast.meta, state, int(ids[0]))
    assert fast.step_function()(state, int(ids[0])) == fast.step(state, int(ids[0]))
    assert all(not isinstance(fn, CPUDispatcher) for fn in fast._entries.values())
