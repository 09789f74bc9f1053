"""``lmlab train`` and neural evaluation as users run them (issue 13 items 10, 12, 13, 20, 22):
where a run is saved, what a resumed run reads and which flags it honours, progress bars with a
total, and the scoring mode named beside every perplexity."""

from __future__ import annotations

import argparse
import io
import json
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from lmlab.cli.main import build_parser  # noqa: E402
from lmlab.cli.train import RESUME_ALSO, RESUME_APPLIES  # noqa: E402
from lmlab.errors import ConfigError, TrainingDivergedError  # noqa: E402
from lmlab.models.neural.adapter import TorchLM  # noqa: E402
from lmlab.models.neural.build import build_model  # noqa: E402
from lmlab.models.neural.config import RNNLMConfig, WindowLMConfig  # noqa: E402
from lmlab.models.neural.scoring import stream_logprobs, target_logprobs  # noqa: E402
from lmlab.text.vocab import Vocab, encode_corpus  # noqa: E402
from lmlab.train.loop import TrainConfig, Trainer  # noqa: E402
from tests.cli_run import cli, cli_error

LINES = ["the cat sat on the mat", "a dog saw the cat", "the dog sat", "a cat ran"] * 12
VOCAB = Vocab.build([s.split() for s in LINES])
STREAM, _ = encode_corpus(VOCAB, [s.split() for s in LINES])
TINY = ["--emsize", "6", "--nhid", "6", "--nlayers", "1", "--bptt", "5", "--batch_size", "4", "--threads", "1",
        "--lr", "1", "--quiet"]


@pytest.fixture
def text(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("\n".join(LINES) + "\n")
    return path


def train(capsys, text, save, *extra):
    code, out, err = cli(capsys, "train", "--train", text, "--valid", text, "--save", save, *TINY, *extra)
    assert code == 0, err
    return out


def files(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def state(folder):
    return json.loads((folder / "trainer_state.json").read_text())


def small(**kw):
    return RNNLMConfig(**{"vocab_size": len(VOCAB), "emsize": 6, "nhid": 6, "nlayers": 1, "dropout": 0.0, **kw})


def tcfg(**kw):
    return TrainConfig(**{"epochs": 1, "lr": 1.0, "bptt": 5, "batch_size": 4, "threads": 1, "progress": False, **kw})


# -- item 10: --save on a file, an unavailable --device ----------------------------------------
def test_save_on_a_file_is_refused(tmp_path, text, capsys):
    some_file = tmp_path / "some_file.txt"
    some_file.write_text("keep me\n")
    err = cli_error(capsys, "train", "--train", text, "--save", some_file, *TINY)
    assert f"{some_file}: is a file, not a folder" in err
    err = cli_error(capsys, "train", "--train", text, "--save", some_file / "sub", *TINY)
    assert f"{some_file / 'sub'}: is under {some_file}, a file, not a folder" in err
    assert some_file.read_text() == "keep me\n"
    with pytest.raises(ConfigError, match="is a file"):
        Trainer(small(), tcfg(), VOCAB, some_file)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
@pytest.mark.parametrize("device,expected", [("cuda", "CUDA is not available"), ("cuda:1", "CUDA is not available"),
                                             ("tpu", "not a device name"), ("meta", "lmlab runs on cpu, cuda or mps")])
def test_unavailable_device(tmp_path, text, capsys, device, expected):
    err = cli_error(capsys, "train", "--train", text, "--save", tmp_path / "r", *TINY, "--device", device)
    assert expected in err and not (tmp_path / "r").exists()
    with pytest.raises(ConfigError, match=expected):
        Trainer(small(), tcfg(device=device), VOCAB, tmp_path / "r")
    with pytest.raises(ConfigError, match=expected):
        TorchLM(build_model(small()), small(), VOCAB, device=device)


# -- item 12: never overwrite a model silently; a failed run leaves nothing ---------------------
def test_save_refuses_a_folder_holding_a_model(tmp_path, text, capsys):
    run = tmp_path / "r"
    train(capsys, text, run, "--epochs", "1")
    before = files(run)
    err = cli_error(capsys, "train", "--train", text, "--save", run, *TINY, "--nhid", "8")
    assert "already holds a model" in err and "--resume" in err and "--overwrite" in err
    assert files(run) == before
    train(capsys, text, run, "--nhid", "8", "--epochs", "1", "--overwrite")
    assert json.loads((run / "config.json").read_text())["nhid"] == 8
    assert [h["epoch"] for h in state(run)["history"]] == [1]
    TorchLM.load(run)
    with pytest.raises(ConfigError, match="already holds a model"):
        Trainer(small(), tcfg(), VOCAB, run)


def test_overwrite_keeps_the_old_model_when_the_new_run_fails(tmp_path, text, capsys):
    run = tmp_path / "r"
    train(capsys, text, run, "--epochs", "1")
    before = files(run)
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"the cat sat\n" * 50 + b"the \xff sat\n")
    assert "invalid UTF-8" in cli_error(capsys, "train", "--train", bad, "--save", run, *TINY, "--overwrite")
    assert files(run) == before


def test_a_failed_run_leaves_no_folder(tmp_path, text, capsys):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"the cat sat\n" * 50 + b"the \xff sat\n")
    nested = tmp_path / "a" / "b" / "run"
    assert "invalid UTF-8" in cli_error(capsys, "train", "--train", bad, "--save", nested, *TINY)
    short = tmp_path / "short.txt"
    short.write_text("a b\nc d\n")
    assert "fewer than one BPTT window" in cli_error(capsys, "train", "--train", short, "--save", nested, *TINY)
    assert not (tmp_path / "a").exists()
    trainer = Trainer(small(), tcfg(lr=1e30, clip=0), VOCAB, nested)  # diverges in the first epoch
    with torch.no_grad():
        trainer.model.decoder.weight.mul_(1e30)
    with pytest.raises(TrainingDivergedError, match="no checkpoint yet; the trace is in"):
        trainer.fit(STREAM, STREAM)
    # a divergence keeps only its trace (lmlab diagnose clipping reads it): no model, nothing to resume
    assert [p.name for p in nested.iterdir()] == ["steps.jsonl"]
    assert json.loads((nested / "steps.jsonl").read_text().splitlines()[-1])["diverged"] in ("loss", "gradient norm")


def test_a_failed_first_checkpoint_removes_what_it_made(tmp_path, monkeypatch):
    import os

    def full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError, match="No space"):
        Trainer(small(), tcfg(), VOCAB, tmp_path / "a" / "run").fit(STREAM, STREAM)
    assert not (tmp_path / "a").exists()
    (tmp_path / "mine").mkdir()  # a folder the user made is theirs: it stays
    with pytest.raises(OSError, match="No space"):
        Trainer(small(), tcfg(), VOCAB, tmp_path / "mine").fit(STREAM, STREAM)
    assert (tmp_path / "mine").is_dir() and not list((tmp_path / "mine").iterdir())


# -- item 13: resume reads the recorded data; every other flag is used or refused ---------------
def test_resume_as_the_readme_says(tmp_path, text, capsys, monkeypatch):
    """``lmlab train --resume --save DIR`` from another folder, with relative paths at the start:
    the recorded data is read, and the result is the uninterrupted run's."""
    monkeypatch.chdir(tmp_path)
    train(capsys, "t.txt", "full", "--epochs", "2")
    train(capsys, "t.txt", "part", "--epochs", "1")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    code, _, err = cli(capsys, "train", "--resume", "--save", tmp_path / "part", "--epochs", "2", "--quiet")
    assert code == 0, err
    assert state(tmp_path / "part")["source"]["train"] == str(text)
    full, part = state(tmp_path / "full")["history"], state(tmp_path / "part")["history"]
    assert [h["epoch"] for h in part] == [1, 2] and part[-1]["valid_ppl"] == full[-1]["valid_ppl"]
    assert (tmp_path / "part" / "model.safetensors").read_bytes() == (tmp_path / "full" / "model.safetensors").read_bytes()


def test_resume_reads_a_named_dataset_again(tmp_path, capsys, monkeypatch):
    from lmlab.data import readers

    calls = []

    def fake(name, split):
        calls.append((name, split))
        return LINES

    monkeypatch.setattr(readers, "lm_lines", fake)
    code, _, err = cli(capsys, "train", "--data", "toyset", "--save", tmp_path / "r", *TINY, "--epochs", "1")
    assert code == 0, err
    assert calls == [("toyset", "train"), ("toyset", "valid")]
    assert state(tmp_path / "r")["source"] == {"data": "toyset", "train": None, "valid": None, "char": False,
                                                "min_count": 1}
    code, _, err = cli(capsys, "train", "--resume", "--save", tmp_path / "r", "--epochs", "2", "--quiet")
    assert code == 0, err
    assert calls[2:] == [("toyset", "train"), ("toyset", "valid")]


def test_resume_of_a_run_that_recorded_no_data(tmp_path, text, capsys):
    run = tmp_path / "r"
    train(capsys, text, run, "--epochs", "1")
    st = state(run)
    del st["source"]  # as written before the data source was recorded
    (run / "trainer_state.json").write_text(json.dumps(st))
    assert "does not record its data" in cli_error(capsys, "train", "--resume", "--save", run, "--epochs", "2")
    code, _, err = cli(capsys, "train", "--resume", "--save", run, "--epochs", "2", "--train", text, "--quiet")
    assert code == 0, err
    assert state(run)["source"]["train"] == str(text)


def test_resume_applies_the_flags_it_lists(tmp_path, text, capsys):
    run = tmp_path / "r"
    train(capsys, text, run, "--epochs", "1", "--optimizer", "adam")
    step = state(run)["step"]
    code, _, err = cli(capsys, "train", "--resume", "--save", run, "--epochs", "2", "--lr", "0.25", "--clip", "0.5",
                       "--patience", "3", "--max_batches", "2", "--device", "cpu", "--quiet")
    assert code == 0, err
    st = state(run)
    assert [h["epoch"] for h in st["history"]] == [1, 2] and st["history"][1]["lr"] == 0.25
    assert st["step"] == step + 2
    assert (st["train_config"]["clip"], st["train_config"]["patience"], st["train_config"]["max_batches"]) == (0.5, 3, 2)
    assert st["train_config"]["optimizer"] == "adam"  # the run's own
    code, _, err = cli(capsys, "train", "--resume", "--save", run, "--epochs", "3", "--dry-run", "--quiet")
    assert code == 0, err
    assert state(run)["step"] == step + 4  # --dry-run: two batches


def _example_value(action) -> list[str]:
    if action.nargs == 0:
        return []
    if action.choices:
        return [str(next(iter(action.choices)))]
    if action.type is None:
        return ["x.txt"]
    for value in ("1", "0.5", "0"):  # train's typed options are numbers: the first its type takes
        try:
            action.type(value)
            return [value]
        except argparse.ArgumentTypeError:
            pass
    raise AssertionError(f"no example value for {action.option_strings[0]}")


def test_resume_refuses_every_other_option_even_at_its_default(tmp_path, capsys):
    """Every option of ``lmlab train`` not listed for --resume is refused by name, whatever its
    value (--batch_size 20 is the default and still refused): options added later are covered."""
    parser = build_parser("train")
    train_parser = next(a for a in parser._actions if a.dest == "command").choices["train"]
    refused = [a for a in train_parser._actions if a.option_strings and a.dest != "help"
               and a.dest not in RESUME_APPLIES + RESUME_ALSO]
    assert {a.dest for a in refused} >= {"model", "emsize", "nhid", "optimizer", "batch_size", "bptt", "seed",
                                         "threads", "char", "mode", "overwrite", "min_count", "pretrained"}
    for action in refused:
        err = cli_error(capsys, "train", "--resume", "--save", tmp_path / "r", action.option_strings[0],
                        *_example_value(action))
        assert f"--{action.dest.replace('_run', '-run')}" in err and "cannot be given with it" in err, err
    err = cli_error(capsys, "train", "--resume", "--save", tmp_path / "r", "--batch_size", "20")
    assert "--batch_size cannot be given" in err


# -- item 20: progress bars with a total -------------------------------------------------------
class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize("cfg,mode", [(small(), "stream"), (small(cell="gru"), "sentence"),
                                      (WindowLMConfig(vocab_size=len(VOCAB), context=2, emsize=4, nhid=4), "stream")],
                         ids=["stream", "sentence", "window"])
@pytest.mark.parametrize("limit", [{}, {"max_batches": 3}, {"dry_run": True}], ids=["all", "max3", "dry"])
@pytest.mark.parametrize("cut", [0, 1, 7], ids=["", "-1", "-7"])
def test_the_training_bar_total_is_the_number_of_batches(tmp_path, cfg, mode, limit, cut):
    stream = STREAM[: len(STREAM) - cut]  # columns and windows that do not divide the text evenly
    trainer = Trainer(cfg, tcfg(mode=mode, **limit), VOCAB, tmp_path / "r")
    total = trainer.n_batches(stream)
    trainer.fit(stream, STREAM)
    assert trainer.step == total > 0


def test_progress_bars_show_a_total_and_reach_it(tmp_path, monkeypatch):
    import functools

    import tqdm

    monkeypatch.setattr(tqdm, "tqdm", functools.partial(tqdm.tqdm, mininterval=0, miniters=1))  # draw every step
    term = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", term)
    trainer = Trainer(small(), tcfg(progress=True, max_batches=3), VOCAB, tmp_path / "r")
    trainer.fit(STREAM, STREAM)
    n_scored = int(np.count_nonzero(STREAM != VOCAB.bos_id))
    out = term.getvalue()
    assert "epoch 1:   0%" in out and "0/3 [00:00<?" in out  # batches, with a percentage and an ETA
    assert "epoch 1: 100%" in out and "3/3 [" in out
    assert "scoring (stream): 100%" in out and f"{n_scored}/{n_scored}" in out
    term.truncate(0)
    lm = TorchLM(trainer.model, small(), VOCAB, progress=True)
    sents = [VOCAB.encode(s.split()) for s in LINES]
    lm.corpus_token_logprobs(sents)
    assert "scoring (sentence): 100%" in term.getvalue() and f"{n_scored}/{n_scored}" in term.getvalue()


# -- item 22: the mode beside every figure; one carried stream; batched scoring -------------------
def test_training_and_perplexity_report_the_same_stream_figure_and_say_so(tmp_path, text, capsys, monkeypatch):
    run = tmp_path / "r"
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    trainer = Trainer(small(), tcfg(progress=True), VOCAB, run)
    trainer.fit(STREAM, STREAM)
    log = sys.stderr.getvalue()
    monkeypatch.undo()
    assert "valid ppl" in log and "(stream, 10 columns)" in log
    row = trainer.history[0]
    assert (row["valid_mode"], row["valid_columns"]) == ("stream", 10)
    code, out, _ = cli(capsys, "perplexity", run, "--text", text, "--stream", "--json")
    stream = json.loads(out)
    assert code == 0 and (stream["mode"], stream["columns"]) == ("stream", 10)
    assert stream["perplexity"] == pytest.approx(trainer.best, rel=1e-9)
    code, out, _ = cli(capsys, "perplexity", run, "--text", text, "--json")
    sentence = json.loads(out)
    assert (sentence["mode"], sentence["columns"]) == ("sentence", None)
    assert sentence["tokens"] == stream["tokens"] and sentence["perplexity"] != pytest.approx(stream["perplexity"])
    code, out, _ = cli(capsys, "perplexity", run, "--text", text)
    assert out.splitlines()[0].startswith("sentence mode: every line scored from <s>")
    code, out, _ = cli(capsys, "perplexity", run, "--text", text, "--stream")
    assert out.splitlines()[0].startswith("stream mode:") and "10 columns" in out.splitlines()[0]
    code, out, _ = cli(capsys, "perplexity", run, "--text", text, "--stream", "--columns", "1")
    assert "one column" in out.splitlines()[0]
    code, out, _ = cli(capsys, "compare", run, run, "--text", text)
    assert code == 0 and out.splitlines()[0].startswith("sentence mode")
    code, out, _ = cli(capsys, "compare", run, "--text", text, "--json")
    assert json.loads(out)[0]["mode"] == "sentence"
    code, out, err = cli(capsys, "train", "--train", text, "--save", tmp_path / "r2", *TINY[:-1], "--epochs", "1")
    assert "(stream, 10 columns)" in err and "(stream, 10 columns)" in out  # the log lines and the summary


def test_window_models_validate_in_sentence_mode(tmp_path, text, capsys):
    cfg = WindowLMConfig(vocab_size=len(VOCAB), context=2, emsize=4, nhid=4, dropout=0.0)
    trainer = Trainer(cfg, tcfg(), VOCAB, tmp_path / "w")
    trainer.fit(STREAM, STREAM)
    assert trainer.history[0]["valid_mode"] == "sentence" and trainer.valid_mode_label == "sentence"
    code, out, _ = cli(capsys, "perplexity", tmp_path / "w", "--text", text, "--json")
    assert json.loads(out)["perplexity"] == pytest.approx(trainer.best, rel=1e-9)
    code, out, _ = cli(capsys, "perplexity", tmp_path / "w", "--text", text, "--json", "--stream")
    assert code == 0 and json.loads(out)["mode"] == "sentence"  # a window never crosses a line


def test_one_column_is_the_text_read_as_one_carried_stream():
    """--columns 1 against stepping the model token by token through the whole text, the state
    never reset (brute force through the LanguageModel interface)."""
    torch.manual_seed(5)
    lm = TorchLM(build_model(small(nlayers=2)), small(nlayers=2), VOCAB)
    ids = STREAM[:150]
    lp, targets = stream_logprobs(lm.model, ids, True, columns=1, bptt=7)
    state, expected = lm.null_state(), []
    for tok in ids.tolist():
        if tok != VOCAB.bos_id:
            expected.append(lm.next_logprobs([state])[0, tok])
        state = lm.advance(state, tok)
    assert np.array_equal(targets, ids[ids != VOCAB.bos_id])
    np.testing.assert_allclose(lp, expected, rtol=0, atol=1e-5)
    lp10, _ = stream_logprobs(lm.model, ids, True, columns=10, bptt=7)
    assert abs(lp10.sum() - lp.sum()) > 1e-3  # ten fresh starts change the figure


def test_columns_errors(tmp_path, text, capsys):
    run = tmp_path / "r"
    train(capsys, text, run, "--epochs", "1")
    assert "--columns: applies only with --stream" in cli_error(capsys, "perplexity", run, "--text", text, "--columns", "1")
    assert "not a positive integer" in cli_error(capsys, "perplexity", run, "--text", text, "--stream", "--columns", "0")
    arpa = tmp_path / "lm.arpa"
    assert cli(capsys, "ngram", "-o", "2", "--text", text, "--arpa", arpa, "--discount_fallback")[0] == 0
    assert "--stream is for neural models" in cli_error(capsys, "perplexity", arpa, "--text", text, "--stream")


@pytest.mark.parametrize("cfg", [small(cell="lstm", nlayers=2), small(cell="gru_cho"), small(cell="rnn_tanh", tied=True),
                                 small(adaptive_cutoffs=(5,), nhid=8),
                                 WindowLMConfig(vocab_size=len(VOCAB), context=3, emsize=4, nhid=5, direct=True)],
                         ids=["lstm", "gru_cho", "tanh-tied", "adaptive", "window"])
def test_batched_sentence_scoring_equals_one_sentence_at_a_time(cfg, monkeypatch):
    """Sentences of every length padded into batches (several batches, several output chunks
    per batch) give each sentence the per-token log-probs of stepping through it alone."""
    torch.manual_seed(7)
    model = build_model(cfg)
    rng = np.random.default_rng(0)
    sents = [rng.integers(3, len(VOCAB), size=n) for n in rng.permutation(np.repeat(np.arange(0, 16), 2))]
    lm = TorchLM(model, cfg, VOCAB, batch_size=5)
    monkeypatch.setattr(TorchLM, "SCORE_CHUNK", 7 * len(VOCAB))  # 7 rows of logits at a time
    batched = lm.corpus_token_logprobs(sents)
    for s, b in zip(sents, batched, strict=True):
        assert len(b) == len(s) + 1 and np.isfinite(b).all()
        np.testing.assert_allclose(b, lm.token_logprobs(s), rtol=0, atol=1e-5)
        np.testing.assert_allclose(b, TorchLM(model, cfg, VOCAB, batch_size=1).corpus_token_logprobs([s])[0],
                                   rtol=0, atol=1e-6)


def test_target_logprobs_matches_the_float64_softmax():
    torch.manual_seed(0)
    logits = torch.randn(300, 5000) * 6
    logits[:, 1] = float("-inf")  # <s>, masked
    logits[0] = 0.0  # a flat row
    targets = torch.randint(2, 5000, (300,))
    ref = torch.log_softmax(logits.double(), dim=-1).gather(1, targets[:, None]).squeeze(1)
    got = target_logprobs(logits.clone(), targets, inplace=True)
    assert got.dtype == torch.float64
    assert float((got - ref).abs().max()) < 5e-7
    assert torch.equal(target_logprobs(logits, targets), got)


def test_resume_through_the_api_applies_or_refuses_the_same_way(tmp_path):
    Trainer(small(), tcfg(optimizer="adam", lr=0.01), VOCAB, tmp_path / "r").fit(STREAM, STREAM)
    with pytest.raises(ConfigError, match="keeps its own batch_size, seed; it may change only epochs"):
        Trainer.resume(tmp_path / "r", batch_size=8, seed=2)
    resumed = Trainer.resume(tmp_path / "r", epochs=2, lr=0.003, max_batches=1)
    assert resumed.lr == 0.003 and all(g["lr"] == 0.003 for g in resumed.optimizer.param_groups)
    step = resumed.step
    resumed.fit(STREAM, STREAM)
    assert resumed.step == step + 1 and resumed.history[-1]["lr"] == 0.003
    assert resumed.tcfg.optimizer == "adam" and resumed.tcfg.batch_size == 4


def test_without_valid_the_held_out_lines_are_not_trained_on(tmp_path, capsys):
    """--train without --valid: the last tenth (at most 1000 lines) is validation only, so a word
    seen only there is not in the vocabulary, and validation never scores text trained on."""
    from lmlab.cli.train import HOLDOUT, held_out

    lines = [f"w{i % 7} w{(i + 3) % 7} w{(i + 5) % 7}" for i in range(18)] + ["zebra w1", "zebra w2"]
    text = tmp_path / "t.txt"
    text.write_text("\n".join(lines) + "\n")
    code, _, err = cli(capsys, "train", "--train", text, "--save", tmp_path / "r", "--epochs", "1", *TINY)
    assert code == 0, err
    assert "zebra" not in json.loads((tmp_path / "r" / "vocab.json").read_text())["tokens"]
    assert held_out(lines, "t") == (lines[:18], lines[18:])
    big = [str(i) for i in range(30_000)]
    assert held_out(big, "t") == (big[:-HOLDOUT], big[-HOLDOUT:])
    assert held_out(["a", "b"], "t") == (["a"], ["b"])
    assert "1 line is too few" in cli_error(capsys, "train", "--train", _one_line(tmp_path), "--save",
                                            tmp_path / "r2", *TINY)


def _one_line(folder):
    path = folder / "one.txt"
    path.write_text("a b c\n")
    return path


@pytest.mark.parametrize("flag,value,says", [("--lr", "1e300", "lr must be > 0 and at most 3.4e+38"),
                                             ("--lr", "inf", "--lr"), ("--clip", "nan", "--clip")])
def test_learning_rates_the_optimizer_cannot_hold_are_refused_before_any_work(tmp_path, capsys, flag, value, says):
    text = tmp_path / "t.txt"
    text.write_text("a b c\nd e f\n" * 20)
    assert says in cli_error(capsys, "train", "--train", text, "--save", tmp_path / "r", *TINY, flag, value)
    assert not (tmp_path / "r").exists()


# -- issue 13 review: the data options given with --resume replace the recorded ones -----------
def test_resume_with_valid_alone_reads_and_records_it(tmp_path, text, capsys):
    other = tmp_path / "v.txt"
    other.write_text("the cat ran\na dog sat on the mat\n")
    for name, extra in (("same", []), ("new", ["--valid", other])):
        train(capsys, text, tmp_path / name, "--epochs", "1")
        code, _, err = cli(capsys, "train", "--resume", "--save", tmp_path / name, "--epochs", "2", "--quiet", *extra)
        assert code == 0, err
    assert state(tmp_path / "new")["source"]["valid"] == str(other)
    assert state(tmp_path / "new")["source"]["train"] == str(text)
    same, new = state(tmp_path / "same")["history"][-1], state(tmp_path / "new")["history"][-1]
    assert same["valid_ppl"] != new["valid_ppl"]  # the other dev text was read


def test_resume_with_nothing_left_to_train_says_so(tmp_path, text, capsys):
    run = tmp_path / "r"
    train(capsys, text, run, "--epochs", "2")
    before = files(run)
    code, out, err = cli(capsys, "train", "--resume", "--save", run, "--epochs", "1", "--quiet")
    assert code == 0 and out == ""
    assert err.count("\n") == 1 and "nothing to train" in err and "2 of 1 epochs" in err, err
    assert files(run) == before
