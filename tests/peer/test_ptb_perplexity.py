"""Published and KenLM-measured test perplexities with interpolated modified Kneser-Ney.

KenLM (lmplz + query, same files, same conventions): PTB 3-gram 148.28, 5-gram 141.19
(Mikolov et al. 2011 publish 141.2); WikiText-2 5-gram 220.14.
"""

from __future__ import annotations

import pytest

from lmlab.eval.perplexity import evaluate
from lmlab.models.ngram.model import NgramLM
from tests.conftest import read_lines


@pytest.mark.parametrize(("order", "target"), [(3, 148.28), (5, 141.19)])
def test_ptb_modified_kn(ptb, order, target):
    lm = NgramLM(order, "modified_kneser_ney").fit(ptb["train"])
    rep = evaluate(lm, ptb["test"])
    assert rep.tokens == 82430  # 78,669 words + 3,761 </s>
    assert rep.oovs == 4794  # the literal <unk> tokens: scored with <unk>'s trained probability
    assert rep.perplexity == pytest.approx(target, abs=0.3)
    assert abs(rep.perplexity - target) < 0.01  # in fact the same as KenLM to 0.01


@pytest.mark.slow  # 3+ s; the PTB cases check the same estimator against KenLM in the default run
def test_wikitext2_5gram(data_root):
    train = read_lines(data_root / "wikitext-2" / "train.txt")
    test = read_lines(data_root / "wikitext-2" / "test.txt")
    lm = NgramLM(5).fit(train)
    rep = evaluate(lm, test)
    assert rep.tokens == 245569  # blank lines included: one </s> each
    assert rep.perplexity == pytest.approx(220.14, abs=0.5)
