"""The recall task trains through the generic trainer as a sentence classification (``lmlab train
--kind classify --pooling last --unidirectional``): an LSTM learns distance 2 to 100% in a few
hundred steps, and ``lmlab evaluate --test`` scores it on fresh examples."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("torch")

from lmlab.diagnostics.recall import SYMBOLS, recall_examples, recall_labelled  # noqa: E402
from tests.cli_run import cli  # noqa: E402


def test_labelled_lines_are_the_examples():
    inputs, targets = recall_examples(4, 30, seed=5)
    for line, row, t in zip(recall_labelled(4, 30, seed=5), inputs, targets, strict=True):
        label, text = line.split("\t")
        assert label == SYMBOLS[t] and text.split() == [SYMBOLS[t], "_", "_", "_", "_", "?"]


def test_an_lstm_learns_distance_2_through_the_generic_trainer(capsys, tmp_path):
    for split, n, seed in (("train", 640, 0), ("dev", 200, 1), ("test", 400, 2)):
        (tmp_path / f"{split}.txt").write_text("\n".join(recall_labelled(2, n, seed)) + "\n")
    code, _, err = cli(capsys, "train", "--kind", "classify", "--train", tmp_path / "train.txt", "--valid",
                       tmp_path / "dev.txt", "--model", "lstm", "--pooling", "last", "--unidirectional", "--emsize", "8",
                       "--nhid", "16", "--dropout", "0", "--lr", "0.01", "--batch_size", "32", "--epochs", "10", "--patience", "3",
                       "--threads", "1", "--seed", "1", "--save", tmp_path / "run", "--quiet")
    assert code == 0, err  # 10 epochs of 20 steps: 200 steps
    code, out, err = cli(capsys, "evaluate", tmp_path / "run", "--test", tmp_path / "test.txt", "--json")
    assert code == 0, err
    assert json.loads(out)["accuracy"] == 1.0
    state = json.loads((tmp_path / "run" / "trainer_state.json").read_text())
    assert state["best"] == 1.0
    # --patience stops at the first epoch with 100% dev accuracy: no later one could improve on it
    log = [json.loads(ln) for ln in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert log[-1]["valid_accuracy"] == 1.0 and all(r["valid_accuracy"] < 1.0 for r in log[:-1]) and len(log) < 10
