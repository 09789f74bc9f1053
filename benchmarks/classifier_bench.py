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
run).  A finished cell's test accuracy and macro F1 (``lmlab evaluate``'s report) go to
``benchmarks/results/classifier.json``; ``--report`` writes the ``classifier`` section of
BENCHMARKS.md (mean +- sample std over the seeds of each cell).  ``--all`` starts no new cell
after ``--budget`` minutes, so one invocation stays within a session's limit.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))
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


def cells() -> dict[str, dict]:
    out = {}
    for data, fold, pools, dirs in [("sst2", None, POOLINGS, DIRECTIONS)] + [(d, f, (p,), (r,)) for d, f, p, r in EXTRA]:
        for pooling in pools:
            for direction in dirs:
                for seed in SEEDS:
                    name = f"{data}{'' if fold is None else f'-f{fold}'}-{pooling}-{direction}-s{seed}"
                    out[name] = {"data": data, "fold": fold, "pooling": pooling, "direction": direction, "seed": seed}
    return out


def train_argv(cell: dict, save: Path, threads: int, dry_run: bool) -> list[str]:
    argv = ["train", "--kind", "classify", "--data", cell["data"], "--pooling", cell["pooling"], "--seed",
            str(cell["seed"]), "--threads", str(threads), "--save", str(save), "--quiet", *SETTINGS]
    if cell["fold"] is not None:
        argv += ["--fold", str(cell["fold"])]
    if cell["direction"] == "uni":
        argv.append("--unidirectional")
    if dry_run:
        argv += ["--dry-run"]
    return argv


def run_cell(name: str, threads: int, runs: Path, results: Path, dry_run: bool = False) -> dict:
    from _cells import record, train_or_resume

    from lmlab.data.tasks import classification_split
    from lmlab.eval.classification import evaluate_classifier
    from lmlab.models.neural.checkpoint import load_checkpoint

    cell = cells()[name]
    save = runs / name
    t0 = time.perf_counter()
    train_or_resume(name, save, train_argv(cell, save, threads, dry_run), dry_run)
    state = json.loads((save / "trainer_state.json").read_text())
    model, _, _ = load_checkpoint(save)
    rep = evaluate_classifier(model, classification_split(cell["data"], "test", cell["fold"]))
    hist = state["history"]
    row = {**cell, "cell": name, "test_accuracy": rep["accuracy"], "test_macro_f1": rep["macro_f1"],
           "majority_baseline": rep["majority_baseline"], "n_test": rep["n"], "best_dev_accuracy": state["best"],
           "epochs": len(hist), "train_seconds": sum(h["seconds"] for h in hist),
           "sentences_per_s": sorted(h["items_per_s"] for h in hist)[len(hist) // 2],
           "wall_seconds_this_run": time.perf_counter() - t0, "dry_run": dry_run,
           "params": sum(p.numel() for p in model.parameters()),
           "command": "lmlab " + " ".join(train_argv(cell, Path(f"runs/bench/classify/{name}"), threads, dry_run)),
           "date": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    from _sections import machine_line

    row["machine"] = machine_line()
    record(results, name, row)
    return row


def _mean_std(xs: list[float]) -> str:
    return f"{100 * statistics.mean(xs):.1f} ± {100 * statistics.stdev(xs):.1f}" if len(xs) > 1 else f"{100 * xs[0]:.1f}"


def report_lines(results: Path) -> list[str]:
    done = {k: v for k, v in (json.loads(results.read_text()) if results.is_file() else {}).items()
            if not v.get("dry_run")}
    lines = ["## Neural sentence classifiers", "",
             "Cells from `python benchmarks/classifier_bench.py --all` (resumable; every cell of the grid fixed in "
             "the script, none tuned on test): " + " ".join(SETTINGS) + f", seeds {', '.join(map(str, SEEDS))}.  "
             "Test accuracy, mean ± sample std over the seeds (%).", ""]
    if not done:
        return lines + ["No cell has been run yet."]
    lines.append(f"Machine: {next(iter(done.values()))['machine']}.")
    lines += ["", "| data | pooling | direction | seeds | test accuracy | macro F1 | epochs | train min (mean) |",
              "|---|---|---|---:|---:|---:|---:|---:|"]
    groups: dict[tuple, list[dict]] = {}
    for r in done.values():
        groups.setdefault((r["data"], r["fold"], r["pooling"], r["direction"]), []).append(r)
    for (data, fold, pooling, direction), rows in groups.items():
        name = data if fold is None else f"{data} (fold {fold})"
        lines.append(f"| {name} | {pooling} | {direction} | {len(rows)} | "
                     f"{_mean_std([r['test_accuracy'] for r in rows])} | {_mean_std([r['test_macro_f1'] for r in rows])} | "
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
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--list", action="store_true", help="the cells, and whether each is done")
    ap.add_argument("--cell", choices=sorted(cells()), help="train (or resume) one cell and record it")
    ap.add_argument("--all", action="store_true", help="every cell not yet recorded, in order, within --budget")
    ap.add_argument("--budget", type=float, default=45.0, help="--all: start no new cell after this many minutes")
    ap.add_argument("--report", action="store_true", help="write the classifier section of BENCHMARKS.md")
    ap.add_argument("--threads", type=int, default=2, help="torch threads (recorded with each cell)")
    ap.add_argument("--smoke", action="store_true",
                    help="a check of this script: --dry-run training into --runs/--results, BENCHMARKS.md untouched")
    ap.add_argument("--runs", type=Path, default=RUNS, help="folder of the cells' runs")
    ap.add_argument("--results", type=Path, default=RESULTS, help="the results file")
    args = ap.parse_args()
    done = json.loads(args.results.read_text()) if args.results.is_file() else {}
    if args.list:
        for name in cells():
            print(f"{name:24s} {'done' if name in done and not done[name].get('dry_run') else ''}")
    recorded = {n for n, r in done.items() if args.smoke or not r.get("dry_run")}
    todo = [args.cell] if args.cell else [n for n in cells() if n not in recorded] if args.all else []
    t0 = time.perf_counter()
    for name in todo:
        if args.all and time.perf_counter() - t0 > 60 * args.budget:
            print(f"budget of {args.budget:g} min spent; run again to continue", file=sys.stderr)
            break
        print(json.dumps(run_cell(name, args.threads, args.runs, args.results, dry_run=args.smoke)), flush=True)
        if args.smoke and args.all:
            break
    if (todo or args.report) and not args.smoke:
        from _sections import replace_section

        replace_section("classifier", report_lines(args.results))
    elif args.smoke:
        print("\n".join(report_lines(args.results)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
