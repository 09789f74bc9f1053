"""A literal ``<s>`` or ``</s>`` in a prompt is an unknown word (``<unk>``), as in scored text, for
every entry point that takes a prompt (completion, generation, beam search; the library, the
server and the CLI) and every kind of model: each gives the same answer as for an unknown word.
(Before: completion and generation looked the symbols up, so ``</s>`` ended the sentence and
``<s>`` started a new one.)"""

from __future__ import annotations

import importlib.util
import math

import pytest

from lmlab.generate.beam import lm_beam_search
from lmlab.generate.complete import complete, complete_text
from lmlab.generate.decode import generate
from lmlab.models.ngram.model import NgramLM

TRAIN = ["the stock market fell", "the stock market rose", "the stock price fell", "new york stock exchange",
         "stock prices rose sharply", "the market fell"] * 3
UNKNOWN = "zzqq"
SYMBOLS = ("<s>", "</s>")
# the unknown word (or a symbol in its place) before, inside and at the end of a prompt
PROMPTS = ("{} the stock", "the {} stock", "the stock {}")


def _neural():
    import torch

    from lmlab.models.neural.adapter import TorchLM
    from lmlab.models.neural.build import build_model
    from lmlab.models.neural.config import RNNLMConfig
    from lmlab.text.vocab import Vocab

    vocab = Vocab.build(s.split() for s in TRAIN)
    cfg = RNNLMConfig(vocab_size=len(vocab), cell="lstm", emsize=6, nhid=7, nlayers=1, dropout=0.0)
    torch.manual_seed(3)
    return TorchLM(build_model(cfg), cfg, vocab)


KINDS = ["ngram", pytest.param("neural", marks=pytest.mark.skipif(
    importlib.util.find_spec("torch") is None, reason="needs torch"))]


@pytest.fixture(scope="module", params=KINDS)
def lm(request):
    return NgramLM(3, "witten_bell").fit(TRAIN) if request.param == "ngram" else _neural()


def _library_answers(lm, prompt: str) -> dict:
    g = generate(lm, prompt, max_tokens=6, greedy=True)
    s = generate(lm, prompt, max_tokens=6, seed=5)
    return {
        "complete": complete(lm, prompt, 4),
        "complete(tokens)": complete(lm, prompt.split(), 4),
        "complete_text": complete_text(lm, prompt, 4),
        "complete_text(partial)": complete_text(lm, prompt + " st", 4, partial=True),
        "generate(greedy)": (g.tokens, g.logprobs, g.stopped),
        "generate(seed)": (s.tokens, s.logprobs, s.stopped),
        "generate(tokens)": generate(lm, prompt.split(), max_tokens=6, greedy=True).tokens,
        "lm_beam_search": [(h.tokens, h.logprob) for h in lm_beam_search(lm, prompt, beam=3, nbest=3, max_len=6)],
    }


@pytest.mark.parametrize("template", PROMPTS)
@pytest.mark.parametrize("symbol", SYMBOLS)
def test_library_entry_points_read_a_symbol_as_an_unknown_word(lm, template, symbol):
    want = _library_answers(lm, template.format(UNKNOWN))
    got = _library_answers(lm, template.format(symbol))
    for name in want:
        assert got[name] == want[name], f"{name}: {template.format(symbol)!r} differs from {template.format(UNKNOWN)!r}"


@pytest.mark.parametrize("symbol", SYMBOLS)
def test_server_complete_and_generate_read_a_symbol_as_an_unknown_word(lm, symbol):
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from lmlab.server.app import create_app

    client = TestClient(create_app(lm, name="toy"))

    def answers(word):
        prompt = f"the {word} stock"
        out = []
        for body in ({"prefix": prompt, "k": 4}, {"prefix": prompt + " st", "k": 4, "partial": True}):
            r = client.post("/complete", json=body)
            assert r.status_code == 200, r.text
            out.append(r.json()["completions"])
        for body in ({"prompt": prompt, "max_tokens": 6, "greedy": True}, {"prompt": prompt, "max_tokens": 6, "seed": 5}):
            r = client.post("/generate", json=body)
            assert r.status_code == 200, r.text
            out.append({k: r.json()[k] for k in ("tokens", "stopped", "logprob")})
        return out

    assert answers(symbol) == answers(UNKNOWN)
    # and the unknown word is a word: the continuation is not that of a fresh sentence
    assert math.isfinite(answers(UNKNOWN)[2]["logprob"])


@pytest.mark.parametrize("symbol", SYMBOLS)
def test_cli_complete_and_generate_read_a_symbol_as_an_unknown_word(lm, symbol, tmp_path, capsys):
    from lmlab.cli.main import main

    if isinstance(lm, NgramLM):
        path = tmp_path / "m.arpa"
        lm.to_arpa(path)
    else:
        from lmlab.models.neural.checkpoint import save_model

        path = tmp_path / "net"
        save_model(path, lm.model, lm.config, lm.vocab)

    def run(word):
        out = []
        for argv in (["complete", str(path), f"the {word} stock", "-k", "4"],
                     ["generate", str(path), "--prompt", f"the {word} stock", "--greedy", "--max_tokens", "6"],
                     ["generate", str(path), "--prompt", f"{word} the", "--seed", "2", "--max_tokens", "6", "--scores"]):
            assert main(argv) == 0
            out.append(capsys.readouterr().out.replace(word, "W"))  # generate prints the prompt too
        return out

    want = run(UNKNOWN)
    assert run(symbol) == want and all(want)
