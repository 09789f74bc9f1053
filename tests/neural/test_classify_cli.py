"""``lmlab train --kind classify``, ``lmlab predict`` and ``lmlab evaluate`` end to end: a sentence
classifier trained by the generic trainer from ``LABEL TEXT`` files, its checkpoint (kind
classify, vocab.json, labels.labels.json), its labels for stdin, its report, resume, every pooling
and direction, the bad inputs, and MR's folds with their fixed dev split."""

from __future__ import annotations

import json

import numpy as np

import pytest

torch = pytest.importorskip("torch")

from lmlab.data.tasks import classification_split, hold_out_dev, mr_examples  # noqa: E402
from lmlab.models.neural.checkpoint import load_checkpoint, read_tensors, save_checkpoint  # noqa: E402
from tests.cli_run import assert_resume_repeats_the_run, cli, cli_error, state

TRAIN = ["1 a good film", "0 bad", "1 good good fun", "0 a bad bad plot", "1 fun", "0 plot and bad film",
         "1 great fun film", "0 dull and bad", "1 a great film", "0 a dull plot"]
VALID = ["1 good fun", "0 bad plot", "1 a great good film", "0 dull", "1 fun film", "0 a bad dull film"]
TINY = ["--emsize", "8", "--nhid", "8", "--nlayers", "1", "--lr", "0.05", "--batch_size", "4", "--threads", "1",
        "--quiet"]


@pytest.fixture
def files(tmp_path):
    train, valid = tmp_path / "train.txt", tmp_path / "valid.txt"
    train.write_text("\n".join(TRAIN * 3) + "\n")
    valid.write_text("\n".join(VALID) + "\n")
    return train, valid


def train(capsys, files, save, *extra):
    code, out, err = cli(capsys, "train", "--kind", "classify", "--train", files[0], "--valid", files[1],
                         "--save", save, *TINY, *extra)
    assert code == 0, err
    return out


def test_train_predict_and_evaluate_a_classifier(tmp_path, files, capsys, monkeypatch):
    run = tmp_path / "cls"
    out = train(capsys, files, run, "--epochs", "4", "--pooling", "mean")
    assert "best dev accuracy" in out and "(sentence accuracy)" in out
    config = json.loads((run / "config.json").read_text())
    assert config["kind"] == "classify" and config["pooling"] == "mean" and config["bidirectional"] is True
    assert {"vocab.json", "labels.labels.json", "model.safetensors"} <= {p.name for p in run.iterdir()}
    _, meta = read_tensors(run / "model.safetensors")
    assert set(meta) == {"vocab_fingerprint", "labels_fingerprint.labels"}
    st = state(run)
    assert [h["epoch"] for h in st["history"]] == [1, 2, 3, 4]
    assert st["best"] == max(h["valid_accuracy"] for h in st["history"])
    # the saved model is the best epoch's: lmlab evaluate on the dev file gives the dev figure
    code, out, err = cli(capsys, "evaluate", run, "--test", files[1], "--json")
    assert code == 0, err
    rep = json.loads(out)
    assert rep["accuracy"] == pytest.approx(st["best"], abs=1e-12) and rep["n"] == len(VALID)
    assert set(rep["per_class"]) <= {"0", "1"} and rep["n_unseen"] == 0 and 0 <= rep["macro_f1"] <= 1
    assert sum(rep["per_class"][c]["support"] for c in rep["per_class"]) == len(VALID)
    code, out, _ = cli(capsys, "evaluate", run, "--test", files[1])
    assert code == 0 and out.startswith("accuracy ") and "on 6 sentences" in out and "precision" in out
    # predict: one label a line, an empty line kept; the labels are those evaluate scored
    texts = [v.split(" ", 1)[1] for v in VALID]
    stdin = ("\n".join(texts[:2]) + "\n\n" + "\n".join(texts[2:]) + "\n").encode()
    code, out, err = cli(capsys, "predict", run, stdin=stdin, monkeypatch=monkeypatch)
    assert code == 0, err
    labels = out.split("\n")
    assert len(labels) == len(texts) + 2 and labels[2] == "" and labels[-1] == ""
    pred = labels[:2] + labels[3:-1]
    assert set(pred) <= {"0", "1"}
    assert sum(p == v.split()[0] for p, v in zip(pred, VALID)) / len(VALID) == pytest.approx(rep["accuracy"])
    code, out, _ = cli(capsys, "predict", run, "--format", "json", stdin=b"good fun\n\n", monkeypatch=monkeypatch)
    rows = [json.loads(x) for x in out.splitlines()]
    assert rows[0]["text"] == "good fun" and rows[0]["label"] in {"0", "1"} and rows[1] == {"text": "", "label": None}
    err = cli_error(capsys, "predict", run, "--format", "conll", "--text", files[1])
    assert "--format conll is for a tagger" in err


def test_a_checkpoint_round_trip_gives_identical_predictions(tmp_path, files, capsys):
    run = tmp_path / "cls"
    train(capsys, files, run, "--epochs", "2", "--model", "gru")
    model, vocabs, config = load_checkpoint(run)
    again = tmp_path / "again"
    save_checkpoint(again, model, vocabs, config)
    copy, _, _ = load_checkpoint(again)
    texts = [v.split(" ", 1)[1] for v in VALID] + ["unseen words only", "good"]
    from lmlab.tensors.classification import text_batches

    [batch] = text_batches(texts, model.tokens, batch_size=64)
    model.eval(), copy.eval()
    with torch.no_grad():
        assert torch.equal(model(batch["tokens"], batch["lengths"]), copy(batch["tokens"], batch["lengths"]))
    assert model.classify(texts) == copy.classify(texts)
    text = tmp_path / "t.txt"
    text.write_text("\n".join(texts) + "\n")
    code, out, _ = cli(capsys, "predict", again, "--text", text)
    assert code == 0 and out.splitlines() == model.classify(texts)


def test_resume_equals_uninterrupted(tmp_path, files, capsys):
    train(capsys, files, tmp_path / "full", "--epochs", "3", "--dropout", "0.3")
    train(capsys, files, tmp_path / "part", "--epochs", "1", "--dropout", "0.3")
    assert_resume_repeats_the_run(capsys, tmp_path / "full", tmp_path / "part", 3)
    assert [h["valid_accuracy"] for h in state(tmp_path / "full")["history"]] == \
        [h["valid_accuracy"] for h in state(tmp_path / "part")["history"]]
    err = cli_error(capsys, "train", "--resume", "--save", tmp_path / "part", "--pooling", "max", "--epochs", "4")
    assert "--pooling cannot be given with it" in err


@pytest.mark.parametrize("pooling", ["last", "max", "mean"])
@pytest.mark.parametrize("direction", ["bi", "uni"])
def test_every_pooling_and_direction_trains_and_scores(tmp_path, files, capsys, pooling, direction):
    run = tmp_path / "r"
    train(capsys, files, run, "--epochs", "1", "--pooling", pooling, *(["--unidirectional"] if direction == "uni" else []))
    config = json.loads((run / "config.json").read_text())
    assert config["pooling"] == pooling and config["bidirectional"] is (direction == "bi")
    code, out, err = cli(capsys, "evaluate", run, "--test", files[1], "--json")
    assert code == 0, err
    assert json.loads(out)["accuracy"] == pytest.approx(state(run)["best"], abs=1e-12)


def test_pooling_changes_the_model(tmp_path, files, capsys):
    """The same seed and data, another pooling: other sentence vectors (the option is not ignored)."""
    outs = []
    for pooling in ("last", "max", "mean"):
        run = tmp_path / pooling
        train(capsys, files, run, "--epochs", "1", "--pooling", pooling)
        model, _, _ = load_checkpoint(run)
        from lmlab.tensors.classification import text_batches

        [batch] = text_batches(["a good film and a bad plot"], model.tokens)
        model.eval()
        with torch.no_grad():
            outs.append(model.sentence_vectors(batch["tokens"], batch["lengths"]))
    assert not torch.equal(outs[0], outs[1]) and not torch.equal(outs[1], outs[2]) and not torch.equal(outs[0], outs[2])


def test_bad_input_is_one_line_and_exit_2(tmp_path, files, capsys):
    bad = tmp_path / "bad.txt"
    bad.write_text("1 a good film\n0 bad\nnolabel\n")
    err = cli_error(capsys, "train", "--kind", "classify", "--train", bad, "--valid", files[1], "--save", tmp_path / "r")
    assert f"{bad}: line 3" in err and "LABEL" in err
    mixed = tmp_path / "mixed.txt"  # LABEL TEXT lines and one LABEL<TAB>TEXT line: the error names both lines
    mixed.write_text("1 a good film\n0 bad\n1\tfine\n")
    err = cli_error(capsys, "train", "--kind", "classify", "--train", mixed, "--valid", files[1], "--save", tmp_path / "r")
    assert f"{mixed}: line 1: no tab, but line 3 has one" in err and len(err.strip().splitlines()) == 1
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    err = cli_error(capsys, "train", "--kind", "classify", "--train", empty, "--valid", files[1], "--save", tmp_path / "r")
    assert str(empty) in err and "empty" in err
    assert not (tmp_path / "r").exists()
    err = cli_error(capsys, "train", "--kind", "classify", "--save", tmp_path / "r")
    assert "give --data NAME" in err
    err = cli_error(capsys, "train", "--kind", "classify", "--data", "ptb", "--save", tmp_path / "r")
    assert "unknown classification dataset 'ptb'" in err
    err = cli_error(capsys, "train", "--kind", "classify", "--model", "window", "--train", files[0], "--save", tmp_path / "r")
    assert "--model window is not a classifier" in err
    run = tmp_path / "cls"
    train(capsys, files, run, "--epochs", "1")
    err = cli_error(capsys, "evaluate", run, "--test", bad)
    assert f"{bad}: line 3" in err
    err = cli_error(capsys, "evaluate", run, "--test", empty)
    assert str(empty) in err
    other = tmp_path / "other.txt"  # labels of another set: refused by name, not a 0% report
    other.write_text("pos a good film\nneg bad\n")
    err = cli_error(capsys, "evaluate", run, "--test", other)
    assert f"{other}: none of its 2 labels is one the model" in err and "gold: neg, pos" in err
    err = cli_error(capsys, "train", "--kind", "classify", "--train", files[0], "--valid", other, "--save", tmp_path / "r2")
    assert "the dev data (--valid, or the examples held out): none of its 2 labels" in err
    assert not (tmp_path / "r2").exists()
    err = cli_error(capsys, "evaluate", run, "--test", files[1], "--scheme", "iob2")
    assert "--scheme: for a tagger" in err


def test_a_test_label_training_never_saw_is_counted_not_a_crash(tmp_path, files, capsys):
    run = tmp_path / "cls"
    train(capsys, files, run, "--epochs", "1")
    test = tmp_path / "test.txt"
    test.write_text("1 good fun\nneutral a film\n0 bad\nneutral plot\nneutral and\n")
    code, out, err = cli(capsys, "evaluate", run, "--test", test, "--json")
    assert code == 0, err
    rep = json.loads(out)
    assert rep["unseen"] == {"neutral": 3} and rep["n_unseen"] == 3 and rep["n"] == 5
    assert rep["accuracy"] <= 2 / 5 and rep["per_class"]["neutral"]["recall"] == 0.0
    code, out, _ = cli(capsys, "evaluate", run, "--test", test)
    assert code == 0 and "3 gold sentences have labels never seen in training: neutral (3)" in out


def test_checkpoints_of_other_kinds_are_named(tmp_path, files, capsys):
    run = tmp_path / "cls"
    train(capsys, files, run, "--epochs", "1")
    text = tmp_path / "t.txt"
    text.write_text("\n".join(v.split(" ", 1)[1] for v in VALID * 2) + "\n")
    err = cli_error(capsys, "perplexity", run, "--text", text)
    assert f"{run}: the checkpoint is a classifier (classify), not a language model (lm)" in err
    code, _, err = cli(capsys, "train", "--train", text, "--save", tmp_path / "lm", "--emsize", "4", "--nhid", "4",
                       "--bptt", "3", "--batch_size", "2", "--epochs", "1", "--quiet", "--threads", "1")
    assert code == 0, err
    err = cli_error(capsys, "predict", tmp_path / "lm", "--text", text)
    assert "the checkpoint is a language model (lm), not a tagger (tag) or a classifier (classify); " \
           "lmlab predict takes kind tag or classify" in err
    err = cli_error(capsys, "evaluate", tmp_path / "lm", "--test", files[1])  # every kind evaluate scores is named
    assert "the checkpoint is a language model (lm), not a tagger (tag), a classifier (classify), an encoder-decoder " \
           "(seq2seq) or a conditional language model (conditional-lm); lmlab evaluate takes kind tag, classify, " \
           "seq2seq or conditional-lm" in err


def test_fold_is_checked_when_parsed(tmp_path, capsys):
    err = cli_error(capsys, "train", "--kind", "classify", "--data", "mr", "--fold", "10", "--save", tmp_path / "r")
    assert "--fold" in err and "invalid choice: 10" in err
    err = cli_error(capsys, "train", "--kind", "classify", "--data", "mr", "--fold", "-1", "--save", tmp_path / "r")
    assert "--fold" in err
    err = cli_error(capsys, "train", "--kind", "classify", "--data", "sst2", "--fold", "1", "--save", tmp_path / "r")
    assert "--fold: applies only with --data mr" in err
    err = cli_error(capsys, "train", "--kind", "classify", "--data", "mr", "--save", tmp_path / "r")
    assert "give --fold K" in err
    assert not (tmp_path / "r").exists()


def test_hold_out_dev_is_every_tenth_example_of_each_label():
    examples = [("a" if i % 3 else "b", f"t{i}") for i in range(60)]
    train, dev = hold_out_dev(examples)
    a = [x for x in examples if x[0] == "a"]
    b = [x for x in examples if x[0] == "b"]
    assert dev == sorted(a[::10] + b[::10], key=examples.index)
    assert sorted(train + dev, key=examples.index) == examples and not set(train) & set(dev)
    assert hold_out_dev(examples) == (train, dev)


def test_mr_folds_train_dev_and_test_partition_the_data():
    try:
        rows = mr_examples()
    except Exception as exc:  # noqa: BLE001 - the shared data folder is not on this machine
        pytest.skip(f"MR data: {exc}")
    for fold in (0, 7):
        parts = [classification_split("mr", s, fold) for s in ("train", "valid", "test")]
        assert sum(map(len, parts)) == len(rows)
        assert sorted(x for p in parts for x in p) == sorted(rows)
        assert len(parts[1]) == pytest.approx(len(rows) * 0.09, abs=2)
        assert {label for label, _ in parts[1]} == {"0", "1"}


def test_pretrained_vectors_are_loaded_and_freeze_keeps_them(tmp_path, files, capsys):
    vectors = tmp_path / "vec.txt"
    known = {"good": [0.5] * 8, "bad": [-0.5] * 8, "film": [0.25, -0.25] * 4}
    vectors.write_text("".join(f"{w} {' '.join(map(str, v))}\n" for w, v in known.items()))
    run = tmp_path / "frozen"
    code, _, err = cli(capsys, "train", "--kind", "classify", "--train", files[0], "--valid", files[1], "--save", run,
                       *[x for x in TINY if x != "--quiet"], "--epochs", "2", "--pretrained", vectors, "--freeze")
    assert code == 0, err
    assert "pretrained vectors cover" in err
    model, _, config = load_checkpoint(run)
    assert config["freeze_embeddings"] is True
    weight = model.encoder.embedding.weight
    for word, vec in known.items():
        assert weight[model.tokens.lookup(word)].tolist() == pytest.approx(vec)  # unchanged by two epochs
    err = cli_error(capsys, "train", "--kind", "classify", "--train", files[0], "--valid", files[1], "--save",
                    tmp_path / "r", *TINY, "--emsize", "4", "--pretrained", vectors)
    assert "8-dimensional vectors but --emsize is 4" in err


@pytest.mark.slow
def test_mr_fold_end_to_end(tmp_path, capsys):
    run = tmp_path / "mr"
    code, _, err = cli(capsys, "train", "--kind", "classify", "--data", "mr", "--fold", "4", "--dry-run", "--save", run,
                       *TINY)
    assert code == 0, err
    assert state(run)["source"]["fold"] == 4
    code, out, err = cli(capsys, "evaluate", run, "--data", "mr", "--split", "valid", "--json")  # the fold trained on
    assert code == 0, err
    assert json.loads(out)["accuracy"] == pytest.approx(state(run)["best"], abs=1e-12)
    code, out, err = cli(capsys, "evaluate", run, "--data", "mr", "--split", "test", "--json")
    assert code == 0, err
    assert json.loads(out)["n"] == len(classification_split("mr", "test", 4))


def test_init_chrono_through_the_cli(tmp_path, files, capsys):
    """``--init chrono`` (Tallec & Ollivier) reaches the classifier's encoder: the config records it
    with T, by default the longest training text in tokens (here "plot and bad film": 4), else
    --chrono_tmax; the forget-gate biases lie in [0, log(T - 1)]; the checkpoint round-trips; an
    ungated cell, a T below 3 and --chrono_tmax without chrono are refused in one line."""
    run = tmp_path / "chrono"
    train(capsys, files, run, "--epochs", "1", "--init", "chrono", "--model", "lstm")
    cfg = json.loads((run / "config.json").read_text())
    assert cfg["init"] == "chrono" and cfg["chrono_tmax"] == 4
    model, _, _ = load_checkpoint(run)
    assert model.config_dict()["chrono_tmax"] == 4
    run2 = tmp_path / "chrono2"
    train(capsys, files, run2, "--dry-run", "--init", "chrono", "--chrono_tmax", "30", "--model", "lstm")
    assert json.loads((run2 / "config.json").read_text())["chrono_tmax"] == 30
    # two Adam steps (lr 0.05) later the forget-gate biases are still log(U(1, 29)), not PyTorch's U(-0.35, 0.35)
    forget = read_tensors(run2 / "model.safetensors")[0]["encoder.rnn.bias_ih_l0"][8:16].numpy()
    assert forget.min() >= -0.15 and forget.max() <= np.log(29) + 0.15 and forget.mean() > 1.0
    err = cli_error(capsys, "train", "--kind", "classify", "--train", files[0], "--model", "rnn_tanh", "--init",
                    "chrono", "--save", tmp_path / "r")
    assert "needs an lstm or gru" in err
    err = cli_error(capsys, "train", "--kind", "classify", "--train", files[0], "--chrono_tmax", "9",
                    "--save", tmp_path / "r")
    assert "--chrono_tmax: applies only with --init chrono" in err
    err = cli_error(capsys, "train", "--kind", "classify", "--train", files[0], "--init", "chrono",
                    "--chrono_tmax", "2", "--save", tmp_path / "r")
    assert "T >= 3" in err or "at least 3" in err
    err = cli_error(capsys, "train", "--kind", "tag", "--data", "conll2000", "--init", "orthogonal",
                    "--save", tmp_path / "r")
    assert "--init: applies only with --kind lm or classify" in err


def test_evaluate_names_the_models_own_kind_when_refusing_other_kinds_options(tmp_path, files, capsys):
    """Another kind's evaluate options are refused naming the model's own kind (the folder is read
    first): a classifier is not "a tagger", and a folder that holds no model says so."""
    run = tmp_path / "cls"
    train(capsys, files, run, "--dry-run")
    err = cli_error(capsys, "evaluate", run, "--test", files[1], "--beam", "2")
    assert "--beam: not options of a classifier's evaluation (they are an encoder-decoder's)" in err
    err = cli_error(capsys, "evaluate", run, "--test", files[1], "--features", files[1])
    assert "not options of a classifier's evaluation (they are a conditional LM's)" in err
    err = cli_error(capsys, "evaluate", tmp_path / "nothing", "--source_file", files[0], "--reference_file", files[1])
    assert "nothing" in err and "not options" not in err
