#!/usr/bin/env python3
"""Neural sentence classifiers (``lmlab train --kind classify``): a fixed grid, resumable.

    .venv/bin/python benchmarks/classifier_bench.py --list
    .venv/bin/python benchmarks/classifier_bench.py --all --budget 45       # runs (or resumes) cells for 45 min
    .venv/bin/python benchmarks/classifier_bench.py --cell sst2-max-bi-s1   # one cell
    .venv/bin/python benchmarks/classifier_bench.py --report                # regenerate BENCHMARKS.md's section

The grid (issue 9): SST-2, pooling ``last``/``max``/``mean`` x direction uni/bi, 3 seeds in every
cell, all at the same budget (``SETTINGS``: 1-layer LSTM, 100-d embeddings, 200 units, dropout
0.5, Adam 0.001, batch 32, 10 epochs, early stopping after 3 epochs without a better dev
accuracy; sentence-level training only), so that whether pooling beats the last state is
measured against seed noise.  The embeddings start from word2vec vectors trained on the shared
corpora (``benchmarks/word_vectors.py``: no pretrained vectors are at hand, and without them every
cell stays near 78-80%); the same grid without them (``sst2-rand-*``) stands beside it.  SST-5
(3 seeds) and MR (10-fold cross-validation, the folds' mean) rows use the setting named in
``EXTRA``; MR's vectors leave SST's text out (SST's sentences are MR's).  Every cell is an
``lmlab train`` run in ``runs/bench/classify/<cell>`` that checkpoints each epoch; run again, it
resumes (``--resume``: the same result as an uninterrupted run).  A finished cell's test report
(``lmlab evaluate --json``: accuracy, macro F1) goes to ``benchmarks/results/classifier.json``;
``--report`` writes the ``classifier`` section of BENCHMARKS.md (mean +- sample std over the seeds
or folds of each cell).  ``--all`` starts no new cell after ``--budget`` minutes, so one
invocation stays within a session's limit.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import word_vectors  # noqa: E402
from _cells import REPO, Cell, header, pending, main, mean_std, real_rows  # noqa: E402

RESULTS = REPO / "benchmarks" / "results" / "classifier.json"
RUNS = REPO / "runs" / "bench" / "classify"

SETTINGS = ["--model", "lstm", "--nlayers", "1", "--emsize", "100", "--nhid", "200", "--dropout", "0.5",
            "--optimizer", "adam", "--lr", "0.001", "--batch_size", "32", "--epochs", "10", "--patience", "3"]
SEEDS = (1, 2, 3)
POOLINGS = ("last", "max", "mean")
DIRECTIONS = ("uni", "bi")
# the SST-5 and MR rows: one setting (the pooling and direction to use once the SST-2 grid is in)
EXTRA = [("sst5", None, "wiki-wsj-sst", "max", "bi", SEEDS)] + [("mr", k, "wiki-wsj", "max", "bi", (1,)) for k in range(10)]
LITERATURE = ("LSTM / BiLSTM (Tai et al. 2015, phrase-level training, GloVe 840B): SST-2 84.9 / 87.5, SST-5 46.4 / "
              "49.1; our training sees whole sentences only, and our vectors come from 3 M tokens (WikiText-2, PTB, "
              "SST-5 train) instead of 840 B")


def _vectors(name: str | None) -> list[str]:
    return [] if name is None else ["--pretrained", str(word_vectors.path(name))]


def cells() -> dict[str, Cell]:
    out = {}
    grid = [("sst2", None, "wiki-wsj-sst", POOLINGS, DIRECTIONS, SEEDS)]
    extra = [(d, f, v, (p,), (r,), seeds) for d, f, v, p, r, seeds in EXTRA]
    rand = [("sst2", None, None, POOLINGS, DIRECTIONS, SEEDS)]
    for data, fold, vectors, pools, dirs, seeds in grid + extra + rand:
        for pooling in pools:
            for direction in dirs:
                for seed in seeds:
                    name = (f"{data}{'' if fold is None else f'-f{fold}'}{'-rand' if vectors is None else ''}"
                            f"-{pooling}-{direction}-s{seed}")
                    train = ["--kind", "classify", "--data", data, "--pooling", pooling, "--seed", str(seed), *SETTINGS,
                             *_vectors(vectors)]
                    test = ["--data", data, "--split", "test"]
                    if fold is not None:
                        train += ["--fold", str(fold)]
                        test += ["--fold", str(fold)]
                    if direction == "uni":
                        train.append("--unidirectional")
                    out[name] = Cell(train, test, {"data": data, "fold": fold, "pooling": pooling,
                                                   "direction": direction, "seed": seed, "vectors": vectors})
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
    lines += ["| data | vectors | pooling | direction | runs | test accuracy | macro F1 | best dev | epochs | "
              "train min (mean) |", "|---|---|---|---|---:|---:|---:|---:|---:|---:|"]
    groups: dict[tuple, list[dict]] = {}
    for r in done.values():  # MR's folds make one row: the cross-validation's mean
        groups.setdefault((r["data"], r.get("vectors"), r["pooling"], r["direction"]), []).append(r)
    for (data, vectors, pooling, direction), rows in groups.items():
        folds = sorted({r["fold"] for r in rows if r["fold"] is not None})
        name = data if not folds else f"{data} ({len(folds)} of 10 folds)"
        runs = f"{len(rows)} {'folds' if folds else 'seeds'}"
        lines.append(f"| {name} | {vectors or 'none (random)'} | {pooling} | {direction} | {runs} | "
                     f"{mean_std([r['report']['accuracy'] for r in rows])} | "
                     f"{mean_std([r['report']['macro_f1'] for r in rows])} | "
                     f"{mean_std([r['best_dev'] for r in rows])} | "
                     f"{statistics.mean(r['epochs'] for r in rows):.1f} | "
                     f"{statistics.mean(r['train_seconds'] for r in rows) / 60:.1f} |")
    vec = {name: REPO / word_vectors.path(name).with_suffix(".json") for name in word_vectors.SETS}
    for name, meta_path in vec.items():
        if meta_path.is_file():
            m = json.loads(meta_path.read_text())
            lines += ["", (f"Vectors `{name}`: word2vec skip-gram ({m['settings']['vector_size']}-d, window "
                           f"{m['settings']['window']}, {m['settings']['epochs']} epochs, gensim {m['gensim']}) on "
                           f"{', '.join(m['corpora'])} (lower-cased; {m['tokens']:,} tokens, {m['words']:,} words), "
                           f"built by `benchmarks/word_vectors.py {name}` in {m['seconds'] / 60:.0f} min; sha256 "
                           f"{m['sha256'][:12]}.")]
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
    sys.exit(main(__doc__, cells(), section="classifier", results=RESULTS, runs=RUNS, report_lines=report_lines,
                  prepare=lambda todo, args: word_vectors.prepare(cells(), todo, args)))
