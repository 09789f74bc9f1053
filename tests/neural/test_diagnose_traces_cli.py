"""``lmlab diagnose clipping`` and ``lmlab diagnose curves`` on fabricated run folders (exact values
in the JSON they write), on a run the trainer's NaN guard stopped (its trace kept in steps.jsonl),
and the one-line refusals of folders that hold no trace."""

from __future__ import annotations

import csv
import json

import pytest

pytest.importorskip("torch")
pytest.importorskip("matplotlib")

from tests.cli_run import cli, cli_error  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"


def run_folder(path, steps, clip=None, epochs=(), config=None):
    path.mkdir(parents=True)
    (path / "steps.jsonl").write_text("".join(json.dumps(r) + "\n" for r in steps))
    if clip is not None:
        (path / "trainer_state.json").write_text(json.dumps({"train_config": {"clip": clip}, "history": list(epochs)}))
    if config is not None:
        (path / "config.json").write_text(json.dumps(config))
    return path


def step(n, loss, norm, epoch=1):
    return {"epoch": epoch, "step": n, "loss": loss, "items": 10, "grad_norm": norm, "lr": 1.0}


@pytest.fixture
def runs(tmp_path):
    clipped = run_folder(tmp_path / "clipped", [step(1, 5.0, 0.5), step(2, 4.0, 2.0), step(3, 3.0, 0.25, 2)],
                         clip=1.0, epochs=[{"epoch": 1, "train_loss": 4.5, "valid_ppl": 90.0},
                                           {"epoch": 2, "train_loss": 3.0, "valid_ppl": 60.0}],
                         config={"kind": "lm", "cell": "rnn_relu", "nlayers": 1, "nhid": 8, "init": "identity"})
    diverged = run_folder(tmp_path / "diverged", [step(1, 5.0, 3.0), step(2, 9.0, 400.0),
                                                  {"epoch": 1, "step": 3, "loss": None, "grad_norm": None, "lr": 1.0,
                                                   "diverged": "loss", "value": "nan", "clip": 0.0}])
    return clipped, diverged


def test_clipping_writes_every_step_its_threshold_and_the_divergence(runs, capsys, tmp_path):
    clipped, diverged = runs
    out = tmp_path / "out"
    code, stdout, err = cli(capsys, "diagnose", "clipping", clipped, diverged, "--out", out, "--quiet")
    assert code == 0, err
    assert (out / "clipping.png").read_bytes()[:8] == PNG
    rows = json.loads((out / "clipping.json").read_text())
    assert [(r["model"], r["step"], r["grad_norm"], r["clip"], r["clipped"], r["loss"], r["diverged"]) for r in rows] == [
        (str(clipped), 1, 0.5, 1.0, False, 5.0, None), (str(clipped), 2, 2.0, 1.0, True, 4.0, None),
        (str(clipped), 3, 0.25, 1.0, False, 3.0, None),
        (str(diverged), 1, 3.0, 0.0, False, 5.0, None), (str(diverged), 2, 400.0, 0.0, False, 9.0, None),
        (str(diverged), 3, None, 0.0, None, None, "loss became nan")]
    with open(out / "clipping.csv", newline="") as fh:
        table = list(csv.DictReader(fh))
    assert len(table) == 6 and table[-1]["grad_norm"] == "" and table[1]["clipped"] == "True"
    lines = stdout.splitlines()
    assert "clip 1" in lines[1] and "33.3%" in lines[1] and "trained 3 steps, last loss 3" in lines[1]
    assert "no clipping" in lines[2] and "diverged at step 3 (loss became nan)" in lines[2]
    assert "201.5" in lines[2]  # the median of 3 and 400


def test_curves_write_the_loss_and_its_trailing_mean(runs, capsys, tmp_path):
    clipped, diverged = runs
    out = tmp_path / "out"
    code, stdout, err = cli(capsys, "diagnose", "curves", clipped, diverged, "--smooth", "2", "--out", out, "--quiet")
    assert code == 0, err
    assert (out / "curves.png").read_bytes()[:8] == PNG
    rows = json.loads((out / "curves.json").read_text())
    assert [(r["model"], r["step"], r["epoch"], r["loss"], r["loss_smoothed"]) for r in rows] == [
        (str(clipped), 1, 1, 5.0, 5.0), (str(clipped), 2, 1, 4.0, 4.5), (str(clipped), 3, 2, 3.0, 3.5),
        (str(diverged), 1, 1, 5.0, 5.0), (str(diverged), 2, 1, 9.0, 7.0)]
    lines = stdout.splitlines()
    assert "rnn_relu 1x8, init identity" in lines[1] and "valid_ppl 60 (epoch 2)" in lines[1]
    assert "diverged at step 3" in lines[2]


def test_dev_metric_points_sit_at_each_epochs_last_step(runs):
    from lmlab.diagnostics.traces import dev_metric, read_trace, smoothed

    assert dev_metric(read_trace(runs[0])) == ("valid_ppl", [(2, 90.0), (3, 60.0)])
    assert dev_metric(read_trace(runs[1])) is None
    assert smoothed([1.0, 2.0, 3.0, 4.0, 5.0], 3) == [1.0, 1.5, 2.0, 3.0, 4.0]


@pytest.mark.parametrize("diagnostic", ["clipping", "curves"])
def test_a_folder_without_a_trace_is_refused_naming_it(runs, capsys, tmp_path, diagnostic):
    empty = tmp_path / "empty"
    empty.mkdir()
    err = cli_error(capsys, "diagnose", diagnostic, runs[0], empty, "--out", tmp_path / "o")
    assert err.startswith(f"lmlab diagnose: error: {empty}: no steps.jsonl")
    assert not (tmp_path / "o").exists()  # every folder checked before anything is written
    err = cli_error(capsys, "diagnose", diagnostic, tmp_path / "missing", "--out", tmp_path / "o")
    assert f"{tmp_path / 'missing'}: no such folder" in err


@pytest.mark.parametrize("content,reason", [
    ("not json\n", "line 1: expected a JSON object with a step number"),
    (json.dumps(step(1, 5.0, "big")) + "\n", "line 1: grad_norm must be a finite number"),
    (json.dumps(step(2, 5.0, 1.0)) + "\n" + json.dumps(step(1, 5.0, 1.0)) + "\n", "line 2: step 1 does not follow"),
    ("", "no steps recorded"),
], ids=["not json", "not a number", "out of order", "empty"])
def test_a_malformed_trace_is_refused_naming_the_file_and_line(tmp_path, capsys, content, reason):
    d = tmp_path / "r"
    d.mkdir()
    (d / "steps.jsonl").write_text(content)
    err = cli_error(capsys, "diagnose", "clipping", d, "--out", tmp_path / "o")
    assert f"{d / 'steps.jsonl'}: " in err and reason in err


def test_a_run_stopped_by_the_nan_guard_keeps_its_trace(tmp_path, capsys):
    """The trainer writes steps.jsonl up to the step that diverged (and nothing else before a
    checkpoint): diagnose clipping draws it."""
    text = tmp_path / "t.txt"
    text.write_text("the cat sat on the mat\na dog saw the cat\n" * 30)
    run = tmp_path / "run"
    err = cli_error(capsys, "train", "--train", str(text), "--save", str(run), "--model", "rnn_relu", "--init",
                    "identity", "--emsize", "8", "--nhid", "8", "--nlayers", "1", "--batch_size", "2", "--bptt", "5",
                    "--lr", "1e30", "--clip", "0", "--threads", "1", "--quiet")
    assert "at epoch 1, step" in err and "no checkpoint yet; the trace is in" in err
    assert sorted(p.name for p in run.iterdir()) == ["steps.jsonl"]
    last = json.loads((run / "steps.jsonl").read_text().splitlines()[-1])
    assert last["diverged"] in ("loss", "gradient norm") and last["clip"] == 0.0 and last["grad_norm"] is None
    code, stdout, _ = cli(capsys, "diagnose", "clipping", run, "--out", tmp_path / "o", "--quiet")
    assert code == 0 and f"diverged at step {last['step']}" in stdout and "no clipping" in stdout
