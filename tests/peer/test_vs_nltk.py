"""Exact agreement with nltk.lm (``lmlab.NltkLM``), and ``lm.counts`` against nltk's counter.

Every model nltk.lm has (MLE, Lidstone, Laplace, Witten-Bell, absolute discounting, Kneser-Ney
with nltk's default discount and another one, stupid backoff), at orders 1-3, each with the
vocabulary built from the text and with a supplied vocabulary holding a word never seen in
training.  Compared with nltk: ``score`` for every word of the vocabulary (and OOVs) after
contexts of every length (none, shorter than ``order - 1``, full, longer, unseen, with OOVs),
``logscore``, entropy and perplexity of padded n-grams (``inf`` where nltk gives it), seeded
``generate``, the vocabulary, and the counts.  nltk's own unit-test expectations are in
``test_nltk_unit_expectations.py``.
"""

from __future__ import annotations

import math

import pytest

nltk_lm = pytest.importorskip("nltk.lm")
from nltk.lm import Vocabulary  # noqa: E402
from nltk.lm.preprocessing import pad_both_ends, padded_everygram_pipeline, padded_everygrams  # noqa: E402
from nltk.util import ngrams  # noqa: E402

from lmlab.errors import LmlabError, NotALanguageModelError  # noqa: E402
from lmlab.models.ngram.model import NgramLM  # noqa: E402
from lmlab.models.ngram.nltk_lm import NltkLM  # noqa: E402

pytestmark = pytest.mark.peer

TRAIN = [s.split() for s in [
    "the cat sat on the mat", "the dog sat on the log", "a cat and a dog", "the cat saw the dog",
    "the mat is on the floor", "a dog saw a cat on the mat", "the dog and the cat sat", "a b c a b c a",
]]
TEST = [s.split() for s in ["the cat sat on the log", "a dog sat", "the the cat", "a bird sat on the mat", "b c"]]
# a supplied vocabulary: "zebra" is never seen in training, "floor"/"log" are left out (<UNK>)
SUPPLIED = sorted({w for s in TRAIN for w in s} - {"floor", "log"}) + ["zebra", "<s>", "</s>"]

MODELS = [
    ("mle", {}, lambda n, **kw: nltk_lm.MLE(n, **kw)),
    ("additive", {"k": 0.1}, lambda n, **kw: nltk_lm.Lidstone(0.1, n, **kw)),
    ("additive", {"k": 1.0}, lambda n, **kw: nltk_lm.Laplace(n, **kw)),
    ("witten_bell", {}, lambda n, **kw: nltk_lm.WittenBellInterpolated(n, **kw)),
    ("absolute_discounting", {}, lambda n, **kw: nltk_lm.AbsoluteDiscountingInterpolated(n, **kw)),
    ("kneser_ney", {}, lambda n, **kw: nltk_lm.KneserNeyInterpolated(n, **kw)),
    ("kneser_ney", {"discount": 0.75}, lambda n, **kw: nltk_lm.KneserNeyInterpolated(n, discount=0.75, **kw)),
    ("stupid_backoff", {}, lambda n, **kw: nltk_lm.StupidBackoff(order=n, **kw)),
]


def _pair(name, kwargs, make, order, supplied):
    if supplied:
        ref = make(order, vocabulary=Vocabulary(SUPPLIED, unk_cutoff=1))
        ref.fit([padded_everygrams(order, s) for s in TRAIN])
        ours = NltkLM(order, name, vocabulary=SUPPLIED, **kwargs).fit(TRAIN)
    else:
        ref = make(order)
        ref.fit(*padded_everygram_pipeline(order, TRAIN))
        ours = NltkLM(order, name, **kwargs).fit(TRAIN)
    return ref, ours


# nltk's KneserNeyInterpolated(1) divides by zero (no bigrams to count continuations in).
CASES = [(*m, order, supplied) for m in MODELS for order in (1, 2, 3) for supplied in (False, True)
         if not (m[0] == "kneser_ney" and order == 1)]
IDS = [f"{c[0]}{c[1].get('k', c[1].get('discount', ''))}-o{c[3]}-{'supplied' if c[4] else 'built'}" for c in CASES]
CONTEXTS = [(), ("the",), ("cat",), ("<s>",), ("<s>", "<s>"), ("the", "cat"), ("a", "dog"), ("zebra",),
            ("on", "the"), ("sat", "zebra"), ("bird", "sat"), ("log",), ("the", "cat", "sat"),
            ("a", "b", "c", "a")]


@pytest.mark.parametrize(("name", "kwargs", "make", "order", "supplied"), CASES, ids=IDS)
def test_scores_at_every_context_length(name, kwargs, make, order, supplied):
    ref, ours = _pair(name, kwargs, make, order, supplied)
    assert len(ours.vocab) == len(ref.vocab)
    assert sorted(ours.vocab) == sorted(ref.vocab)
    words = list(ref.vocab) + ["bird", "log"]
    for ctx in CONTEXTS:
        for w in words:
            want = ref.score(w, ctx)
            assert ours.score(w, list(ctx)) == pytest.approx(want, rel=1e-12, abs=1e-15), (w, ctx)
        assert ours.logscore("cat", ctx) == pytest.approx(ref.logscore("cat", ctx), rel=1e-12)
        if name != "stupid_backoff" and ours.score("cat", ctx) == 0:
            assert ours.logscore("cat", ctx) == -math.inf


@pytest.mark.parametrize(("name", "kwargs", "make", "order", "supplied"), CASES, ids=IDS)
def test_entropy_perplexity_equal(name, kwargs, make, order, supplied):
    ref, ours = _pair(name, kwargs, make, order, supplied)
    for test in (TEST, [s for s in TEST if "bird" not in s]):
        grams = [g for s in test for g in ngrams(pad_both_ends(s, n=order), order)]
        assert ours.text_ngrams(test) == grams
        want = ref.perplexity(grams)
        got = ours.perplexity(grams)
        if math.isinf(want):  # MLE, and nltk's interpolated models on an unknown word: inf
            assert math.isinf(got) and math.isinf(ours.entropy(grams))
        else:
            assert got == pytest.approx(want, rel=1e-12)
            assert ours.entropy(grams) == pytest.approx(ref.entropy(grams), rel=1e-12)


@pytest.mark.parametrize(("name", "kwargs", "make", "order", "supplied"),
                         [c for c in CASES if c[3] == 3], ids=[i for c, i in zip(CASES, IDS) if c[3] == 3])
def test_generate_equal(name, kwargs, make, order, supplied):
    ref, ours = _pair(name, kwargs, make, order, supplied)
    for seed in range(6):
        for text_seed in (None, ["the"], ["<s>", "a"], ["a", "zebra"], ["the", "cat", "sat"]):
            assert ours.generate(12, text_seed=text_seed, random_seed=seed) == \
                ref.generate(12, text_seed=text_seed, random_seed=seed), (seed, text_seed)
        assert ours.generate(random_seed=seed) == ref.generate(random_seed=seed)


@pytest.mark.parametrize("order", [1, 2, 3])
@pytest.mark.parametrize("supplied", [False, True])
def test_nltk_lm_counts_equal_nltks_counter(order, supplied):
    ref, ours = _pair("mle", {}, MODELS[0][2], order, supplied)
    assert ours.counts.N() == ref.counts.N() and len(ours.counts) == len(ref.counts)
    assert dict(ours.counts[1]) == dict(ref.counts[1]) == dict(ours.counts.unigrams)
    for w in ["the", "cat", "<s>", "</s>", "<UNK>", "zebra", "floor", "nothing"]:
        assert ours.counts[w] == ref.counts[w], w
    for m in range(2, order + 1):
        assert set(ours.counts[m]) == set(ref.counts[m].keys())
        for ctx in ref.counts[m]:
            assert dict(ours.counts[list(ctx)]) == dict(ref.counts[list(ctx)]), ctx
            assert dict(ours.counts[m][ctx]) == dict(ref.counts[m][ctx]), ctx
            assert ours.counts[list(ctx)].N() == ref.counts[list(ctx)].N()
    assert dict(ours.counts[["zebra"]]) == {} and ours.counts[["the"]]["zebra"] == 0


def test_ngram_lm_counts_behave_as_nltks_counter():
    # NgramLM pads one <s>/</s> (KenLM); the counts of n-grams of words are nltk's.
    ref = nltk_lm.MLE(2)
    ref.fit(*padded_everygram_pipeline(2, TRAIN))
    lm = NgramLM(2, "witten_bell").fit(TRAIN)
    assert lm.counts["the"] == ref.counts["the"] == 11
    assert lm.counts[["the"]]["cat"] == ref.counts[["the"]]["cat"] == 3
    assert lm.counts["zebra"] == 0 and lm.counts[["zebra"]]["cat"] == 0
    for ctx in ref.counts[2]:
        want = {w: n for w, n in ref.counts[[*ctx]].items()}
        assert dict(lm.counts[list(ctx)]) == want, ctx
        assert dict(lm.counts[2][ctx]) == want
    assert {w: n for w, n in lm.counts[1].items() if w not in ("<s>", "</s>")} == \
        {w: n for w, n in ref.counts[1].items() if w not in ("<s>", "</s>")}


def test_nltk_lm_refuses_language_model_operations(tmp_path):
    """Whatever lmlab does with a LanguageModel is refused with one clear LmlabError."""
    from lmlab import MixtureLM, complete, evaluate
    from lmlab.eval.scoring import score_sentences
    from lmlab.models.ngram.model_files import save_arpa

    nl = NltkLM(3, "kneser_ney").fit(TRAIN)
    ng = NgramLM(3, "kneser_ney", discount_fallback=(0.5, 1, 1.5)).fit(TRAIN)
    calls = [
        lambda: evaluate(nl, ["the cat sat"]),
        lambda: score_sentences(nl, ["the cat sat"]),
        lambda: MixtureLM([ng, nl]),
        lambda: MixtureLM([nl, ng]).corpus_token_logprobs([[3, 4]]),
        lambda: complete(nl, "the", k=3),
        lambda: nl.to_arpa(tmp_path / "x.arpa"),
        lambda: save_arpa(nl, tmp_path / "x.arpa"),
        lambda: nl.to_binary(tmp_path / "x.lmbin"),
        lambda: nl.next_logprobs([nl.begin_state()]),
        lambda: nl.token_logprobs([3, 4]),
        lambda: nl.corpus_token_logprobs([[3, 4]]),
        lambda: nl.logprob("cat", ["the"]),
        lambda: nl.vocab.encode(["the"]),
    ]
    for call in calls:
        with pytest.raises(LmlabError) as exc:
            call()
        assert "NltkLM" in str(exc.value) and "\n" not in str(exc.value)
    assert not (tmp_path / "x.arpa").exists()
    assert not hasattr(nl, "begin_state")  # NotALanguageModelError is an AttributeError too
    with pytest.raises(NotALanguageModelError):
        nl.tables  # noqa: B018
    with pytest.raises(LmlabError, match="NltkLM"):
        NgramLM(3, "kneser_ney", compat="nltk")


# -- an empty sentence last, and unk_cutoff above the padding's count ---------------------------
def _scores_equal(ref, ours, words, contexts):
    for ctx in contexts:
        for w in words:
            assert ours.score(w, list(ctx)) == pytest.approx(ref.score(w, ctx), rel=1e-12, abs=1e-15), (w, ctx)


MODEL_IDS = [f"{m[0]}{m[1].get('k', m[1].get('discount', ''))}" for m in MODELS]


@pytest.mark.parametrize(("name", "kwargs", "make"), MODELS, ids=MODEL_IDS)
@pytest.mark.parametrize("order", [1, 2, 3])
@pytest.mark.parametrize("supplied", [False, True])
def test_an_empty_last_sentence_is_counted_as_nltk_counts_it(name, kwargs, make, order, supplied):
    """Order 1 has no padding, so an empty sentence holds nothing (it once ended in an IndexError)."""
    if name == "kneser_ney" and order == 1:
        pytest.skip("nltk's KneserNeyInterpolated(1) divides by zero")
    train = [["a", "b", "a"], ["b"], []]
    vocab = ["a", "b", "c", "<s>", "</s>"]
    if supplied:
        ref = make(order, vocabulary=Vocabulary(vocab, unk_cutoff=1))
        ref.fit([padded_everygrams(order, s) for s in train])
        ours = NltkLM(order, name, vocabulary=vocab, **kwargs).fit(train)
    else:
        ref = make(order)
        ref.fit(*padded_everygram_pipeline(order, train))
        ours = NltkLM(order, name, **kwargs).fit(train)
    assert sorted(ours.vocab) == sorted(ref.vocab)
    _scores_equal(ref, ours, [*ref.vocab, "zebra"], [(), ("a",), ("<s>",), ("b", "a")])
    for seed in range(4):
        assert ours.generate(6, random_seed=seed) == ref.generate(6, random_seed=seed)


@pytest.mark.parametrize("smoothing", sorted(__import__("lmlab.models.ngram.smoothing.registry",
                                                        fromlist=["SMOOTHERS"]).SMOOTHERS))
@pytest.mark.parametrize("order", [1, 2, 3])
def test_ngram_lm_counts_an_empty_last_sentence(smoothing, order):
    lm = NgramLM(order, smoothing, discount_fallback=(0.5, 1, 1.5)).fit([["a", "b", "a"], ["b"], []])
    assert lm.counts["</s>"] == 3 and lm.counts["a"] == 2
    if lm.normalized:
        p = sum(lm.score(w, ["a"][: order - 1]) for w in lm.vocab.tokens if w != "<s>")
        assert p == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize(("name", "kwargs", "make"), MODELS, ids=MODEL_IDS)
@pytest.mark.parametrize("order", [1, 2, 3])
@pytest.mark.parametrize("unk_cutoff", [1, 2, 3])
def test_unk_cutoff_above_the_padding_count_makes_the_padding_unk(name, kwargs, make, order, unk_cutoff):
    """nltk's vocabulary counts the padding with the words: padding seen fewer than unk_cutoff
    times is ``<UNK>`` in the counts, the scores and generation (with one sentence, order 2
    pads one <s>: cutoff 2 leaves it out)."""
    if name == "kneser_ney" and order == 1:
        pytest.skip("nltk's KneserNeyInterpolated(1) divides by zero")
    for train in ([list("ecaeec")], [list("ecaeec"), list("aab")], TRAIN[:3]):
        ref = make(order, vocabulary=Vocabulary(unk_cutoff=unk_cutoff))
        ref.fit(*padded_everygram_pipeline(order, train))
        ours = NltkLM(order, name, unk_cutoff=unk_cutoff, **kwargs).fit(train)
        assert sorted(ours.vocab) == sorted(ref.vocab)
        words = sorted({w for s in train for w in s}) + ["<s>", "</s>", "<UNK>", "zebra"]
        _scores_equal(ref, ours, words, [(), ("a",), ("<s>",), ("<UNK>",), ("<s>", "<s>"), ("e", "c"), ("the",)])
        for seed in range(4):
            for text_seed in (None, ["a"], ["<s>"]):
                assert ours.generate(6, text_seed=text_seed, random_seed=seed) == \
                    ref.generate(6, text_seed=text_seed, random_seed=seed), (seed, text_seed)
