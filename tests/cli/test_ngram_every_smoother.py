"""`lmlab ngram --arpa OUT` for every smoother in the registry x {--interpolate, --backoff}.

Where the method has that form, the ARPA file read back must be the model the API builds (same
scores), give next-word distributions that sum to 1 (normalised methods) and a finite perplexity
on text with OOVs.  Where it has not (or ARPA cannot hold the method), the CLI must refuse: exit
2, one line on stderr, no file.  Parametrised over the registry, so a new smoother is covered.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from lmlab.cli.ngram import KN_FAMILY
from lmlab.errors import LmlabError
from lmlab.eval.perplexity import evaluate
from lmlab.models.ngram.model import NgramLM
from lmlab.models.ngram.model_files import load_arpa
from lmlab.models.ngram.smoothing.registry import SMOOTHERS
from tests.cli.test_cli import run_cli

TRAIN = ["the cat sat on the mat", "the dog sat on the log", "a cat and a dog", "",
         "the cat saw the dog", "a dog saw a cat on the mat", "the dog and the cat sat"]
TEST = ["the cat sat on the log", "a zebra sat", "", "the the unicorn", "dog"]
CASES = [(name, interp) for name in SMOOTHERS for interp in (True, False)]


@pytest.mark.parametrize(("name", "interp"), CASES, ids=[f"{n}-{'interp' if i else 'backoff'}" for n, i in CASES])
def test_ngram_cli_every_smoother_and_form(name, interp, tmp_path, capsys):
    train = tmp_path / "train.txt"
    train.write_text("\n".join(TRAIN) + "\n")
    out = tmp_path / "out.arpa"
    argv = ["ngram", "-o", "3", "--smoothing", name, "--interpolate" if interp else "--backoff",
            *(["--discount_fallback"] if name in KN_FAMILY else []),  # refused where it has no effect
            "--quiet", "--text", str(train), "--arpa", str(out)]
    code, stdout, err = run_cli(argv, capsys=capsys)

    def refused():
        assert code == 2 and stdout == "" and not out.exists(), (code, err)
        assert err.count("\n") == 1 and "Traceback" not in err

    if interp not in SMOOTHERS[name].forms:
        refused()
        assert ("interpolated" if interp else "backoff") in err
        return
    api = NgramLM(3, name, interpolate=interp, discount_fallback=(0.5, 1.0, 1.5)).fit(TRAIN)
    try:
        api.to_arpa(tmp_path / "api.arpa")
    except LmlabError as exc:  # the method cannot be written as ARPA (stupid backoff)
        refused()
        assert str(exc) in err
        return
    assert code == 0, err
    lm = load_arpa(out)
    assert (lm.meta["smoothing"], lm.meta["interpolate"]) == (name, interp)
    enc = [api.encode(s) for s in TEST]
    assert sum(int(np.sum(e == 0)) for e in enc) == 2  # zebra, unicorn: OOVs
    for got, want in zip(lm.corpus_token_logprobs(enc), api.corpus_token_logprobs(enc), strict=True):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)
    if not api.normalized:
        return
    v = lm.vocab
    states = [lm.begin_state(), lm.null_state(), (v.lookup("the"),), (v.lookup("the"), v.lookup("cat")),
              (v.lookup("a"), v.lookup("dog")), (v.lookup("sat"), v.lookup("on"))]
    np.testing.assert_allclose(np.exp(lm.next_logprobs(states)).sum(axis=1), 1.0, atol=1e-5)
    report = evaluate(lm, TEST)
    assert report.oovs == 2 and math.isfinite(report.perplexity) and report.perplexity < 1e4
    assert report.perplexity == pytest.approx(evaluate(api, TEST).perplexity, rel=1e-9)
