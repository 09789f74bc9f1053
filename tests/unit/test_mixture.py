"""MixtureLM: normalised, EM never lowers the held-out likelihood, beats its parts."""

from __future__ import annotations

import numpy as np
import pytest

from lmlab.errors import ConfigError, LmlabError, VocabMismatchError
from lmlab.models.mixture import MixtureLM, em_weights
from lmlab.eval.perplexity import evaluate
from lmlab.models.ngram.model import NgramLM
from lmlab.text.vocab import Vocab


def test_em_monotone_and_hand_case():
    rng = np.random.default_rng(0)
    lp = np.log(rng.dirichlet(np.ones(5), size=(3, 400))[:, :, 0])
    w, hist = em_weights(lp, iters=50, tol=0)
    assert all(b >= a - 1e-12 for a, b in zip(hist, hist[1:], strict=False))
    assert w.sum() == pytest.approx(1.0)
    # one model always better: its weight goes to 1
    lp2 = np.log(np.array([[0.5] * 100, [0.1] * 100]))
    w2, _ = em_weights(lp2, iters=500, tol=0)
    assert w2[0] > 0.99


def test_mixture_of_ngram_models(ptb):
    train, valid, test = ptb["train"][:20000], ptb["valid"][:1000], ptb["test"][:1000]
    vocab = Vocab.build(s.split() for s in train)
    kn = NgramLM(3).fit(train, vocab=vocab)
    wb = NgramLM(2, "witten_bell").fit(train, vocab=vocab)
    mix = MixtureLM.tuned([kn, wb], valid)
    d = mix.next_logprobs([mix.begin_state(), mix.advance(mix.begin_state(), 5)])
    np.testing.assert_allclose(np.exp(d).sum(axis=1), 1.0, atol=1e-6)
    ppl = evaluate(mix, test).perplexity
    assert ppl < evaluate(kn, test).perplexity and ppl < evaluate(wb, test).perplexity
    s0 = mix.begin_state()
    assert mix.advance_many([s0, mix.advance(s0, 5)], [6, 7]) == [mix.advance(s0, 6), mix.advance(mix.advance(s0, 5), 7)]
    enc = [vocab.encode(s.split()) for s in test[:20]]
    for s, b in zip(enc, mix.corpus_token_logprobs(enc), strict=True):
        np.testing.assert_allclose(mix.token_logprobs(s), b, atol=1e-9)


def test_top_level_mixture_is_the_weighted_sum_of_its_parts():
    """``lmlab.MixtureLM`` (the public name): P = 0.25 P_a + 0.75 P_b in every context, by hand."""
    import lmlab

    assert "MixtureLM" in lmlab.__all__
    lines = ["a b a", "b a c", "a c"]
    vocab = lmlab.Vocab.build(s.split() for s in lines)
    a = lmlab.NgramLM(2, "witten_bell").fit(lines, vocab=vocab)
    b = lmlab.NgramLM(1, "additive", k=1.0).fit(lines, vocab=vocab)
    mix = lmlab.MixtureLM([a, b], [0.25, 0.75])
    # the add-one unigram by hand: <unk> 0, </s> 3, a 4, b 2, c 2 (11 tokens, 5 types; <s> none)
    p_b = np.array([1, 0, 4, 5, 3, 3]) / 16
    for hist in ([], ["a"], ["c"]):
        sa, sm = a.begin_state(), mix.begin_state()
        for w in hist:
            sa, sm = a.advance(sa, vocab.lookup(w)), mix.advance(sm, vocab.lookup(w))
        want = 0.25 * np.exp(a.next_logprobs([sa])[0]) + 0.75 * p_b
        np.testing.assert_allclose(np.exp(mix.next_logprobs([sm])[0]), want, rtol=1e-6, atol=0)  # float32 tables
    test = ["a b c", "c c"]
    tok = np.concatenate([0.25 * np.exp(a.token_logprobs(vocab.encode(t.split())))
                          + 0.75 * np.exp(b.token_logprobs(vocab.encode(t.split()))) for t in test])
    assert lmlab.evaluate(mix, test).perplexity == pytest.approx(np.exp(-np.log(tok).mean()), rel=1e-12)


def test_em_needs_heldout_tokens():
    from lmlab.errors import CorpusError

    with pytest.raises(CorpusError, match="held-out text is empty"):
        em_weights(np.empty((2, 0)))


def test_mixture_errors():
    a = NgramLM(2, "witten_bell").fit(["a b", "b c"])
    b = NgramLM(2, "witten_bell").fit(["x y"])
    with pytest.raises(VocabMismatchError):
        MixtureLM([a, b])
    with pytest.raises(ConfigError, match="summing to 1"):
        MixtureLM([a, a], [0.5, 0.6])


TOY = ["the cat sat on the mat", "the dog sat on the log", "a cat and a dog", "the cat ate the fish"] * 3


def _toy_models(tmp_path):
    vocab = Vocab.build(s.split() for s in TOY)
    a, b = tmp_path / "a.arpa", tmp_path / "b.arpa"
    NgramLM(3, "witten_bell").fit(TOY, vocab=vocab).to_arpa(a)
    NgramLM(1, "additive", k=1.0).fit(TOY, vocab=vocab).to_arpa(b)
    return a, b


def test_mix_command_static_and_em_weights(tmp_path, capsys):
    """``lmlab mix`` writes a mixture file every command loads; its perplexity is the mixture's."""
    import json
    import shutil

    from lmlab.cli.main import main
    from lmlab.models.loading import load

    a, b = _toy_models(tmp_path)
    test = tmp_path / "test.txt"
    test.write_text("the dog sat on the mat\na fish and a cat\n")
    lines = test.read_text().splitlines()
    assert main(["mix", str(a), str(b), "--weights", "0.25", "0.75", "--save", str(tmp_path / "m.json")]) == 0
    spec = json.loads((tmp_path / "m.json").read_text())
    assert spec == {"kind": "mixture", "components": [{"path": "a.arpa", "weight": 0.25},
                                                      {"path": "b.arpa", "weight": 0.75}]}
    direct = MixtureLM([load(a), load(b)], [0.25, 0.75])
    capsys.readouterr()
    assert main(["perplexity", str(tmp_path / "m.json"), "--text", str(test), "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["perplexity"] == pytest.approx(evaluate(direct, lines).perplexity, rel=1e-12)
    # P_mix = 0.25 P_a + 0.75 P_b token by token
    s = load(a).encode(lines[0])
    pa, pb = np.exp(load(a).token_logprobs(s)), np.exp(load(b).token_logprobs(s))
    np.testing.assert_allclose(np.exp(load(tmp_path / "m.json").token_logprobs(s)), 0.25 * pa + 0.75 * pb, rtol=1e-12)
    # relative paths: the folder can move
    moved = tmp_path / "moved"
    moved.mkdir()
    for f in ("a.arpa", "b.arpa", "m.json"):
        shutil.copy(tmp_path / f, moved / f)
    (tmp_path / "a.arpa").rename(tmp_path / "a.arpa.bak")
    assert evaluate(load(moved / "m.json"), lines).perplexity == pytest.approx(evaluate(direct, lines).perplexity)
    (tmp_path / "a.arpa.bak").rename(tmp_path / "a.arpa")
    # EM-tuned on held-out text: the same weights as MixtureLM.tuned
    held = tmp_path / "held.txt"
    held.write_text("the cat sat on the log\na dog and a cat\n")
    assert main(["mix", str(a), str(b), "--heldout", str(held), "--save", str(tmp_path / "em.json"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    tuned = MixtureLM.tuned([load(a), load(b)], held.read_text().splitlines())
    np.testing.assert_allclose(list(out["weights"].values()), tuned.weights, rtol=1e-12)
    held_lines = held.read_text().splitlines()
    assert out["heldout_perplexity"]["mixture"] == pytest.approx(evaluate(tuned, held_lines).perplexity, rel=1e-12)
    assert out["heldout_perplexity"][str(a)] == pytest.approx(evaluate(load(a), held_lines).perplexity, rel=1e-12)
    assert out["heldout_perplexity"]["mixture"] <= min(v for k, v in out["heldout_perplexity"].items()
                                                       if k != "mixture") + 1e-9
    assert out["mode"] == "sentence"  # the figures say how the text was scored (issue 13 item 22)
    # a model given twice is reported twice, not folded into one entry
    assert main(["mix", str(a), str(a), "--weights", "0.3", "0.7", "--save", str(tmp_path / "aa.json")]) == 0
    text = capsys.readouterr().out.splitlines()
    assert text[:2] == [f"0.3000  {a}", f"0.7000  {a} #2"]
    assert main(["mix", str(a), str(b), "--heldout", str(held), "--save", str(tmp_path / "em.json")]) == 0
    text = capsys.readouterr().out.splitlines()
    assert sum("held-out perplexity" in x and x.endswith("(sentence mode)") for x in text) == 3


def test_mix_errors(tmp_path, capsys):
    import json

    from lmlab.cli.main import main
    from lmlab.models.loading import load

    a, b = _toy_models(tmp_path)
    save = ["--save", str(tmp_path / "m.json")]
    assert main(["mix", str(a), str(b), "--weights", "0.5", *save]) == 2
    assert "--weights has 1 numbers for 2 models" in capsys.readouterr().err
    assert main(["mix", str(a), str(b), "--weights", "0.5", "0.6", *save]) == 2
    assert "summing to 1" in capsys.readouterr().err
    assert main(["mix", str(a), str(b), *save]) == 2
    assert "--heldout" in capsys.readouterr().err
    assert not (tmp_path / "m.json").exists()
    other = tmp_path / "other.arpa"
    NgramLM(2, "witten_bell").fit(["completely different words here"]).to_arpa(other)
    assert main(["mix", str(a), str(other), "--weights", "0.5", "0.5", *save]) == 2
    assert "vocabular" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"kind": "mixture", "extra": 1,
                               "components": [{"path": "a.arpa", "weight": "half"}, {"path": "nope.arpa"}]}))
    with pytest.raises(ConfigError) as e:
        load(bad)
    msg = str(e.value)
    assert "unknown field 'extra'" in msg and "component 0" in msg and "component 1" in msg
    missing = tmp_path / "missing.json"
    missing.write_text(json.dumps({"kind": "mixture", "components": [{"path": "gone.arpa", "weight": 1.0}]}))
    with pytest.raises(LmlabError, match="gone.arpa"):
        load(missing)
    loop = tmp_path / "loop.json"
    loop.write_text(json.dumps({"kind": "mixture", "components": [{"path": "loop.json", "weight": 1.0}]}))
    with pytest.raises(LmlabError, match="nested"):
        load(loop)
    (tmp_path / "notmix.json").write_text("{\"kind\": \"rnnlm\"}")
    with pytest.raises(ConfigError, match="not a mixture file"):
        load(tmp_path / "notmix.json")
