#!/usr/bin/env python3
"""Neural sentence classifiers (``lmlab train --kind classify``): a fixed grid, resumable.

    .venv/bin/python benchmarks/classifier_bench.py --list
    .venv/bin/python benchmarks/classifier_bench.py --all --budget 45       # runs (or resumes) cells for 45 min
    .venv/bin/python benchmarks/classifier_bench.py --cell sst2-max-bi-s1   # one cell
    .venv/bin/python benchmarks/classifier_bench.py --report                # regenerate BENCHMARKS.md's section

The grid (issue 9): SST-2, pooling ``last``/``max``/``mean`` x direction uni/bi, 3 seeds in every
cell, all at the same budget (``SETTINGS``: 1-layer LSTM, 100-d embeddings, 200 units, dropout
0.5, Adam 0.001, batch 32, 10 epochs, early stopping after 3 epochs without a better dev
accuracy; no pretrained vectors, sentence-level training only), so that whether pooling beats the
last state is measured against seed noise.  SST-5 and MR (fold 0) rows use the best SST-2 setting
named in ``EXTRA``.  Every cell is an ``lmlab train`` run in ``runs/bench/classify/<cell>`` that
checkpoints each epoch; run again, it resumes (``--resume``: the same result as an uninterrupted
run).  A finished cell's test report (``lmlab evaluate --json``: accuracy, macro F1) goes to
``benchmarks/results/classifier.json``; ``--report`` writes the ``classifier`` section of
BENCHMARKS.md (mean +- sample std over the seeds of each cell).  ``--all`` starts no new cell
after ``--budget`` minutes, so one invocation stays within a session's limit.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _cells import REPO, Cell, header, pending, main, mean_std, real_rows  # noqa: E402

RESULTS = REPO / "benchmarks" / "results" / "classifier.json"
RUNS = REPO / "runs" / "bench" / "classify"

SETTINGS = ["--model", "lstm", "--nlayers", "1", "--emsize", "100", "--nhid", "200", "--dropout", "0.5",
            "--optimizer", "adam", "--lr", "0.001", "--batch_size", "32", "--epochs", "10", "--patience", "3"]
SEEDS = (1, 2, 3)
POOLINGS = ("last", "max", "mean")
DIRECTIONS = ("uni", "bi")
# the SST-5 and MR rows: one setting (the pooling and direction to use once the SST-2 grid is in)
EXTRA = [("sst5", None, "max", "bi"), ("mr", 0, "max", "bi")]
LITERATURE = ("LSTM / BiLSTM (Tai et al. 2015, phrase-level training, GloVe): SST-2 84.9 / 87.5, SST-5 46.4 / 49.1; "
              "our training sees whole sentences only, without pretrained vectors")


def cells() -> dict[str, Cell]:
    out = {}
    for data, fold, pools, dirs in [("sst2", None, POOLINGS, DIRECTIONS)] + [(d, f, (p,), (r,)) for d, f, p, r in EXTRA]:
        for pooling in pools:
            for direction in dirs:
                for seed in SEEDS:
                    name = f"{data}{'' if fold is None else f'-f{fold}'}-{pooling}-{direction}-s{seed}"
                    train = ["--kind", "classify", "--data", data, "--pooling", pooling, "--seed", str(seed), *SETTINGS]
                    test = ["--data", data, "--split", "test"]
                    if fold is not None:
                        train += ["--fold", str(fold)]
                        test += ["--fold", str(fold)]
                    if direction == "uni":
                        train.append("--unidirectional")
                    out[name] = Cell(train, test, {"data": data, "fold": fold, "pooling": pooling,
                                                   "direction": direction, "seed": seed})
    return out


def report_lines(results: Path) -> list[str]:
    done = real_rows(results)
    lines = ["## Neural sentence classifiers", "",
             "Cells from `python benchmarks/classifier_bench.py --all` (resumable; every cell of the grid fixed in "
             "the script, none tuned on test): " + " ".join(SETTINGS) + f", seeds {', '.join(map(str, SEEDS))}.  "
             "Test accuracy, mean ± sample std over the seeds (%).", ""]
    if not done:
        return lines + ["No cell has been run yet."]
    lines += header(done)
    lines += ["| data | pooling | direction | seeds | test accuracy | macro F1 | epochs | train min (mean) |",
              "|---|---|---|---:|---:|---:|---:|---:|"]
    groups: dict[tuple, list[dict]] = {}
    for r in done.values():
        groups.setdefault((r["data"], r["fold"], r["pooling"], r["direction"]), []).append(r)
    for (data, fold, pooling, direction), rows in groups.items():
        name = data if fold is None else f"{data} (fold {fold})"
        lines.append(f"| {name} | {pooling} | {direction} | {len(rows)} | "
                     f"{mean_std([r['report']['accuracy'] for r in rows])} | "
                     f"{mean_std([r['report']['macro_f1'] for r in rows])} | "
                     f"{statistics.mean(r['epochs'] for r in rows):.1f} | "
                     f"{statistics.mean(r['train_seconds'] for r in rows) / 60:.1f} |")
    classify = RESULTS.parent / "classify.json"
    if classify.is_file():
        uni = [r for r in json.loads(classify.read_text())["rows"]
               if r["task"] == "sst2" and r["unit"] == "word" and r["order"] == 1]
        if uni:
            lines += ["", (f"Beside it: lmlab's per-class unigram LM on SST-2, accuracy {100 * uni[0]['accuracy']:.1f} "
                           "(`benchmarks/classify_bench.py`).")]
    lines += ["", f"Literature: {LITERATURE}."]
    lines += pending(done, cells())
    return lines


if __name__ == "__main__":
    sys.exit(main(__doc__, cells(), section="classifier", results=RESULTS, runs=RUNS, report_lines=report_lines))
