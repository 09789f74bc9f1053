"""``lmlab diagnose gradients`` as users run it: the PNG, JSON and CSV it writes, and the one-line
refusals (a model that is not recurrent, a distance the text cannot hold)."""

from __future__ import annotations

import csv
import json

import pytest

pytest.importorskip("torch")
pytest.importorskip("matplotlib")

from tests.cli_run import cli, cli_error  # noqa: E402

LINES = ["the cat sat on the mat", "a dog saw the cat", "the dog sat", "a cat ran"] * 12
TINY = ["--emsize", "6", "--nhid", "6", "--batch_size", "4", "--threads", "1", "--quiet", "--dry-run"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    d = tmp_path_factory.mktemp("diag")
    text = d / "t.txt"
    text.write_text("\n".join(LINES) + "\n")
    from lmlab.cli.main import main

    for model in ("lstm", "rnn_tanh", "window"):
        assert main(["train", "--train", str(text), "--valid", str(text), "--save", str(d / model), "--model", model,
                     *TINY, *(["--context", "2"] if model == "window" else ["--bptt", "5"])]) == 0
    return d, text


def test_writes_the_plot_and_the_same_records_as_json_and_csv(runs, capsys, tmp_path):
    d, text = runs
    out = tmp_path / "out"
    code, stdout, err = cli(capsys, "diagnose", "gradients", d / "lstm", d / "rnn_tanh", "--text", text,
                            "--max-distance", "6", "--positions", "30", "--warmup", "3", "--out", out, "--quiet")
    assert code == 0, err
    assert (out / "gradients.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = json.loads((out / "gradients.json").read_text())
    assert [(r["model"], r["distance"]) for r in rows] == [(str(d / m), k) for m in ("lstm", "rnn_tanh")
                                                           for k in range(7)]
    assert all(r["grad_norm_q1"] <= r["grad_norm"] <= r["grad_norm_q3"] for r in rows)
    assert all(r["positions"] == 30 and r["w_hh_largest_singular"] > 0 for r in rows)
    lstm = [r for r in rows if r["cell"] == "lstm"]
    assert lstm[0]["cell_grad_norm"] is None and all(r["cell_grad_norm"] > 0 for r in lstm[1:])
    assert all(r["cell_grad_norm"] is None for r in rows if r["cell"] == "rnn_tanh")
    with open(out / "gradients.csv", newline="") as fh:
        table = list(csv.DictReader(fh))
    assert len(table) == len(rows) and list(table[0]) == list(rows[0])
    assert all(float(t["grad_norm"]) == r["grad_norm"] for t, r in zip(table, rows, strict=True))
    assert stdout.count("\n") == 2 and "spectral radius" in stdout


@pytest.mark.parametrize("model,reason", [("window", "a window model"), ("ngram", "is not a neural model")])
def test_a_model_that_is_not_recurrent_is_refused(runs, capsys, tmp_path, model, reason):
    d, text = runs
    path = d / model
    if model == "ngram":
        from lmlab.models.ngram.model import NgramLM

        path = tmp_path / "lm.arpa"
        NgramLM(2, "witten_bell").fit(LINES).to_arpa(path)
    err = cli_error(capsys, "diagnose", "gradients", d / "lstm", path, "--text", text, "--out", tmp_path / "o",
                    "--positions", "5")
    assert str(path) in err and reason in err and not (tmp_path / "o").exists()


def test_a_distance_larger_than_the_text_allows_is_refused(runs, capsys, tmp_path):
    d, text = runs
    err = cli_error(capsys, "diagnose", "gradients", d / "lstm", "--text", text, "--max-distance", "500",
                    "--out", tmp_path / "o")
    assert "distance 500" in err and "--max-distance" in err
    err = cli_error(capsys, "diagnose", "gradients", d / "lstm", "--text", text, "--positions", "100000",
                    "--out", tmp_path / "o")
    assert "--positions" in err
