"""``lmlab diagnose context`` as users run it: an n-gram and a recurrent LM side by side, the
curve reaching each model's full-history perplexity (the one ``lmlab perplexity`` reports)."""

from __future__ import annotations

import csv
import json

import pytest

pytest.importorskip("torch")
pytest.importorskip("matplotlib")

from tests.cli_run import cli, cli_error  # noqa: E402

LINES = ["the cat sat on the mat", "a dog saw the cat", "the dog sat", "a cat ran"] * 6
TINY = ["--emsize", "6", "--nhid", "5", "--batch_size", "4", "--threads", "1", "--quiet", "--dry-run", "--bptt", "5"]


def test_ngram_and_rnn_curves(capsys, tmp_path):
    from lmlab.cli.main import main
    from lmlab.eval.perplexity import evaluate
    from lmlab.models.loading import load
    from lmlab.models.ngram.model import NgramLM

    text = tmp_path / "t.txt"
    text.write_text("\n".join(LINES) + "\n")
    arpa = tmp_path / "lm.arpa"
    NgramLM(3, "witten_bell").fit(LINES).to_arpa(arpa)
    assert main(["train", "--train", str(text), "--valid", str(text), "--save", str(tmp_path / "gru"), "--model", "gru",
                 *TINY]) == 0
    capsys.readouterr()
    out = tmp_path / "out"
    code, stdout, err = cli(capsys, "diagnose", "context", arpa, tmp_path / "gru", "--text", text,
                            "--lengths", "7", "1", "2", "--out", out, "--quiet")
    assert code == 0, err
    assert (out / "context.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = json.loads((out / "context.json").read_text())
    assert [(r["model"], r["context"]) for r in rows] == [(str(m), k) for m in (arpa, tmp_path / "gru") for k in (1, 2, 7)]
    for m in (arpa, tmp_path / "gru"):
        mine = [r for r in rows if r["model"] == str(m)]
        whole = evaluate(load(m), LINES).perplexity
        assert all(r["full_perplexity"] == pytest.approx(whole, rel=1e-9) for r in mine)
        assert mine[-1]["perplexity"] == pytest.approx(whole, rel=1e-9) and mine[-1]["cut"] == 0  # 7 > every line
    ngram = [r for r in rows if r["model"] == str(arpa)]
    assert ngram[0]["window"] == 2 and ngram[1]["perplexity"] == ngram[1]["full_perplexity"]  # k = 2 = order - 1
    assert ngram[0]["perplexity"] > ngram[0]["full_perplexity"]
    with open(out / "context.csv", newline="") as fh:
        table = list(csv.DictReader(fh))
    assert [float(t["perplexity"]) for t in table] == [r["perplexity"] for r in rows]
    assert stdout.count("\n") == len(rows) + 1


def test_scores_that_are_not_probabilities_are_refused(capsys, tmp_path):
    from lmlab.models.ngram.model import NgramLM
    from lmlab.models.ngram.model_files import save_binary

    text = tmp_path / "t.txt"
    text.write_text("\n".join(LINES) + "\n")
    arpa = tmp_path / "sb.lmbin"
    save_binary(NgramLM(2, "stupid_backoff").fit(LINES), arpa)
    err = cli_error(capsys, "diagnose", "context", arpa, "--text", text, "--out", tmp_path / "o")
    assert str(arpa) in err and "perplexity" in err and not (tmp_path / "o").exists()
