"""``lmlab diagnose gates`` as users run it: heat maps per model, the sentence's gates in JSON, the
per-gate averages over a corpus (JSON = CSV), and the refusal of a cell without gates."""

from __future__ import annotations

import csv
import json

import pytest

pytest.importorskip("torch")
pytest.importorskip("matplotlib")

from tests.cli_run import cli, cli_error  # noqa: E402

LINES = ["the cat sat on the mat", "a dog saw the cat", "the dog sat", "a cat ran"] * 6
TINY = ["--emsize", "6", "--nhid", "5", "--batch_size", "4", "--threads", "1", "--quiet", "--dry-run", "--bptt", "5"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    d = tmp_path_factory.mktemp("gates")
    text = d / "t.txt"
    text.write_text("\n".join(LINES) + "\n")
    from lmlab.cli.main import main

    for model, layers in (("lstm", "2"), ("gru", "1"), ("rnn_tanh", "1")):
        assert main(["train", "--train", str(text), "--valid", str(text), "--save", str(d / model), "--model", model,
                     "--nlayers", layers, *TINY]) == 0
    return d, text


def test_heat_maps_sentence_gates_and_corpus_averages(runs, capsys, tmp_path):
    d, text = runs
    out = tmp_path / "out"
    code, stdout, err = cli(capsys, "diagnose", "gates", d / "lstm", d / "gru", "--sentence", "The cat sat , on 2 mats",
                            "--text", text, "--out", out, "--quiet")
    assert code == 0, err
    for name in ("lstm", "gru"):
        assert (out / f"gates_{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    traces = json.loads((out / "gates_sentence.json").read_text())
    assert [t["tokens"] for t in traces] == [["<s>", "the", "cat", "sat", "on", "N", "mats"]] * 2  # ptb-normalised
    assert set(traces[0]["gates"]) == {"forget", "input", "output"} and set(traces[1]["gates"]) == {"update", "reset"}
    assert len(traces[0]["gates"]["forget"]) == 2 and len(traces[0]["gates"]["forget"][1]) == 7  # layers, tokens
    rows = json.loads((out / "gates.json").read_text())
    lstm_corpus = [r for r in rows if r["model"] == str(d / "lstm") and r["scope"] == "corpus"]
    assert {(r["layer"], r["gate"]) for r in lstm_corpus} == {(l, g) for l in (0, 1) for g in ("forget", "input", "output")}
    tokens = sum(len(x.split()) + 1 for x in LINES)  # <s> and each word read
    assert all(r["values"] == tokens * 5 and 0 < r["mean"] < 1 for r in lstm_corpus)
    sent = [r for r in rows if r["scope"] == "sentence" and r["model"] == str(d / "gru")]
    assert all(r["values"] == 7 * 5 for r in sent) and len(sent) == 2
    assert sent[0]["mean"] == pytest.approx(sum(sum(u) for u in traces[1]["gates"][sent[0]["gate"]][0]) / 35)
    with open(out / "gates.csv", newline="") as fh:
        table = list(csv.DictReader(fh))
    assert len(table) == len(rows) and all(float(t["mean"]) == r["mean"] for t, r in zip(table, rows, strict=True))
    assert stdout.count("\n") == len(rows) + 1


def test_without_a_corpus_only_the_sentence(runs, capsys, tmp_path):
    d, _ = runs
    code, _, err = cli(capsys, "diagnose", "gates", d / "gru", "--out", tmp_path / "o", "--quiet")
    assert code == 0, err
    rows = json.loads((tmp_path / "o" / "gates.json").read_text())
    assert {r["scope"] for r in rows} == {"sentence"}


def test_a_cell_without_gates_is_refused_before_any_work(runs, capsys, tmp_path):
    d, text = runs
    err = cli_error(capsys, "diagnose", "gates", d / "lstm", d / "rnn_tanh", "--out", tmp_path / "o")
    assert str(d / "rnn_tanh") in err and "has no gates" in err and not (tmp_path / "o").exists()
    err = cli_error(capsys, "diagnose", "gates", d / "lstm", "--sentence", "...", "--out", tmp_path / "o")
    assert "no words" in err
