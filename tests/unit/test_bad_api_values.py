"""Bad counts and numbers given to the API are refused (LmlabError), never read as "nothing to
do": ``generate(-1)`` and ``complete(lm, "the", k=0)`` once returned []; a decoder score or a
weight of nan made every re-ranked total nan."""

from __future__ import annotations

import math

import pytest

from lmlab.errors import CorpusError, LmlabError
from lmlab.eval.scoring import parse_nbest, rerank
from lmlab.generate.beam import lm_beam_search
from lmlab.generate.complete import complete, complete_text, complete_word
from lmlab.generate.decode import generate
from lmlab.models.ngram.model import NgramLM
from lmlab.models.ngram.nltk_lm import NltkLM
from lmlab.text.tokenize import Tokenizer

TRAIN = ["the stock market fell", "the stock market rose", "new york stock exchange"] * 2


@pytest.fixture(scope="module")
def lm():
    return NgramLM(2, "witten_bell").fit(TRAIN)


@pytest.fixture(scope="module")
def char_lm():
    return NgramLM(3, "witten_bell", tokenizer=Tokenizer(kind="character")).fit(TRAIN)


BAD = {
    "NgramLM.generate(-1)": lambda lm, c: lm.generate(-1),
    "NgramLM.generate(0)": lambda lm, c: lm.generate(0),
    "NgramLM.generate(1.5)": lambda lm, c: lm.generate(1.5),
    "NltkLM.generate(-1)": lambda lm, c: NltkLM(2).fit([s.split() for s in TRAIN]).generate(-1),
    "complete k=0": lambda lm, c: complete(lm, "the", k=0),
    "complete k=-3": lambda lm, c: complete(lm, "the", k=-3),
    "complete_text k=0": lambda lm, c: complete_text(lm, "the", 0),
    "complete_word k=0": lambda lm, c: complete_word(c, "the st", 0),
    "complete_word beam=0": lambda lm, c: complete_word(c, "the st", 3, beam=0),
    "generate max_tokens=-1": lambda lm, c: generate(lm, "the", max_tokens=-1),
    "generate max_tokens=0": lambda lm, c: generate(lm, "the", max_tokens=0),
    "generate temperature=-1": lambda lm, c: generate(lm, "the", temperature=-1),
    "generate temperature=nan": lambda lm, c: generate(lm, "the", temperature=math.nan),
    "generate top_k=0": lambda lm, c: generate(lm, "the", top_k=0),
    "generate top_p=0": lambda lm, c: generate(lm, "the", top_p=0.0),
    "generate top_p=nan": lambda lm, c: generate(lm, "the", top_p=math.nan),
    "generate seed=-1": lambda lm, c: generate(lm, "the", seed=-1),
    "lm_beam_search max_len=0": lambda lm, c: lm_beam_search(lm, "the", max_len=0),
    "rerank lm_weight=nan": lambda lm, c: rerank(lm, parse_nbest(["the stock"]), lm_weight=math.nan),
    "rerank score_weight=inf": lambda lm, c: rerank(lm, parse_nbest(["the stock"]), score_weight=math.inf),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_values_are_refused(name, lm, char_lm):
    with pytest.raises(LmlabError):
        BAD[name](lm, char_lm)


@pytest.mark.parametrize("line", ["nan\tthe stock", "inf\tthe stock", "0 ||| the stock ||| f=1 ||| nan",
                                  "0 ||| the stock ||| -inf"])
def test_a_decoder_score_that_is_not_finite_is_refused_with_its_line(line):
    with pytest.raises(CorpusError, match=r"nb\.txt: line 2: the score .* is not a finite number"):
        parse_nbest(["1\tthe market" if "\t" in line else "0 ||| the market ||| f=1 ||| -1", line], "nb.txt")


def test_good_values_still_work(lm):
    assert len(complete(lm, "the", k=1)) == 1
    assert len(generate(lm, "the", max_tokens=1, seed=0).logprobs) == 1
    assert parse_nbest(["-1.5\tthe stock", "x\tthe market"])[0][0].score == -1.5
    assert parse_nbest(["-1.5\tthe stock", "x\tthe market"])[0][1].text == "x\tthe market"  # not a score: text
