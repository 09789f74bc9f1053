"""Training: truncated BPTT, NaN guard, checkpoints, resume, bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from lmlab.errors import (  # noqa: E402
    ConfigError,
    CorpusError,
    ModelFormatError,
    TrainingDivergedError,
    VocabMismatchError,
)
from lmlab.models.neural.adapter import TorchLM  # noqa: E402
from lmlab.models.neural.checkpoint import load_model  # noqa: E402
from lmlab.models.neural.config import RNNLMConfig, WindowLMConfig, config_from_dict  # noqa: E402
from lmlab.text.vocab import Vocab, encode_corpus  # noqa: E402
from lmlab.train.loop import TrainConfig, Trainer  # noqa: E402

LINES = [s.split() for s in (["the cat sat on the mat", "a dog saw the cat", "the dog sat", "a cat ran"] * 30)]
VOCAB = Vocab.build(LINES)
STREAM, _ = encode_corpus(VOCAB, LINES)
VALID, _ = encode_corpus(VOCAB, LINES[:8])


def small(cell="lstm", **kw):
    return RNNLMConfig(**{"vocab_size": len(VOCAB), "emsize": 8, "nhid": 8, "nlayers": 2, "cell": cell,
                          "dropout": 0.1, **kw})


def tcfg(**kw):
    base = dict(epochs=2, lr=1.0, bptt=5, batch_size=4, threads=1, progress=False)
    base.update(kw)
    return TrainConfig(**base)


def test_truncated_bptt_carries_state_and_cuts_the_graph(tmp_path):
    trainer = Trainer(small(), tcfg(epochs=1, max_batches=3), VOCAB, tmp_path / "r")
    seen = []
    real = trainer.model._rnn

    def spy(emb, hidden):
        seen.append(tuple(h for h in hidden))
        out, new = real(emb, hidden)
        seen.append(new)
        return out, new

    trainer.model._rnn = spy
    trainer.fit(STREAM, VALID)
    # windows 2 and 3 start from the previous window's final state, detached from its graph
    for k in (2, 4):
        prev_final, given = seen[k - 1], seen[k]
        assert all(torch.equal(a, b) for a, b in zip(prev_final, given, strict=True))
        assert all(a.grad_fn is not None for a in prev_final)
        assert all(b.grad_fn is None and not b.requires_grad for b in given)


def test_no_gradient_flows_past_the_truncation_point():
    torch.manual_seed(0)
    from lmlab.models.neural.build import build_model

    model = build_model(small(dropout=0.0))
    first, second = torch.randint(3, len(VOCAB), (5, 2)), torch.randint(3, len(VOCAB), (5, 2))
    emb1 = model.encoder(first).detach().requires_grad_(True)
    out, hidden = model._rnn(emb1, model.init_hidden(2))
    carried = tuple(h.detach() for h in hidden)  # what the trainer does
    logits, _ = model(second, carried)
    logits.logsumexp(-1).sum().backward()
    assert emb1.grad is None  # nothing reached the first window
    _, hidden2 = model._rnn(emb1, model.init_hidden(2))
    logits, _ = model(second, hidden2)  # without the cut, gradient does flow back
    logits.logsumexp(-1).sum().backward()
    assert emb1.grad is not None and float(emb1.grad.abs().sum()) > 0


@pytest.mark.parametrize("cfg", [small("lstm"), small("gru_cho"), WindowLMConfig(vocab_size=len(VOCAB), context=2,
                                                                                  emsize=4, nhid=8)],
                         ids=["lstm", "gru_cho", "window"])
def test_training_lowers_perplexity_and_saves_a_loadable_model(tmp_path, cfg):
    trainer = Trainer(cfg, tcfg(epochs=3, lr=0.02, optimizer="adam"), VOCAB, tmp_path / "r")
    hist = trainer.fit(STREAM, VALID)
    assert hist[-1]["valid_ppl"] < hist[0]["valid_ppl"] < len(VOCAB) * 2
    lm = TorchLM.load(tmp_path / "r")
    enc = [VOCAB.encode(s) for s in LINES[:8]]
    lp = np.concatenate(lm.corpus_token_logprobs(enc))
    # the sentence-independent perplexity of the saved model is below the uniform distribution's
    assert np.isfinite(lp).all() and np.exp(-lp.mean()) < len(VOCAB) - 1
    # and the saved model is the best epoch's: its validation perplexity is the lowest in the history
    from lmlab.train.loop import stream_perplexity

    ppl = stream_perplexity(lm.model, VALID, lm.is_rnn, trainer.tcfg.eval_batch_size, trainer.tcfg.bptt,
                            getattr(cfg, "context", 0))
    assert ppl == pytest.approx(min(h["valid_ppl"] for h in hist), rel=1e-9)
    log = [json.loads(x) for x in (tmp_path / "r" / "log.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in log] == [1, 2, 3]


def test_sentence_mode(tmp_path):
    trainer = Trainer(small("gru"), tcfg(epochs=2, mode="sentence", optimizer="adam", lr=0.02), VOCAB, tmp_path / "r")
    hist = trainer.fit(STREAM, VALID)
    assert hist[-1]["valid_ppl"] < hist[0]["valid_ppl"]


def test_resume_equals_uninterrupted(tmp_path):
    full = Trainer(small(), tcfg(epochs=3, optimizer="adam", lr=0.01), VOCAB, tmp_path / "a")
    full.fit(STREAM, VALID)
    part = Trainer(small(), tcfg(epochs=2, optimizer="adam", lr=0.01), VOCAB, tmp_path / "b")
    part.fit(STREAM, VALID)
    resumed = Trainer.resume(tmp_path / "b", VOCAB, epochs=3)
    assert resumed.threads == 1 and resumed.epoch == 2
    resumed.fit(STREAM, VALID)
    for (k, a), (_, b) in zip(full.model.state_dict().items(), resumed.model.state_dict().items(), strict=True):
        assert torch.equal(a, b), k
    assert full.history[-1]["valid_ppl"] == resumed.history[-1]["valid_ppl"]


def test_resume_with_another_vocabulary(tmp_path):
    Trainer(small(), tcfg(epochs=1), VOCAB, tmp_path / "a").fit(STREAM, VALID)
    other = Vocab.build([["x", "y"]])
    with pytest.raises(VocabMismatchError, match="vocabulary mismatch"):
        Trainer.resume(tmp_path / "a", other)


def test_nan_loss_stops_and_keeps_last_good_checkpoint(tmp_path):
    trainer = Trainer(small("rnn_relu", init="identity"), tcfg(epochs=1, lr=0.05), VOCAB, tmp_path / "r")
    trainer.fit(STREAM, VALID)
    good = (tmp_path / "r" / "model.safetensors").read_bytes()
    trainer.tcfg = tcfg(epochs=2, lr=1e30, clip=0)
    trainer._set_lr(1e30)
    with torch.no_grad():
        trainer.model.decoder.weight.mul_(1e30)
    with pytest.raises(TrainingDivergedError, match=r"epoch 2, step \d+"):
        trainer.fit(STREAM, VALID)
    assert (tmp_path / "r" / "model.safetensors").read_bytes() == good
    load_model(tmp_path / "r")


def test_full_disk_during_checkpoint_keeps_previous(tmp_path, monkeypatch):
    import os

    trainer = Trainer(small(), tcfg(epochs=1), VOCAB, tmp_path / "r")
    trainer.fit(STREAM, VALID)
    before = {p.name: p.read_bytes() for p in (tmp_path / "r").iterdir()}

    def full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    trainer.tcfg = tcfg(epochs=2)
    with pytest.raises(OSError, match="No space"):
        trainer.fit(STREAM, VALID)
    monkeypatch.undo()
    after = {p.name: p.read_bytes() for p in (tmp_path / "r").iterdir()}
    assert after == before
    TorchLM.load(tmp_path / "r")


def test_corpus_shorter_than_one_bptt_window(tmp_path):
    short, _ = encode_corpus(VOCAB, LINES[:2])
    with pytest.raises(CorpusError, match="fewer than one BPTT window"):
        Trainer(small(), tcfg(bptt=35, batch_size=20), VOCAB, tmp_path / "r").fit(short, VALID)


def test_config_errors_all_at_once():
    with pytest.raises(ConfigError) as info:
        config_from_dict({"kind": "rnnlm", "vocab_size": 10, "cell": "lstmm", "nhid": 0, "colour": "red",
                          "dropout": 1.5})
    msg = str(info.value)
    assert "unknown field 'colour'" in msg
    with pytest.raises(ConfigError) as info:
        config_from_dict({"kind": "rnnlm", "vocab_size": 10, "cell": "lstmm", "nhid": 0, "dropout": 1.5})
    assert len(info.value.problems) == 3
    with pytest.raises(ConfigError) as info:
        Trainer(small(), TrainConfig(optimizer="adagrad", epochs=0, lr=-1), VOCAB, "/tmp/never")
    assert len(info.value.problems) == 3


def test_truncated_and_tampered_weights(tmp_path):
    Trainer(small(), tcfg(epochs=1), VOCAB, tmp_path / "r").fit(STREAM, VALID)
    w = tmp_path / "r" / "model.safetensors"
    data = w.read_bytes()
    w.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFormatError, match="truncated or tampered"):
        TorchLM.load(tmp_path / "r")
    cfg = json.loads((tmp_path / "r" / "config.json").read_text())
    w.write_bytes(data)
    (tmp_path / "r" / "config.json").write_text(json.dumps(dict(cfg, nhid=16)))
    with pytest.raises(ModelFormatError, match="shape"):
        TorchLM.load(tmp_path / "r")


def test_foreign_ids_are_refused(tmp_path):
    from lmlab.models.neural.build import build_model

    lm = TorchLM(build_model(small()), small(), VOCAB)
    with pytest.raises(VocabMismatchError, match="another vocabulary"):
        lm.corpus_token_logprobs([np.array([len(VOCAB) + 3])])


def test_cli_dry_run_and_perplexity(tmp_path, capsys):
    from lmlab.cli.main import main

    text = tmp_path / "t.txt"
    text.write_text("\n".join(" ".join(s) for s in LINES) + "\n")
    code = main(["train", "--train", str(text), "--valid", str(text), "--save", str(tmp_path / "m"),
                 "--model", "gru", "--emsize", "8", "--nhid", "8", "--bptt", "5", "--batch_size", "4",
                 "--dropouti", "0.3", "--dropout_out", "0.1", "--dry-run", "--quiet", "--threads", "1"])
    assert code == 0
    saved = json.loads((tmp_path / "m" / "config.json").read_text())
    assert (saved["dropout"], saved["dropout_emb"], saved["dropout_between"], saved["dropout_out"]) == (0.2, 0.3, None, 0.1)
    capsys.readouterr()
    assert main(["perplexity", str(tmp_path / "m"), "--text", str(text), "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["tokens"] == sum(len(s) + 1 for s in LINES) and rep["oovs"] == 0
    assert main(["perplexity", str(tmp_path / "m"), "--text", str(text), "--json", "--stream"]) == 0
    stream = json.loads(capsys.readouterr().out)
    assert stream["tokens"] == rep["tokens"] and 1 < stream["perplexity"] < 2 * len(VOCAB)
    assert (rep["mode"], rep["columns"], stream["mode"], stream["columns"]) == ("sentence", None, "stream", 10)


def test_pretrained_embeddings_frozen(tmp_path):
    vec = tmp_path / "glove.txt"
    vec.write_text("the 1 2 3 4 5 6 7 8\ncat 0.5 0.5 0.5 0.5 0.5 0.5 0.5 0.5\nunrelated 9 9 9 9 9 9 9 9\n")
    w2v = tmp_path / "w2v.txt"
    w2v.write_text("2 8\n" + vec.read_text().split("\n", 1)[1])
    cfg = small(freeze_embeddings=True)
    trainer = Trainer(cfg, tcfg(epochs=1), VOCAB, tmp_path / "r", pretrained=vec)
    assert trainer.coverage == pytest.approx(2 / len(VOCAB))
    before = trainer.model.encoder.weight.detach().clone()
    assert before[VOCAB.lookup("the")].tolist() == [1, 2, 3, 4, 5, 6, 7, 8]
    trainer.fit(STREAM, VALID)
    assert torch.equal(trainer.model.encoder.weight, before)  # frozen
    t2 = Trainer(small(), tcfg(epochs=1), VOCAB, tmp_path / "r2", pretrained=w2v)
    assert t2.model.encoder.weight[VOCAB.lookup("cat")].tolist() == [0.5] * 8
    bad = tmp_path / "bad.txt"
    bad.write_text("the 1 2\ncat 1 2 3\n")
    with pytest.raises(CorpusError, match="line 2"):
        Trainer(small(), tcfg(), VOCAB, tmp_path / "r3", pretrained=bad)


def test_adaptive_softmax(tmp_path):
    cfg = small(adaptive_cutoffs=(4, 8), nhid=32, emsize=16)
    trainer = Trainer(cfg, tcfg(epochs=2, optimizer="adam", lr=0.02), VOCAB, tmp_path / "r")
    hist = trainer.fit(STREAM, VALID)
    assert hist[-1]["valid_ppl"] < hist[0]["valid_ppl"]
    counts = np.bincount(STREAM, minlength=len(VOCAB))
    rank = trainer.model.rank.numpy()
    assert rank[np.argmax(np.where(np.arange(len(VOCAB)) == 1, -1, counts))] == 0  # the most frequent first
    lm = TorchLM.load(tmp_path / "r")
    d = lm.next_logprobs([lm.begin_state(), lm.advance(lm.begin_state(), 3)])
    np.testing.assert_allclose(np.exp(d).sum(axis=1), 1.0, atol=1e-9)
    assert np.all(np.isneginf(d[:, VOCAB.bos_id]))
    enc = [VOCAB.encode(s) for s in LINES[:5]]
    for s, b in zip(enc, lm.corpus_token_logprobs(enc), strict=True):
        np.testing.assert_allclose(lm.token_logprobs(s), b, atol=1e-5)
    with pytest.raises(ConfigError, match="adaptive_cutoffs"):
        config_from_dict({"vocab_size": 10, "adaptive_cutoffs": [5, 3]})


def test_stream_perplexity_keeps_the_model_mode(tmp_path):
    from lmlab.models.neural.build import build_model
    from lmlab.train.loop import stream_perplexity

    model = build_model(small())
    model.eval()
    stream_perplexity(model, VALID, True, 2, 5)
    assert not model.training
    model.train()
    stream_perplexity(model, VALID, True, 2, 5)
    assert model.training
    lm = TorchLM(model, small(), VOCAB)
    model.train()  # a caller left dropout on: scoring must still be deterministic
    enc = [VOCAB.encode(s) for s in LINES[:4]]
    a, b = lm.corpus_token_logprobs(enc), lm.corpus_token_logprobs(enc)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def test_cli_resume_extends_epochs(tmp_path):
    from lmlab.cli.main import main

    text = tmp_path / "t.txt"
    text.write_text("\n".join(" ".join(s) for s in LINES) + "\n")
    common = ["--train", str(text), "--valid", str(text), "--save", str(tmp_path / "m"), "--quiet"]
    assert main(["train", *common, "--model", "gru", "--emsize", "8", "--nhid", "8", "--bptt", "5",
                 "--batch_size", "4", "--epochs", "1", "--threads", "1", "--lr", "1"]) == 0
    assert main(["train", *common, "--resume", "--epochs", "2"]) == 0
    state = json.loads((tmp_path / "m" / "trainer_state.json").read_text())
    assert [h["epoch"] for h in state["history"]] == [1, 2] and state["threads"] == 1


def test_pretrained_lowercased_vectors_fill_cased_words_exact_form_first(tmp_path):
    from lmlab.models.neural.embeddings import read_vectors
    from lmlab.text.vocab import Vocab

    vocab = Vocab.from_tokens(["The", "the", "Cat", "DOG", "Paris"])
    vec = tmp_path / "lower.txt"
    vec.write_text("the 1 1\ncat 2 2\nDOG 3 3\ndog 4 4\nparis 6 6\nParis 5 5\n")
    v, found = read_vectors(vec, vocab)
    row = lambda t: v[vocab.lookup(t)].tolist()  # noqa: E731
    assert row("The") == row("the") == [1, 1]  # "The" is not in the file: "the"'s vector
    assert row("Cat") == [2, 2]
    assert row("DOG") == [3, 3] and row("Paris") == [5, 5]  # the exact form wins, before or after the lower one
    assert found[[vocab.lookup(t) for t in ("The", "the", "Cat", "DOG", "Paris")]].all()
    assert found.sum() == 5  # the specials stay uncovered
