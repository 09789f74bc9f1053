"""``benchmarks/conditional_bench.py --smoke``: every stage of the one-to-many benchmark runs (with
``--dry-run`` training of tiny models), records its result and is skipped when run again, and the
report has every row."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_benchmark_smoke_runs_every_stage_and_resumes(tmp_path, capsys):
    from lmlab.cli.main import main

    tiny = ["--dry-run", "--emsize", "8", "--nhid", "8", "--threads", "1", "--quiet"]
    assert main(["train", "--kind", "classify", "--data", "sst2", "--save", str(tmp_path / "clf"), *tiny]) == 0
    assert main(["train", "--kind", "seq2seq", "--data", "multi30k", "--attention", "none", "--save",
                 str(tmp_path / "s2s"), *tiny]) == 0
    capsys.readouterr()
    argv = [sys.executable, str(REPO / "benchmarks" / "conditional_bench.py"), "--smoke", "--sst2", "--classifier",
            str(tmp_path / "clf"), "--multi30k", str(tmp_path / "s2s"), "--runs", str(tmp_path / "runs"),
            "--results", str(tmp_path / "r.json"), "--threads", "1"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    first = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=600, check=False)
    assert first.returncode == 0, first.stderr[-2000:]
    done = json.loads((tmp_path / "r.json").read_text())
    assert set(done) == {"sst2", "sst2:samples", "sst2:judge", "sst2:kn", "multi30k-en-de:encode", "multi30k-en-de",
                         "multi30k-en-de:bleu"}
    judge = done["sst2:judge"]["per_label"]
    assert set(judge) == {"0", "1"} and all(0 <= r["classified_as_label"] <= 1 for r in judge.values())
    assert {"true", "flipped", "unconditional"} <= set(done["sst2"]["report"]["perplexity"])
    assert {"true", "shuffled"} <= set(done["multi30k-en-de"]["report"]["perplexity"])
    for line in ("classified as its label", "given the true label", "KN 2-grams", "label 0:", "Multi30k en-de"):
        assert line in first.stdout
    again = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=600, check=False)  # every stage recorded: skipped
    assert again.returncode == 0 and "resuming" not in again.stderr
    assert json.loads((tmp_path / "r.json").read_text()) == done
