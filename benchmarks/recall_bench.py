#!/usr/bin/env python3
"""The synthetic recall task (issue 10): accuracy against the distance k for a tanh RNN, an LSTM and
a GRU, each with a learning-rate probe and three seeds, resumable.

    .venv/bin/python benchmarks/recall_bench.py --list
    .venv/bin/python benchmarks/recall_bench.py --all --budget 45        # runs (or resumes) cells for 45 min
    .venv/bin/python benchmarks/recall_bench.py --cell lstm-k50-lr0.01-s1
    .venv/bin/python benchmarks/recall_bench.py --report                 # BENCHMARKS.md's section + the plot

An example is one of 8 symbols, k blanks and a query (``s3 _ _ _ ?``); the answer is the symbol
(chance 1/8; :mod:`lmlab.diagnostics.recall`).  The task is a sentence classification whose
answer must be carried in the recurrent state from the first token to the last, so every cell is
an ``lmlab train --kind classify --pooling last --unidirectional`` run: the generic trainer (no
second training loop), checkpointed every epoch, resumed with ``--resume`` (the same result as an
uninterrupted run), scored by ``lmlab evaluate --test`` on fresh examples.  The data are generated
once per k (train seed 0, dev seed 1, test seed 2) under ``runs/bench/recall/data``.

Budget (``SETTINGS``): 1 layer, 16-d embeddings, 64 units, no dropout, Adam, clip 5, batch 32,
500 steps an epoch (16,000 examples), at most 40 epochs = 20,000 steps, stopping after
``PATIENCE`` epochs (5,000 steps) without a better dev accuracy, or at the first epoch with 100%
dev accuracy (the trainer's rule since 2026-12-02: no later epoch could replace that best model,
so the result is the same; the cells run before it trained their patience out); no curriculum.  The gated cells
start from Tallec & Ollivier's (2018) chrono initialisation (``--init chrono``: forget/update-gate
biases log(U(1, T - 1)) with T = k + 2, the example's length, the default), which the issue
allows if documented: with PyTorch's default initialisation the LSTM stayed at chance at k = 50
(dev accuracy 0.16 for lr 1e-2 and 3e-3, seeds 1-3, stopped after 12-20 epochs), with chrono it
reached 100% dev accuracy in its first epoch (lr 1e-2, seed 1).  The tanh RNN has no gate to
initialise: PyTorch's default.  Learning rates ``LRS``, seeds ``SEEDS``.  The report picks, per cell type and k, the
learning rate with the best median dev accuracy over the seeds (test never chooses), and gives
the median test accuracy over the seeds at that rate (min-max beside it) and the plot
``docs/diagnostics/recall.png``.
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _cells import REPO, Cell, main, real_rows  # noqa: E402

RESULTS = REPO / "benchmarks" / "results" / "recall.json"
RUNS = REPO / "runs" / "bench" / "recall"
DATA = RUNS / "data"
PLOT = REPO / "docs" / "diagnostics" / "recall.png"

CELLS_ = ("rnn_tanh", "lstm", "gru")
DISTANCES = (5, 10, 20, 30, 50, 75, 100)
LRS = ("0.001", "0.003", "0.01")
SEEDS = (1, 2, 3)
TRAIN, DEV, TEST = 16000, 400, 1000
PATIENCE = 10
SETTINGS = ["--pooling", "last", "--unidirectional", "--nlayers", "1", "--emsize", "16", "--nhid", "64",
            "--dropout", "0", "--optimizer", "adam", "--clip", "5", "--batch_size", "32", "--epochs", "40",
            "--patience", str(PATIENCE)]
INIT = {"rnn_tanh": [], "lstm": ["--init", "chrono"], "gru": ["--init", "chrono"]}  # chrono's T: k + 2 (the default)
INITS_NAMED = {cell: (argv or ["", "default"])[-1] for cell, argv in INIT.items()}


def data_files(k: int) -> dict[str, Path]:
    return {split: DATA / f"k{k}.{split}.txt" for split in ("train", "dev", "test")}


def write_data(k: int) -> None:
    """The train, dev and test files of distance k (skipped when they exist: they are fixed by the seeds)."""
    from lmlab._io import write_text_atomic
    from lmlab.diagnostics.recall import recall_labelled

    for (split, path), (n, seed) in zip(data_files(k).items(), ((TRAIN, 0), (DEV, 1), (TEST, 2)), strict=True):
        if not path.is_file():
            path.parent.mkdir(parents=True, exist_ok=True)
            write_text_atomic(path, "\n".join(recall_labelled(k, n, seed)) + "\n")


def cells() -> dict[str, Cell]:
    out = {}
    for cell in CELLS_:
        for k in DISTANCES:
            files = data_files(k)
            for lr in LRS:
                for seed in SEEDS:
                    out[f"{cell}-k{k}-lr{lr}-s{seed}"] = Cell(
                        ["--kind", "classify", "--model", cell, "--train", str(files["train"]),
                         "--valid", str(files["dev"]), "--lr", lr, "--seed", str(seed), *SETTINGS, *INIT[cell]],
                        ["--test", str(files["test"])],
                        {"model": cell, "distance": k, "lr": float(lr), "seed": seed, "init": (INITS_NAMED[cell])})
    return out


def probe(results: Path) -> dict[tuple[str, int, float], dict]:
    """Per (cell type, k, learning rate): the median dev accuracy over its seeds, and the median,
    min and max test accuracy over them."""
    groups: dict[tuple, list[dict]] = {}
    for r in real_rows(results).values():
        groups.setdefault((r["model"], r["distance"], r["lr"]), []).append(r)
    out = {}
    for (model, k, lr), rows in groups.items():
        test = [r["report"]["accuracy"] for r in rows]
        out[model, k, lr] = {"lr": lr, "dev": statistics.median(r["best_dev"] for r in rows),
                             "median": statistics.median(test), "low": min(test), "high": max(test),
                             "seeds": len(rows), "steps": statistics.median(r["epochs"] for r in rows) * TRAIN // 32}
    return out


def table(results: Path) -> dict[tuple[str, int], dict]:
    """Per (cell type, k): the learning rate with the best median dev accuracy over its seeds (the
    probe's choice; ties to the smaller rate), and its median, min and max test accuracy."""
    best: dict[tuple[str, int], dict] = {}
    for (model, k, _), entry in probe(results).items():
        if (model, k) not in best or (entry["dev"], -entry["lr"]) > (best[(model, k)]["dev"], -best[(model, k)]["lr"]):
            best[(model, k)] = entry
    return best


TARGET_K = 50  # the check: at k = 50, LSTM and GRU >= 95% and the tanh RNN <= 22.5% (median over seeds)


def target_lines(results: Path) -> list[str]:
    """The issue's target at k = 50 against what was measured, and the whole probe at that k."""
    best, every = table(results), probe(results)
    if not any(k == TARGET_K for _, k in best):
        return []
    said = []
    for model, want, ok in (("lstm", ">= 95%", lambda a: a >= 0.95), ("gru", ">= 95%", lambda a: a >= 0.95),
                            ("rnn_tanh", "<= 22.5%", lambda a: a <= 0.225)):
        e = best.get((model, TARGET_K))
        full = e is not None and e["seeds"] == len(SEEDS) and sum(
            1 for (m, k, _) in every if (m, k) == (model, TARGET_K)) == len(LRS)
        said.append(f"{model} {want}: " + ("not run yet" if e is None else
                    f"{100 * e['median']:.1f}% ({'met' if ok(e['median']) else 'NOT met'}"
                    f"{'' if full else '; probe incomplete'})"))
    tanh = best.get(("rnn_tanh", TARGET_K))
    why = ""
    if tanh is not None and tanh["median"] > 0.225:
        far = max(k for m, k in best if m == "rnn_tanh")
        why = (f"  A tanh RNN trained with Adam and clipping carries the symbol across {TARGET_K} constant blanks on "
               f"some seeds and not on others (min {100 * tanh['low']:.1f}%): the expectation that it stays near "
               f"chance is not what this budget measures (at k = {far}, its median is "
               f"{100 * best['rnn_tanh', far]['median']:.1f}%).")
    lines = ["", f"Target at k = {TARGET_K} (median test accuracy over the seeds, at the probe's learning rate): "
             + "; ".join(said) + "." + why, "",
             f"The learning-rate probe at k = {TARGET_K} (dev accuracy chooses; test shown):", "",
             "| cell | lr | median dev % | median test % | min-max test % |", "|---|---:|---:|---:|---:|"]
    for (model, k, lr), e in sorted(every.items(), key=lambda kv: (CELLS_.index(kv[0][0]), kv[0][2])):
        if k == TARGET_K:
            lines.append(f"| {model} | {lr:g} | {100 * e['dev']:.1f} | {100 * e['median']:.1f} | "
                         f"{100 * e['low']:.1f}-{100 * e['high']:.1f} |")
    return lines


def report_lines(results: Path) -> list[str]:
    best = table(results)
    lines = ["## Long-range recall (synthetic task)", "",
             "Cells from `python benchmarks/recall_bench.py --all` (resumable): `lmlab train --kind classify` "
             + " ".join(SETTINGS) + "; the LSTM and GRU with `--init chrono` (Tallec & Ollivier 2018: forget/update-gate "
             "biases log(U(1, k + 1)), T = k + 2 the example's length), the tanh RNN PyTorch's default"
             + f", learning rates {', '.join(LRS)} (chosen per cell type and k by the median dev "
             f"accuracy), seeds {', '.join(map(str, SEEDS))}; test accuracy on {TEST} fresh examples, median over "
             "the seeds (min-max).  Chance is 12.5%.", ""]
    if not best:
        return lines + ["No cell has been run yet."]
    lines.append(f"Machine: {next(iter(real_rows(results).values()))['machine']}.")
    lines += ["", "| cell | k | lr | seeds | test accuracy % | min-max | median steps run |", "|---|---:|---:|---:|---:|---:|---:|"]
    for (model, k), e in sorted(best.items(), key=lambda kv: (CELLS_.index(kv[0][0]), kv[0][1])):
        lines.append(f"| {model} | {k} | {e['lr']:g} | {e['seeds']} | {100 * e['median']:.1f} | "
                     f"{100 * e['low']:.1f}-{100 * e['high']:.1f} | {e['steps']:.0f} |")
    lines += target_lines(results)
    import _cells
    from lmlab.diagnostics.plots import recall_plot

    curves = []
    for model in CELLS_:
        ks = sorted(k for m, k in best if m == model)
        if ks:
            curves.append({"label": model, "distance": ks, **{f: [best[(model, k)][f] for k in ks]
                                                              for f in ("median", "low", "high")}})
    plot = results.with_suffix(".png") if _cells.SMOKE or results != RESULTS else PLOT  # a check draws elsewhere
    plot.parent.mkdir(parents=True, exist_ok=True)
    recall_plot(curves, plot, "Recall of a symbol across k blanks (best learning rate per point)")
    lines += ["", f"![recall accuracy against k]({plot.relative_to(REPO) if plot.is_relative_to(REPO) else plot})"]
    return lines


if __name__ == "__main__":
    for k in DISTANCES:
        write_data(k)
    sys.exit(main(__doc__, cells(), section="recall", results=RESULTS, runs=RUNS, report_lines=report_lines))
