"""Item 5: a literal <s> or </s> written in text is one policy for every model: an unknown word,
scored as <unk> and counted as an OOV (never -inf, never a -230 "probability" of the boundary)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lmlab.cli.main import main
from lmlab.eval.perplexity import evaluate
from lmlab.eval.scoring import score_sentences
from lmlab.models.ngram.model import NgramLM
from lmlab.text.vocab import Vocab, encode_corpus

TRAIN = ["the cat sat", "a dog saw the cat", "the mat", "the dog sat on the mat"]


def _ngram():
    return NgramLM(3, "witten_bell").fit(TRAIN)


def _neural():
    torch = pytest.importorskip("torch")
    from lmlab.models.neural.adapter import TorchLM
    from lmlab.models.neural.build import build_model
    from lmlab.models.neural.config import RNNLMConfig

    vocab = Vocab.build([s.split() for s in TRAIN])
    cfg = RNNLMConfig(vocab_size=len(vocab), emsize=6, nhid=6, nlayers=1, cell="lstm", dropout=0.0)
    torch.manual_seed(1)
    return TorchLM(build_model(cfg), cfg, vocab)


def test_vocab_encodes_literal_symbols_as_unk():
    v = Vocab.build([["a", "b"]])
    assert v.encode(["a", "<s>", "</s>", "<unk>", "zzz"]).tolist() == [3, 0, 0, 0, 0]
    assert v.symbol_ids(["<s>", "</s>", "a"]).tolist() == [1, 2, 3]  # model files still name them
    ids, starts = encode_corpus(v, [["a", "</s>", "b"]])
    assert ids.tolist() == [1, 3, 0, 4, 2] and starts.tolist() == [0, 5]


@pytest.mark.parametrize("make", [_ngram, _neural], ids=["ngram", "neural"])
def test_literal_symbols_score_as_unk(make):
    lm = make()
    for sym in ("<s>", "</s>"):
        with_sym = evaluate(lm, [f"the {sym} sat"])
        with_unk = evaluate(lm, ["the <unk> sat"])
        assert with_sym.oovs == 1 and with_sym.tokens == 4
        assert math.isfinite(with_sym.logprob) and with_sym.logprob > -50
        assert with_sym.logprob == pytest.approx(with_unk.logprob, abs=1e-9)
        s = score_sentences(lm, [f"the {sym} sat"])[0]
        assert s.oovs == 1 and s.oov_mask.tolist() == [False, True, False, False]
        np.testing.assert_allclose(s.logprobs, score_sentences(lm, ["the <unk> sat"])[0].logprobs, atol=1e-9)


def test_cli_perplexity_and_score_finite(tmp_path, capsys):
    arpa = tmp_path / "m.arpa"
    _ngram().to_arpa(arpa)
    text = tmp_path / "t.txt"
    text.write_text("the </s> sat\n<s> the cat\n")
    assert main(["perplexity", str(arpa), "--text", str(text), "--json"]) == 0
    import json

    rep = json.loads(capsys.readouterr().out)
    assert rep["oovs"] == 2 and math.isfinite(rep["perplexity"])
    assert main(["score", str(arpa), "--text", str(text), "--per-token"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "</s>[OOV]=" in out[0] and "<s>[OOV]=" in out[1]
    assert out[0].split("\t")[2].endswith(" </s>=" + out[0].split("</s>=")[-1])  # the real </s> is no OOV
