"""A plain string where the API takes a sequence of sentences or of words is refused (one check,
:mod:`lmlab.text.inputs`), never read as its characters: every public entry point is walked."""

from __future__ import annotations

import pytest

from lmlab.errors import InputTypeError, LmlabError
from lmlab.eval.applications import LMClassifier, correct, train_class_lms
from lmlab.eval.perplexity import evaluate
from lmlab.eval.scoring import score_sentences
from lmlab.generate.beam import lm_beam_search
from lmlab.generate.complete import complete
from lmlab.generate.decode import generate
from lmlab.models.mixture import MixtureLM
from lmlab.models.ngram.model import NgramLM
from lmlab.models.ngram.nltk_lm import NltkLM
from lmlab.text.vocab import Vocab, encode_corpus

TRAIN = ["the stock market fell", "the stock market rose", "new york stock exchange", "the market rose"] * 2


@pytest.fixture(scope="module")
def lm():
    return NgramLM(2, "witten_bell").fit(TRAIN)


@pytest.fixture(scope="module")
def nltk_lm():
    return NltkLM(2, "mle").fit([s.split() for s in TRAIN])


# (name, call): each passes one plain string where a sequence is meant
CASES = {
    "NgramLM.fit": lambda lm, nl: NgramLM(2, "witten_bell").fit("the cat sat"),
    "NgramLM.perplexity": lambda lm, nl: lm.perplexity("the stock market"),
    "NgramLM.entropy": lambda lm, nl: lm.entropy("the stock market"),
    "NgramLM.score context": lambda lm, nl: lm.score("market", "stock"),
    "NgramLM.logscore context": lambda lm, nl: lm.logscore("market", "stock"),
    "NgramLM.logprob context": lambda lm, nl: lm.logprob("market", "stock"),
    "NgramLM.generate text_seed": lambda lm, nl: lm.generate(3, text_seed="the"),
    "NltkLM.fit": lambda lm, nl: NltkLM(2).fit("the cat sat"),
    "NltkLM.score context": lambda lm, nl: nl.score("market", "stock"),
    "NltkLM.text_ngrams": lambda lm, nl: nl.text_ngrams("the stock"),
    "NltkLM.entropy": lambda lm, nl: nl.entropy("the stock"),
    "NltkLM.perplexity": lambda lm, nl: nl.perplexity("the stock"),
    "NltkLM.generate text_seed": lambda lm, nl: nl.generate(3, text_seed="the"),
    "evaluate": lambda lm, nl: evaluate(lm, "the stock market"),
    "score_sentences": lambda lm, nl: score_sentences(lm, "the stock market"),
    "MixtureLM.tuned": lambda lm, nl: MixtureLM.tuned([lm, lm], "the stock market"),
    "MixtureLM.tuned_with_scores": lambda lm, nl: MixtureLM.tuned_with_scores([lm, lm], "the stock market"),
    "LMClassifier.predict": lambda lm, nl: LMClassifier({"a": lm, "b": lm}).predict("the stock"),
    "Vocab.build": lambda lm, nl: Vocab.build("the cat"),
    "Vocab.from_tokens": lambda lm, nl: Vocab.from_tokens("the cat"),
    "NltkLM vocabulary": lambda lm, nl: NltkLM(2, vocabulary="abc"),
    "train_class_lms": lambda lm, nl: train_class_lms("a\tthe cat"),
    "Vocab.encode": lambda lm, nl: lm.vocab.encode("the"),
    "encode_corpus": lambda lm, nl: encode_corpus(lm.vocab, "the stock"),
    "complete (a token list's words)": lambda lm, nl: complete(lm, ["the", 3]),
    "generate (a token list's words)": lambda lm, nl: generate(lm, [b"the"]),
    "lm_beam_search (a token list's words)": lambda lm, nl: lm_beam_search(lm, [None]),
    "correct (a token list's words)": lambda lm, nl: correct(lm, [1, 2]),
    "NgramLM.fit (a sentence of non-words)": lambda lm, nl: NgramLM(2, "witten_bell").fit([[1, 2]]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_string_for_a_sequence_is_refused(name, lm, nltk_lm):
    with pytest.raises(InputTypeError) as exc:
        CASES[name](lm, nltk_lm)
    assert isinstance(exc.value, TypeError) and isinstance(exc.value, LmlabError)
    assert "string" in str(exc.value) and "\n" not in str(exc.value)


def test_the_sequences_themselves_still_work(lm, nltk_lm):
    """The same calls with the sequences meant give what the string was mistaken for not."""
    assert lm.perplexity(["the stock market"]) == pytest.approx(evaluate(lm, ["the stock market"]).perplexity)
    assert lm.score("market", ["stock"]) == pytest.approx(lm.score("market", ("stock",)))
    assert lm.score("market", ["stock"]) > lm.score("market", ["new"])
    assert len(lm.generate(3, text_seed=["the"], random_seed=1)) == 3
    assert nltk_lm.score("market", ["stock"]) == pytest.approx(2 / 3)
    assert [s.tokens for s in score_sentences(lm, ["the stock"])] == [["the", "stock", "</s>"]]
    assert NgramLM(2, "witten_bell").fit(["the cat sat", "the cat"]).vocab.tokens[3:] == ("the", "cat", "sat")
