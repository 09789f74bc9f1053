"""The LanguageModel contract (lmlab/models/base.py), checked on every kind of model lmlab makes.

Every test taking ``kind`` runs over every kind in tests/contract/kinds.py: each smoother of the
registry in each form, fitted and read back from ARPA, ``.lmbin`` and 8-bit ``.lmbin``;
mixtures; every neural cell.  (The nltk-compatible models, :class:`lmlab.NltkLM`, are not
LanguageModels: their own contract is in ``test_nltk_lm_contract.py``.)  The contract:

* ``next_logprobs``: shape ``(B, V)`` float64, ``-inf`` at ``<s>``, each row a distribution
  (normalised models; the others are checked for what they promise);
* ``token_logprobs``: ``len(ids) + 1`` entries, equal to stepping state by state;
  ``corpus_token_logprobs`` equals it sentence by sentence;
* states are hashable, ``advance`` is deterministic, equal states predict the same, and
  ``advance_many`` equals ``advance``;
* ``evaluate``, ``score_sentences``, a model's own ``perplexity`` and a mixture of the model with
  itself agree with its token scores;
* an OOV is scored as ``<unk>`` and counted;
* saving and loading (``lmlab.load``) gives identical scores.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from lmlab.errors import LmlabError, NotNormalizedError
from lmlab.eval.perplexity import evaluate
from lmlab.eval.scoring import score_sentences
from lmlab.models.mixture import MixtureLM
from lmlab.text.specials import BOS_ID, EOS_ID, UNK_ID
from tests.contract.kinds import TEST, TRAIN, kinds_where, save_any
from tests.ngram_reference import reference_log10

WORDS = "the cat sat on a dog bird".split()  # "bird" is not in the training text


def _states(lm):
    """Histories from the start of a sentence and from no history, one through an OOV."""
    ids = [lm.vocab.lookup(w) for w in WORDS]
    out = [lm.begin_state(), lm.null_state()]
    st = lm.begin_state()
    for i in ids:
        st = lm.advance(st, i)
        out.append(st)
    out.append(lm.advance(lm.advance(lm.null_state(), ids[4]), ids[6]))
    return out


def _encoded(lm, texts=TEST):
    return [lm.encode(s) for s in texts]


def _stepped(lm, ids, state):
    """Per-token log-probabilities by hand: one next_logprobs row per state, then advance."""
    out = []
    for t in ids:
        row = lm.next_logprobs([state])[0]
        lp, nxt = lm.step(state, int(t))
        assert lp == pytest.approx(row[t], abs=1e-12) or lp == row[t]  # step is that row's entry
        out.append(row[t])
        state = lm.advance(state, int(t))
        assert nxt == state
    return np.array(out)


def test_next_logprobs_are_distributions_without_bos(kind, lm):
    states = _states(lm)
    d = lm.next_logprobs(states)
    assert isinstance(d, np.ndarray) and d.dtype == np.float64
    assert d.shape == (len(states), len(lm.vocab))
    assert np.all(np.isneginf(d[:, BOS_ID])), "<s> must never be predicted"
    assert not np.any(np.isnan(d)) and np.all(d <= 1e-9), "log-probabilities (or log-scores) are <= 0"
    if lm.normalized:
        np.testing.assert_allclose(np.exp(d).sum(axis=1), 1.0, rtol=0, atol=1e-6)
    # a row does not depend on the other states of the batch
    for i in (0, 3, len(states) - 1):
        np.testing.assert_allclose(lm.next_logprobs([states[i]])[0], d[i], rtol=0, atol=kind.atol)


def test_token_logprobs_equal_stepping_state_by_state(kind, lm):
    for text, ids in zip(TEST, _encoded(lm), strict=True):
        tl = lm.token_logprobs(ids)
        assert tl.shape == (len(ids) + 1,), "every word and one </s>"
        np.testing.assert_allclose(tl, _stepped(lm, [*ids, EOS_ID], lm.begin_state()), rtol=0, atol=kind.atol)
        assert lm.sentence_logprob(text) == pytest.approx(float(tl.sum()), abs=kind.atol * len(tl))
        np.testing.assert_array_equal(lm.token_logprobs(ids, eos=False), tl[:-1])
        no_bos = lm.token_logprobs(ids, bos=False)
        assert no_bos.shape == tl.shape
        np.testing.assert_allclose(no_bos, _stepped(lm, [*ids, EOS_ID], lm.null_state()), rtol=0, atol=kind.atol)


def test_corpus_token_logprobs_equal_token_logprobs(kind, lm):
    enc = _encoded(lm)
    batch = lm.corpus_token_logprobs(enc)
    assert len(batch) == len(enc)
    for ids, b in zip(enc, batch, strict=True):
        assert b.shape == (len(ids) + 1,)
        np.testing.assert_allclose(b, lm.token_logprobs(ids), rtol=0, atol=kind.atol)
    # sentences are independent: the same scores in another order and batch
    for b, r in zip(batch[::-1], lm.corpus_token_logprobs(enc[::-1]), strict=True):
        np.testing.assert_allclose(r, b, rtol=0, atol=kind.atol)
    assert lm.corpus_token_logprobs([]) == []


def test_states_are_hashable_and_advance_is_deterministic(kind, lm):
    states = _states(lm)
    seen: dict = {}
    t = lm.vocab.lookup("cat")
    for s in states:
        a, b = lm.advance(s, t), lm.advance(s, t)
        assert a == b and hash(a) == hash(b)
        np.testing.assert_array_equal(lm.next_logprobs([a]), lm.next_logprobs([b]))
        seen.setdefault(a, []).append(a)
        seen.setdefault(s, []).append(s)
    # equal states (a dict key: what caches and beam searches rely on) predict the same
    for group in seen.values():
        rows = lm.next_logprobs(group)
        np.testing.assert_allclose(rows, np.broadcast_to(rows[0], rows.shape), rtol=0, atol=kind.atol)
    assert lm.begin_state() == lm.begin_state() and lm.null_state() == lm.null_state()


def test_advance_many_equals_advance(kind, lm):
    states = _states(lm)
    tokens = [lm.vocab.lookup(WORDS[i % len(WORDS)]) for i in range(len(states))]
    many = lm.advance_many(states, tokens)
    one = [lm.advance(s, t) for s, t in zip(states, tokens, strict=True)]
    assert many == one
    np.testing.assert_allclose(lm.next_logprobs(many), lm.next_logprobs(one), rtol=0, atol=kind.atol)
    assert lm.advance_many(states[:1], tokens[:1]) == one[:1]


def test_evaluate_score_sentences_and_perplexity_agree(kind, lm):
    enc = _encoded(lm)
    batch = lm.corpus_token_logprobs(enc)
    for text, sc, b in zip(TEST, score_sentences(lm, TEST), batch, strict=True):
        assert sc.tokens == [*text.split(), "</s>"]
        assert len(sc.logprobs) == len(sc.tokens)
        np.testing.assert_allclose(sc.logprobs, b, rtol=0, atol=kind.atol)
    if not lm.normalized:
        with pytest.raises(NotNormalizedError):
            evaluate(lm, TEST)
        if hasattr(lm, "perplexity"):
            with pytest.raises(NotNormalizedError):
                lm.perplexity(TEST)
        return
    rep = evaluate(lm, TEST)
    total = float(np.concatenate(batch).sum())
    n = sum(len(e) + 1 for e in enc)
    assert (rep.sentences, rep.tokens) == (len(TEST), n)
    assert rep.logprob == pytest.approx(total, rel=1e-12, abs=1e-12)
    assert rep.perplexity == pytest.approx(math.exp(-total / n), rel=1e-12)
    if hasattr(lm, "perplexity"):  # the model's own (nltk.lm-style) perplexity is the same figure
        assert lm.perplexity(TEST) == pytest.approx(rep.perplexity, rel=1e-9)


def test_a_mixture_with_itself_is_the_model(kind, lm):
    if not lm.normalized:
        with pytest.raises(NotNormalizedError):
            MixtureLM([lm, lm])
        return
    mix = MixtureLM([lm, lm], [0.25, 0.75])
    enc = _encoded(lm)
    for a, b in zip(mix.corpus_token_logprobs(enc), lm.corpus_token_logprobs(enc), strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=max(kind.atol, 1e-12))
    ms = [mix.begin_state(), mix.advance(mix.begin_state(), lm.vocab.lookup("cat"))]
    ls = [lm.begin_state(), lm.advance(lm.begin_state(), lm.vocab.lookup("cat"))]
    np.testing.assert_allclose(mix.next_logprobs(ms), lm.next_logprobs(ls), rtol=0, atol=max(kind.atol, 1e-12))
    assert evaluate(mix, TEST).perplexity == pytest.approx(evaluate(lm, TEST).perplexity, rel=1e-9)


def test_oov_is_unk_and_counted(kind, lm):
    assert "bird" not in lm.vocab and "zebra" not in lm.vocab
    ids = lm.encode("a bird sat")
    assert ids.tolist() == [lm.vocab.lookup("a"), UNK_ID, lm.vocab.lookup("sat")]
    assert lm.is_oov(ids).tolist() == [False, True, False]
    np.testing.assert_array_equal(lm.token_logprobs(ids), lm.token_logprobs(lm.encode("a <unk> sat")))
    assert [s.oovs for s in score_sentences(lm, TEST)] == [0, 1, 0, 0, 0, 1]
    if not lm.normalized:
        return
    rep = evaluate(lm, TEST)
    batch = lm.corpus_token_logprobs(_encoded(lm))
    oov_lp = batch[1][1] + batch[5][0]
    assert rep.oovs == 2 and rep.oov_logprob == pytest.approx(oov_lp, abs=1e-9)
    assert rep.perplexity_excluding_oovs == pytest.approx(
        math.exp(-(rep.logprob - oov_lp) / (rep.tokens - 2)), rel=1e-9)
    assert oov_lp / 2 > math.log(1e-6), "<unk> has real probability mass"


def test_save_and_load_give_identical_scores(kind, lm, tmp_path):
    from lmlab.models.loading import load

    path = save_any(lm, tmp_path)
    back = load(path)
    assert type(back) is type(lm) and back.vocab.tokens == lm.vocab.tokens
    assert back.normalized == lm.normalized
    assert getattr(back, "smoothing", None) == getattr(lm, "smoothing", None)
    assert getattr(back, "compat", None) == getattr(lm, "compat", None)
    enc = _encoded(lm)
    for a, b in zip(lm.corpus_token_logprobs(enc), back.corpus_token_logprobs(enc), strict=True):
        np.testing.assert_array_equal(b, a)
    states = _states(lm)
    np.testing.assert_array_equal(back.next_logprobs(_states(back)), lm.next_logprobs(states))
    if lm.normalized:
        assert evaluate(back, TEST).perplexity == evaluate(lm, TEST).perplexity


# -- read-back kinds: the same model as the one written ----------------------------------------
@kinds_where(lambda k: k.source is not None)
def test_read_back_scores_equal_the_written_model(kind, lm, model_cache):
    src = model_cache(kind.source)
    assert lm.vocab.tokens == src.vocab.tokens and lm.normalized == src.normalized and lm.order == src.order
    enc = _encoded(lm, TEST + TRAIN)
    quantised = kind.id.endswith(("lmbin8", "trie8"))
    tol = 0.05 if quantised else 0.0  # 8-bit codes for log10 p and backoff of orders >= 2
    for a, b in zip(src.corpus_token_logprobs(enc), lm.corpus_token_logprobs(enc), strict=True):
        np.testing.assert_allclose(b, a, rtol=0, atol=tol)
    if quantised:
        return
    for m in range(src.order):
        for name in ("keys", "logprob10", "backoff10"):
            np.testing.assert_array_equal(getattr(lm.tables, name)[m], getattr(src.tables, name)[m], err_msg=name)
    np.testing.assert_array_equal(lm.next_logprobs(_states(lm)), src.next_logprobs(_states(src)))


# -- n-gram models ---------------------------------------------------------------------------
def _fitted(pred=lambda k: True):
    return kinds_where(lambda k: k.family == "ngram" and k.source is None and pred(k))


@_fitted()
def test_compiled_scorer_equals_numpy_reference(kind, lm):
    from lmlab.text.vocab import flatten_ids

    ids, starts = flatten_ids([lm.vocab.encode(s.split()) for s in TEST + TRAIN])
    a, al = lm.tables.score_flat(ids, starts)
    b, bl = reference_log10(lm.tables, ids, starts)
    assert np.array_equal(al, bl)
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)


def _relative_frequency(history: tuple[str, ...], word: str) -> float:
    """c(history word) / c(history .) over the training text padded as <s> ... </s>."""
    num = den = 0
    n = len(history)
    for s in TRAIN:
        toks = ["<s>", *s.split(), "</s>"]
        for i in range(1, len(toks)):
            if tuple(toks[max(i - n, 0):i]) == history and i >= n:
                den += 1
                num += toks[i] == word
    return num / den


@kinds_where(lambda k: k.family == "ngram" and k.method in ("mle", "stupid_backoff") and not k.id.endswith("8"))
def test_scorers_keep_what_they_promise(kind, lm):
    """MLE and stupid backoff give, in a context seen in full, the relative frequencies of the
    top order (so MLE sums to 1 there); stupid backoff's other scores are each at most 1."""
    state, history = lm.begin_state(), ()
    if lm.order >= 2:  # the history <s> the (all there is at the start of a sentence)
        state, history = lm.advance(state, lm.vocab.lookup("the")), ("<s>", "the")[-(lm.order - 1):]
    row = np.exp(lm.next_logprobs([state])[0])
    for w in ("cat", "dog", "mat", "</s>"):
        want = _relative_frequency(history, w)
        if want > 0:
            assert row[lm.vocab.lookup(w)] == pytest.approx(want, rel=1e-6), w
    if lm.smoothing == "mle":
        assert row.sum() == pytest.approx(1.0, abs=1e-6)
    assert np.all(np.exp(lm.next_logprobs(_states(lm))) <= 1.0 + 1e-6)


def test_stupid_backoff_refuses_arpa_and_perplexity(model_cache, tmp_path):
    lm = model_cache("stupid_backoff-backoff-o3")
    with pytest.raises(LmlabError, match="cannot be written as ARPA"):
        lm.to_arpa(tmp_path / "sb.arpa")
    assert not list(tmp_path.iterdir())
    with pytest.raises(NotNormalizedError, match="not probabilities"):
        lm.perplexity(TEST)


@_fitted(lambda k: k.id.startswith(("modified_kneser_ney", "witten_bell-backoff", "additive")))
def test_generate_is_seeded_and_only_emits_possible_words(kind, lm):
    a = lm.generate(20, random_seed=7)
    assert a == lm.generate(20, random_seed=7)
    assert "<s>" not in a
    state = lm.begin_state()
    for w in a:
        lp, state = lm.step(state, lm.vocab.lookup(w))
        assert math.isfinite(lp)
        if w == "</s>":
            state = lm.begin_state()


# -- neural models ---------------------------------------------------------------------------
@kinds_where(lambda k: k.family == "neural")
def test_scoring_in_chunks_equals_scoring_at_once(kind, lm, monkeypatch):
    """Long texts over big vocabularies are scored a few rows of log-probabilities at a time
    (bounded memory); the result does not depend on the chunk size."""
    enc = _encoded(lm)
    whole = lm.corpus_token_logprobs(enc)
    monkeypatch.setattr(type(lm), "SCORE_CHUNK", 3 * len(lm.vocab))  # three rows at a time
    for a, b in zip(whole, lm.corpus_token_logprobs(enc), strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)  # float32 products over other row counts


@kinds_where(lambda k: k.family == "neural")
def test_batched_steps_carry_the_same_hidden_state(kind, lm):
    """The numpy stepper's batched step (beam search) gives the hidden tensors one step gives."""
    states = _states(lm)
    tokens = [3 + i % (len(lm.vocab) - 3) for i in range(len(states))]
    many = lm.advance_many(states, tokens)
    one = [lm.advance(s, t) for s, t in zip(states, tokens, strict=True)]
    assert [m.tokens for m in many] == [o.tokens for o in one]
    for m, o in zip(many, one, strict=True):
        assert len(m.hidden) == len(o.hidden)
        for a, b in zip(m.hidden, o.hidden, strict=True):
            assert a.shape == b.shape
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=0, atol=1e-6)
