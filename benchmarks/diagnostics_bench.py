#!/usr/bin/env python3
"""Why gated cells beat plain RNNs, on PTB (issue 10): the models and every ``lmlab diagnose``
measurement of BENCHMARKS.md's ``diagnostics`` section, resumable stage by stage.

    .venv/bin/python benchmarks/diagnostics_bench.py --list
    .venv/bin/python benchmarks/diagnostics_bench.py --all --budget 45 --threads 1   # stages for 45 min
    .venv/bin/python benchmarks/diagnostics_bench.py --stage train-lstm --stage gradients
    .venv/bin/python benchmarks/diagnostics_bench.py --report        # BENCHMARKS.md's section again
    .venv/bin/python benchmarks/diagnostics_bench.py --smoke --all   # a check: tiny models, nothing committed

The stages, in order (each recorded in ``benchmarks/results/diagnostics.json`` and skipped when
run again while its definition is unchanged; a training stage interrupted resumes with
``lmlab train --resume``):

- ``train-rnn_tanh``, ``train-lstm``, ``train-gru``, ``train-rnn_sigmoid``, ``train-rnn_relu``:
  1x200 PTB LMs, ``RECIPE`` (Adam lr 0.001, clip 0.25, 500 batches of 20x35 tokens, seed 1): the
  same budget and seed for every cell;
- ``train-row-rnn_tanh``, ``train-row-lstm``, ``train-row-gru``: the same size, budget and seed
  trained as the project's PTB benchmark rows train these cells (``neural_bench.ROWS``: SGD, each
  row's learning rate -- 20 for the LSTM and GRU, 5 for the tanh RNN, the best of its probe, as 20
  diverges --, clip 0.25, bptt 35, batch 20, dropout 0.2);
- ``gradients-rows``: ``lmlab diagnose gradients`` of those three on PTB's valid split, 1,000
  positions: the decay norm(20)/norm(0) of the LSTM and GRU against the tanh RNN's (the issue's
  target, "for the models trained by the project's benchmark rows": at least 10x); ``gradients``:
  the same for the Adam-trained tanh RNN, LSTM and GRU (why the two differ is in the report);
  ``gradients-plain``: the sigmoid, tanh and ReLU RNNs (Adam);
- ``train-lr5-lstm``, ``train-lr5-gru``: the LSTM and GRU trained as their rows but at the tanh
  RNN's row lr (5): one learning rate for all three; ``gradients-one-lr``: their gradient flow
  beside ``train-row-rnn_tanh``'s;
- ``curves``: ``lmlab diagnose curves`` of the sigmoid, tanh and ReLU RNNs and the LSTM;
- ``train-clip``, ``train-noclip`` and ``clipping``: ``CLIP_PAIR``, one run with ``--clip 0.25``
  and one without, the same seed; the one without is stopped by the trainer's NaN guard (its
  trace kept in ``steps.jsonl``); ``lmlab diagnose clipping`` draws both;
- ``bench-row-rnn_tanh``, ``bench-row-lstm``, ``bench-row-gru``: the PTB benchmark rows themselves
  (2x200, 8 epochs; ``neural_bench.py --row``, trained or resumed in ``runs/bench/<row>``, ~22-30 min
  each on 2 threads); ``gradients-full``: their gradient flow -- the issue's target is stated on it;
- ``ngram``: ``lmlab ngram -o 5`` (modified Kneser-Ney) on PTB's train split;
- ``context``: ``lmlab diagnose context`` of the 5-gram and the benchmark-recipe tanh RNN, GRU and
  LSTM on PTB's valid split;
- ``agreement``: ``lmlab diagnose agreement`` of the same four models on UD-EWT's cases;
- ``context-full``, ``agreement-full``: the same two with the benchmark rows themselves (the report
  shows these once both are measured).

Every figure a stage draws is copied to ``docs/diagnostics/`` (not with ``--smoke``).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shutil
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _cells  # noqa: E402
import neural_bench  # noqa: E402
from _cells import REPO, Cell, header, load, run_cell  # noqa: E402

RESULTS = REPO / "benchmarks" / "results" / "diagnostics.json"
RUNS = REPO / "runs" / "bench" / "diagnostics"
DOCS = REPO / "docs" / "diagnostics"

SIZE = ["--nlayers", "1", "--emsize", "200", "--nhid", "200"]
SMOKE_SIZE = ["--nlayers", "1", "--emsize", "16", "--nhid", "16"]
# one recipe for every cell (the same budget and seed): Adam, which trains them all -- at SGD lr 20 (clip
# 0.25) a 1x200 tanh RNN ended these 500 batches at a dev perplexity of 12.8 million where an LSTM reached
# 314, and a ReLU RNN (dropout 0) overflowed at step 7
RECIPE = ["--data", "ptb", "--epochs", "1", "--max_batches", "500", "--seed", "1", "--optimizer", "adam",
          "--lr", "0.001", "--clip", "0.25", "--dropout", "0.2"]
CELL_TYPES = ("rnn_tanh", "lstm", "gru", "rnn_sigmoid", "rnn_relu")
# the clipping pair: Le et al.'s IRNN (ReLU, identity W_hh) at SGD lr 8: without clipping its state and
# gradients blow up within a few steps; with --clip 0.25 the same run (same seed) trains
CLIP_PAIR = ["--data", "ptb", "--model", "rnn_relu", "--init", "identity", "--epochs", "1", "--max_batches", "300",
             "--seed", "1", "--lr", "8", "--dropout", "0"]
# the PTB benchmark rows of each gated/tanh cell (neural_bench.ROWS): their optimizer, learning rate, clipping,
# bptt, batch and dropout train the ``train-row-*`` cells (at SIZE, 500 batches, seed 1)
ROW_OF = {"rnn_tanh": "ptb-tanh-2x200", "lstm": "ptb-lstm-2x200", "gru": "ptb-gru-2x200"}
GATED_AT_ONE_LR = ("lstm", "gru")  # trained at the tanh RNN's row lr too: one learning rate for all three
GRADIENT_MODELS = ("rnn_tanh", "lstm", "gru")  # the issue's row; the plain cells' activations beside each other:
PLAIN_MODELS = ("rnn_sigmoid", "rnn_tanh", "rnn_relu")
CURVE_MODELS = ("rnn_sigmoid", "rnn_tanh", "rnn_relu", "lstm")
NEURAL_FOR = ("rnn_tanh", "gru", "lstm")  # context and agreement (the train-row-* models), beside the 5-gram
DISTANCE = 20  # the decay norm(DISTANCE)/norm(0)
FULLY_TRAINED = ("The neural models are the project's PTB benchmark rows themselves (`bench-row-*` above: 2x200, "
                 "8 epochs), each trained as its row in the neural LM table.")
TRAINED_ONLY = ("The neural models are the 500-batch `train-row-*` runs of the first table, not the benchmark rows' "
                "fully trained ones: at this budget they are far from converged, and the 5-gram (PTB train) is not.")
PUBLISHED_AGREEMENT = (
    "Published LSTM figures: Linzen et al. 2016 (Wikipedia cases, an LSTM LM trained on them): about 0.93 with "
    "no attractor, falling with each attractor to about 0.5-0.7 with 3-4; Marvin & Linzen 2018: simple agreement "
    "about 0.94, across a prepositional phrase about 0.57 -- their figures come from templates, not from "
    "treebank sentences as here.")


def row_recipe(cell: str, lr: float | None = None) -> list[str]:
    """``lmlab train`` settings of the PTB benchmark row of ``cell`` (:data:`ROW_OF`) at the diagnostics
    budget: its optimizer, learning rate (or ``lr``), clipping, bptt, batch size and dropout, 500
    batches, seed 1."""
    data, _, model, train, _ = neural_bench.ROWS[ROW_OF[cell]]
    train = dict(train, lr=train["lr"] if lr is None else lr)
    return ["--data", data, "--epochs", "1", "--max_batches", "500", "--seed", "1",
            "--optimizer", train.get("optimizer", "sgd"), "--lr", f"{train['lr']:g}", "--clip", f"{train['clip']:g}",
            "--bptt", str(train["bptt"]), "--batch_size", str(train["batch_size"]), "--dropout", f"{model['dropout']:g}"]


@dataclass
class Stage:
    name: str
    needs: tuple[str, ...]  # stages whose results this one reads
    argv: list[str] | None = None  # an lmlab command (None: a training cell)
    cell: Cell | None = None
    may_diverge: bool = False
    figure: str | None = None  # the PNG its output folder holds
    row: str | None = None  # a PTB benchmark row of neural_bench (trained there, in runs/bench/<row>)


def stages(runs: Path, smoke: bool) -> dict[str, Stage]:
    size = SMOKE_SIZE if smoke else SIZE
    out = {}
    for c in CELL_TYPES:
        out[f"train-{c}"] = Stage(f"train-{c}", (), cell=Cell(["--model", c, *size, *RECIPE], None,
                                                                {"model": c, "clip": 0.25}))
    for c in GRADIENT_MODELS:
        recipe = row_recipe(c)
        out[f"train-row-{c}"] = Stage(f"train-row-{c}", (), cell=Cell(["--model", c, *size, *recipe], None, {
            "model": c, "clip": float(recipe[recipe.index("--clip") + 1]), "recipe": f"{ROW_OF[c]}'s"}))
    one_lr = neural_bench.ROWS[ROW_OF["rnn_tanh"]][3]["lr"]  # the gated cells at the tanh RNN's row lr
    for c in GATED_AT_ONE_LR:
        out[f"train-lr{one_lr:g}-{c}"] = Stage(f"train-lr{one_lr:g}-{c}", (), cell=Cell(
            ["--model", c, *size, *row_recipe(c, one_lr)], None, {"model": c, "clip": 0.25, "recipe": "one lr"}))
    run = {c: str(runs / f"train-{c}") for c in CELL_TYPES}
    row_run = {c: str(runs / f"train-row-{c}") for c in GRADIENT_MODELS}
    lr_run = {"rnn_tanh": row_run["rnn_tanh"], **{c: str(runs / f"train-lr{one_lr:g}-{c}") for c in GATED_AT_ONE_LR}}
    # the benchmark rows themselves (2x200, 8 epochs: neural_bench.py --row); with --smoke the train-row-* models
    # stand in for them, so the check runs every stage in minutes
    full_run = {}
    for c in GRADIENT_MODELS:
        out[f"bench-row-{c}"] = Stage(f"bench-row-{c}", (f"train-row-{c}",) if smoke else (), row=ROW_OF[c])
        full_run[c] = row_run[c] if smoke else str(REPO / "runs" / "bench" / ROW_OF[c])  # where neural_bench trains it
    full = tuple(f"bench-row-{c}" for c in GRADIENT_MODELS)
    text = ["--text", str(runs / "smoke-valid.txt")] if smoke else ["--data", "ptb"]
    small = ["--positions", "20", "--max-distance", str(DISTANCE), "--warmup", "5"] if smoke else []
    out["gradients"] = Stage("gradients", tuple(f"train-{c}" for c in GRADIENT_MODELS),
                             ["diagnose", "gradients", *(run[c] for c in GRADIENT_MODELS), *text, *small, "--out",
                              str(runs / "gradients"), "--quiet"], figure="gradients.png")
    out["gradients-rows"] = Stage("gradients-rows", tuple(f"train-row-{c}" for c in GRADIENT_MODELS),
                                  ["diagnose", "gradients", *(row_run[c] for c in GRADIENT_MODELS), *text, *small,
                                   "--out", str(runs / "gradients-rows"), "--quiet"], figure="gradients-rows.png")
    out["gradients-one-lr"] = Stage("gradients-one-lr", ("train-row-rnn_tanh", *(f"train-lr{one_lr:g}-{c}"
                                                                                 for c in GATED_AT_ONE_LR)),
                                    ["diagnose", "gradients", *(lr_run[c] for c in GRADIENT_MODELS), *text, *small,
                                     "--out", str(runs / "gradients-one-lr"), "--quiet"], figure="gradients-one-lr.png")
    out["gradients-plain"] = Stage("gradients-plain", tuple(f"train-{c}" for c in PLAIN_MODELS),
                                   ["diagnose", "gradients", *(run[c] for c in PLAIN_MODELS), *text, *small, "--out",
                                    str(runs / "gradients-plain"), "--quiet"], figure="gradients-plain.png")
    out["curves"] = Stage("curves", tuple(f"train-{c}" for c in CURVE_MODELS),
                          ["diagnose", "curves", *(run[c] for c in CURVE_MODELS), "--smooth", "20", "--out",
                           str(runs / "curves"), "--quiet"], figure="curves.png")
    for name, clip in (("train-clip", "0.25"), ("train-noclip", "0")):
        out[name] = Stage(name, (), cell=Cell([*CLIP_PAIR, *size, "--clip", clip], None,
                                              {"model": "rnn_relu identity", "clip": float(clip)}),
                          may_diverge=clip == "0")
    out["clipping"] = Stage("clipping", ("train-noclip", "train-clip"),
                            ["diagnose", "clipping", str(runs / "train-noclip"), str(runs / "train-clip"), "--out",
                             str(runs / "clipping"), "--quiet"], figure="clipping.png")
    out["gradients-full"] = Stage("gradients-full", full,
                                  ["diagnose", "gradients", *(full_run[c] for c in GRADIENT_MODELS), *text, *small,
                                   "--out", str(runs / "gradients-full"), "--quiet"], figure="gradients-full.png")
    arpa = str(runs / "ptb.o5.arpa")
    out["ngram"] = Stage("ngram", (), ["ngram", "-o", "5", *(["--text", str(runs / "smoke-train.txt")] if smoke
                                                            else ["--data", "ptb"]), "--arpa", arpa, "--quiet"])
    out["context"] = Stage("context", ("ngram", *(f"train-row-{c}" for c in NEURAL_FOR)),
                           ["diagnose", "context", arpa, *(row_run[c] for c in NEURAL_FOR), *text, "--lengths",
                            *(["1", "2", "5"] if smoke else ["1", "2", "5", "10", "20", "50"]), "--out",
                            str(runs / "context"), "--quiet"], figure="context.png")
    out["agreement"] = Stage("agreement", ("ngram", *(f"train-row-{c}" for c in NEURAL_FOR)),
                             ["diagnose", "agreement", arpa, *(row_run[c] for c in NEURAL_FOR), "--out",
                              str(runs / "agreement"), "--quiet"], figure="agreement.png")
    lengths = ["1", "2", "5"] if smoke else ["1", "2", "5", "10", "20", "50"]
    out["context-full"] = Stage("context-full", ("ngram", *full),
                                ["diagnose", "context", arpa, *(full_run[c] for c in NEURAL_FOR), *text, "--lengths",
                                 *lengths, "--out", str(runs / "context-full"), "--quiet"], figure="context-full.png")
    out["agreement-full"] = Stage("agreement-full", ("ngram", *full),
                                  ["diagnose", "agreement", arpa, *(full_run[c] for c in NEURAL_FOR), "--out",
                                   str(runs / "agreement-full"), "--quiet"], figure="agreement-full.png")
    return out


# -- running the stages ------------------------------------------------------------------------
def _lmlab(argv: list[str]) -> tuple[int, str]:
    from lmlab.cli.main import main as lmlab

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc = lmlab(argv)
    return rc, buf.getvalue()


def _row(stage: Stage, threads: int, seconds: float, smoke: bool, **more) -> dict:
    from _sections import machine_line

    return {"stage": stage.name, "command": _shown(stage.argv or []), "seconds": seconds,
            "threads": threads, "dry_run": smoke, "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "machine": machine_line(), "loadavg_15min_at_end": os.getloadavg()[2], **more}


def _shown(argv: list[str]) -> str:
    """``lmlab ARGV`` as a command run from the repository (its paths relative to it)."""
    return "lmlab " + " ".join(argv).replace(f"{REPO}/", "")


def _record(results: Path, name: str, row: dict) -> None:
    from lmlab._io import write_text_atomic

    done = load(results)
    done[name] = row
    results.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(results, json.dumps(done, indent=1))


def _train_diverging(stage: Stage, runs: Path, results: Path, threads: int, smoke: bool) -> dict:
    """A training cell that may be stopped by the NaN guard: its trace is its result."""
    save = runs / stage.name
    t0 = time.perf_counter()
    steps = save / "steps.jsonl"
    last = json.loads(steps.read_text().splitlines()[-1]) if steps.is_file() and steps.read_text() else {}
    if "diverged" not in last and not _cells.finished(save, stage.cell):
        argv = ["train", *stage.cell.train, "--threads", str(threads), "--save", str(save), "--quiet",
                *(["--dry-run"] if smoke else [])]
        if (save / "trainer_state.json").is_file():
            argv = ["train", "--resume", "--save", str(save), "--quiet"]
        elif save.exists():  # the trace of an earlier divergence, from another definition
            shutil.rmtree(save)
        rc, _ = _lmlab(argv)
        last = json.loads(steps.read_text().splitlines()[-1]) if steps.is_file() else {}
        if rc != 0 and "diverged" not in last:
            raise SystemExit(f"lmlab {' '.join(argv)} failed (exit {rc})")
    records = [json.loads(x) for x in steps.read_text().splitlines()]
    state = save / "trainer_state.json"
    best = json.loads(state.read_text())["best"] if "diverged" not in last and state.is_file() else None
    rel = save.relative_to(REPO) if save.is_relative_to(REPO) else save
    row = _row(stage, threads, time.perf_counter() - t0, smoke, **stage.cell.info, cell=stage.name,
               train_args=stage.cell.train, diverged=last if "diverged" in last else None,
               steps=len([r for r in records if "diverged" not in r]), best_dev=best, train_seconds=None,
               command=f"lmlab train {' '.join(stage.cell.train)} --threads {threads} --save {rel}")
    _record(results, stage.name, row)
    return row


def summary(stage: Stage, runs: Path) -> dict:
    """What the report needs of a diagnostic stage's output (the full records stay in its folder)."""
    folder = runs / stage.name
    if stage.name.startswith("gradients"):
        rows = json.loads((folder / "gradients.json").read_text())
        out = {}
        for r in rows:
            m = out.setdefault(Path(r["model"]).name, {"cell": r["cell"], "init": r.get("init"),
                                                       "spectral_radius": r.get("w_hh_spectral_radius"),
                                                       "largest_singular": r.get("w_hh_largest_singular")})
            if r["distance"] in (0, DISTANCE):
                m[f"norm{r['distance']}"] = r["grad_norm"]
            if r["distance"] == DISTANCE and r.get("cell_grad_norm") is not None:
                m[f"cell_norm{DISTANCE}"] = r["cell_grad_norm"]
        return {"models": out}
    if stage.argv[1] in ("context", "agreement"):
        rows = json.loads((folder / f"{stage.argv[1]}.json").read_text())
        return {"records": [{**r, "model": Path(r["model"]).name} for r in rows]}
    if stage.name == "clipping":
        rows = json.loads((folder / "clipping.json").read_text())
        out = {}
        for name in dict.fromkeys(r["model"] for r in rows):
            mine = [r for r in rows if r["model"] == name and r["grad_norm"] is not None]
            bad = [r for r in rows if r["model"] == name and r["diverged"]]
            norms = [r["grad_norm"] for r in mine]
            out[Path(name).name] = {"steps": len(mine), "clip": rows[0]["clip"] if not mine else mine[0]["clip"],
                                    "median_norm": statistics.median(norms) if norms else None,
                                    "max_norm": max(norms) if norms else None,
                                    "clipped": sum(bool(r["clipped"]) for r in mine) / len(mine) if mine else None,
                                    "last_loss": mine[-1]["loss"] if mine else None,
                                    "diverged": {"step": bad[0]["step"], "what": bad[0]["diverged"]} if bad else None}
        return {"runs": out}
    if stage.name == "curves":
        rows = json.loads((folder / "curves.json").read_text())
        out = {}
        for name in dict.fromkeys(r["model"] for r in rows):
            mine = [r for r in rows if r["model"] == name]
            out[Path(name).name] = {"steps": len(mine), "first_loss": mine[0]["loss"],
                                    "last_smoothed_loss": mine[-1]["loss_smoothed"]}
        return {"runs": out}
    return {}


def _run_bench_row(stage: Stage, results: Path, threads: int, smoke: bool) -> dict:
    """A PTB benchmark row, trained (or resumed, or found finished) by neural_bench; with --smoke its
    stand-in, the ``train-row-*`` model, is already trained."""
    t0 = time.perf_counter()
    rows = json.loads(neural_bench.RESULTS.read_text()) if neural_bench.RESULTS.is_file() else {}
    got = rows.get(stage.row, {})
    model = REPO / "runs" / "bench" / stage.row
    if not smoke and not (got.get("epochs") == neural_bench.ROWS[stage.row][3]["epochs"]
                          and (model / "trainer_state.json").is_file()):  # not measured, or its model is gone
        got = neural_bench.run_row(stage.row, threads)
    keep = ("epochs", "params", "best_valid_ppl", "test_ppl_stream", "test_ppl_sentence", "train_seconds")
    row = _row(stage, got.get("threads", threads), time.perf_counter() - t0, smoke, row=stage.row,
               **{k: got.get(k) for k in keep})
    row["command"] = f"python benchmarks/neural_bench.py --row {stage.row} --threads {row['threads']}"
    _record(results, stage.name, row)
    return row


def run_stage(stage: Stage, runs: Path, results: Path, threads: int, smoke: bool) -> dict | None:
    if stage.row is not None:
        return _run_bench_row(stage, results, threads, smoke)
    if stage.cell is not None:
        if stage.may_diverge:
            return _train_diverging(stage, runs, results, threads, smoke)
        row = run_cell(stage.name, stage.cell, threads=threads, runs=runs, results=results, dry_run=smoke)
        if row is not None:
            row["stage"] = stage.name
            row["steps"] = json.loads((runs / stage.name / "trainer_state.json").read_text())["step"]
            _record(results, stage.name, row)
        return row
    t0 = time.perf_counter()
    rc, stdout = _lmlab(stage.argv)
    if rc != 0:
        raise SystemExit(f"lmlab {' '.join(stage.argv)} failed (exit {rc})")
    row = _row(stage, threads, time.perf_counter() - t0, smoke, output=stdout, **summary(stage, runs))
    if stage.figure and not smoke:
        DOCS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(runs / stage.name / f"{stage.argv[1]}.png", DOCS / stage.figure)
    _record(results, stage.name, row)
    return row


def recorded(results: Path, all_stages: dict[str, Stage], smoke: bool) -> dict:
    """The rows that still belong to their stage (its definition unchanged; real runs unless ``smoke``)."""
    done = {}
    for name, r in load(results).items():
        s = all_stages.get(name)
        if s is None or (r.get("dry_run") and not smoke):
            continue
        if s.row is not None:
            same = r.get("row") == s.row
        else:
            same = r.get("train_args") == s.cell.train if s.cell is not None else r.get("command") == _shown(s.argv)
        if same:
            done[name] = r
    return done


def smoke_texts(runs: Path) -> None:
    """The few lines of PTB a ``--smoke`` check measures on."""
    from lmlab.data.registry import resolve

    runs.mkdir(parents=True, exist_ok=True)
    for split, n in (("valid", 40), ("train", 3000)):
        path = runs / f"smoke-{split}.txt"
        if not path.is_file():
            with open(resolve("ptb", split), encoding="utf-8") as fh:
                path.write_text("".join(next(fh) for _ in range(n)))


# -- the report ----------------------------------------------------------------------------------
def _fmt(x: float | None, spec: str = ".3g") -> str:
    return "-" if x is None else format(x, spec)


def _optimizer(train: list[str]) -> str:
    """``sgd lr 20``: a cell's optimizer and learning rate, from its ``lmlab train`` arguments."""
    return f"{_cells._flag(train, '--optimizer', 'sgd')} lr {_cells._flag(train, '--lr')}"


def _rows_recipe() -> str:
    lrs = {c: row_recipe(c)[row_recipe(c).index("--lr") + 1] for c in GRADIENT_MODELS}
    r = row_recipe("lstm")
    return (f"{r[r.index('--optimizer') + 1].upper()}, lr {lrs['rnn_tanh']} for the tanh RNN (its row's lr, the best "
            "of that row's probe), "
            f"{lrs['lstm']} for the LSTM and {lrs['gru']} for the GRU, clip "
            f"{r[r.index('--clip') + 1]}, dropout {r[r.index('--dropout') + 1]}")


def _decay(m: dict) -> float:
    return m[f"norm{DISTANCE}"] / m["norm0"]


def _why_adam_differs(rows: dict, adam: dict) -> str:
    """Why the Adam-trained cells miss the target the benchmark-recipe cells meet: whose decay moved."""
    by = lambda models: {m["cell"]: m for m in models.values()}  # noqa: E731
    r, a = by(rows), by(adam)
    if not {"rnn_tanh", "lstm"} <= set(r) & set(a):
        return ""
    t_r, t_a, l_r, l_a = _decay(r["rnn_tanh"]), _decay(a["rnn_tanh"]), _decay(r["lstm"]), _decay(a["lstm"])
    cell = r["lstm"].get(f"cell_norm{DISTANCE}")
    moved = lambda x, y: max(x, y) / min(x, y)  # noqa: E731
    whose = "tanh RNN's" if moved(t_a, t_r) > moved(l_a, l_r) else "LSTM's"
    return (f"Why the Adam-trained LSTM's decay is {l_a / t_a:.3g}x the tanh RNN's where the benchmark recipe's "
            f"is {l_r / t_r:.3g}x: the difference is mostly the {whose}.  The tanh RNN's gradient decays by {t_r:.3g} over "
            f"{DISTANCE} steps trained with SGD as its row, by {t_a:.3g} trained with Adam: with Adam the plain RNN's "
            f"gradient decays {moved(t_a, t_r):.3g}x {'less' if t_a > t_r else 'more'}, while the LSTM's decay moves {moved(l_a, l_r):.2g}x "
            f"({l_r:.3g} with SGD, {l_a:.3g} with Adam).  The measurement is the same in both: the loss at one position "
            f"t, the top layer's hidden state h (the issue's definition; not (h, c) together), the median over 1,000 "
            f"positions" + (f"; the LSTM's cell-state gradient at k = {DISTANCE} is larger, {cell:.3g} (benchmark "
                            f"recipe), as its additive update carries it." if cell is not None else "."))


def _one_lr_note(done: dict, models: dict) -> str:
    """What one learning rate does to the gated cells: their decay, beside how far each trained."""
    tanh = next((m for m in models.values() if m["cell"] == "rnn_tanh"), None)
    one = _cells._flag(row_recipe("rnn_tanh"), "--lr")
    parts = []
    for m in models.values():
        own, at_one = done.get(f"train-row-{m['cell']}"), done.get(f"train-lr{one}-{m['cell']}")
        if m["cell"] == "rnn_tanh" or tanh is None or own is None or at_one is None:
            continue
        parts.append(f"the {m['cell'].upper()}'s decay is {_decay(m) / _decay(tanh):.3g}x the tanh RNN's, its dev "
                     f"perplexity after the 500 batches {at_one['best_dev']:.1f} (at its row's lr "
                     f"{_cells._flag(row_recipe(m['cell']), '--lr')}: {own['best_dev']:.1f})")
    if not parts:
        return ""
    return (f"At lr {one} for all three " + "; ".join(parts) + ".  The gradient flow is that of the model the "
            "training made: the target above holds for the cells trained as their benchmark rows (each at its "
            "row's learning rate), not for one learning rate nor for Adam at 0.001.")


def report_lines(results: Path, all_stages: dict[str, Stage], smoke: bool = False) -> list[str]:
    done = recorded(results, all_stages, smoke)
    lines = ["## Diagnostics: why gated cells beat plain RNNs (PTB)", "",
             "Stages from `python benchmarks/diagnostics_bench.py --all` (resumable).  Models: 1x200 PTB LMs, `lmlab "
             f"train --model CELL {' '.join(SIZE)} {' '.join(RECIPE)}` (500 batches of 20x35 tokens; the same budget "
             "and seed for every cell).  Adam, because at lmlab's default SGD lr 20 with clip 0.25 the plain RNNs do "
             "not train (measured here: a tanh RNN of these settings ended 500 batches at a dev perplexity of 12.8 "
             "million where the LSTM reached 314; a ReLU RNN with dropout 0 overflowed at step 7).  Beside them, "
             "`train-row-CELL`: the tanh RNN, LSTM and GRU at the same size, budget and seed trained as the project's "
             f"PTB benchmark rows train them ({_rows_recipe()}); and `bench-row-CELL`: those benchmark rows "
             "themselves (2x200, 8 epochs), the models of the gradient-flow target, the context-length curves and "
             "the agreement table (where they are not yet measured, the `train-row-CELL` models stand in, said so).",
             ""]
    if not done:
        return lines + ["No stage has been run yet."]
    lines += header(done)
    trained = [s for s in all_stages.values() if s.cell is not None and s.name in done]
    if trained:
        lines += ["| run | cell | optimizer | clip | steps | dev perplexity (stream) | train min | tokens/s | threads |",
                  "|---|---|---|---:|---:|---:|---:|---:|---:|"]
        for s in trained:
            r = done[s.name]
            if r.get("diverged") is not None:
                d = r["diverged"]
                lines.append(f"| {s.name} | {r['model']} | {_optimizer(s.cell.train)} | {r['clip']:g} | {r['steps']} | "
                             f"diverged at step {d['step']} "
                             f"({d['diverged']} became {d['value']}) | | | {r['threads']} |")
            else:
                minutes = None if r.get("train_seconds") is None else r["train_seconds"] / 60
                lines.append(f"| {s.name} | {r['model']} | {_optimizer(s.cell.train)} | {r['clip']:g} | {r.get('steps', '')} | "
                             f"{_fmt(r.get('best_dev'), '.1f')} | {_fmt(minutes, '.1f')} | "
                             f"{_fmt(r.get('items_per_s'), '.0f')} | {r['threads']} |")
        lines.append("")
    bench = [s for s in all_stages.values() if s.row is not None and s.name in done]
    if bench:
        lines += ["The PTB benchmark rows themselves (`python benchmarks/neural_bench.py --row ROW`: 2x200, 8 epochs, "
                  "the neural LM table's rows; `bench-row-*`):", "",
                  "| run | row | epochs | parameters | best dev perplexity | test perplexity (stream) | train min |",
                  "|---|---|---:|---:|---:|---:|---:|"]
        for s in bench:
            r = done[s.name]
            minutes = None if r.get("train_seconds") is None else r["train_seconds"] / 60
            lines.append(f"| {s.name} | {s.row} | {r.get('epochs') or '-'} | {_fmt(r.get('params'), ',')} | "
                         f"{_fmt(r.get('best_valid_ppl'), '.1f')} | {_fmt(r.get('test_ppl_stream'), '.1f')} | "
                         f"{_fmt(minutes, '.1f')} |")
        lines.append("")
    target = "gradients-full" if "gradients-full" in done else "gradients-rows"
    for stage, recipe in (("gradients-full", "the project's PTB benchmark rows themselves (the tanh RNN, LSTM and "
                                             "GRU rows: 2x200, 8 epochs)"),
                          ("gradients-rows", f"the tanh RNN, LSTM and GRU at 1x200 and 500 batches, trained as their "
                                             f"PTB benchmark rows ({_rows_recipe()})"),
                          ("gradients-one-lr", "the same with one learning rate for all three: the LSTM and GRU "
                                               "trained as their rows but at the tanh RNN's row lr "
                                               f"({_cells._flag(row_recipe('rnn_tanh'), '--lr')}), below their own"),
                          ("gradients", "the tanh RNN, LSTM and GRU trained with Adam (lr 0.001)"),
                          ("gradients-plain", "the sigmoid, tanh and ReLU RNNs (Adam)")):
        g = done.get(stage)
        if not g:
            continue
        models = g["models"]
        base = next((m for m in models.values() if m["cell"] == "rnn_tanh"), None)
        positions = "20 positions (smoke)" if smoke else "1,000 positions"
        lines += [f"**Gradient flow** of {recipe} (`lmlab diagnose gradients`, PTB valid, {positions}): the median "
                  f"norm of dL_t/dh_(t-k) at k = 0 and k = {DISTANCE}; the decay norm({DISTANCE})/norm(0) beside the "
                  "tanh RNN's" + (" (the issue's target: at least 10x for the LSTM and the GRU)." if stage == target
                                  else "."), "",
                  f"| model | norm(0) | norm({DISTANCE}) | decay | decay vs tanh RNN | norm({DISTANCE}) vs tanh RNN | "
                  "spectral radius of W_hh | largest singular value |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for m in models.values():
            decay = m[f"norm{DISTANCE}"] / m["norm0"]
            vs = decay / (base[f"norm{DISTANCE}"] / base["norm0"]) if base else None
            raw = m[f"norm{DISTANCE}"] / base[f"norm{DISTANCE}"] if base else None
            lines.append(f"| {m['cell']} | {m['norm0']:.3g} | {m[f'norm{DISTANCE}']:.3g} | {decay:.3g} | "
                         f"{_fmt(vs, ',.3g')}x | {_fmt(raw, ',.3g')}x | {_fmt(m['spectral_radius'], '.3f')} | "
                         f"{_fmt(m['largest_singular'], '.3f')} |")
        gated = [m for m in models.values() if m["cell"] in ("lstm", "gru")]
        if base and gated:
            met = [m["cell"] for m in gated
                   if m[f"norm{DISTANCE}"] / m["norm0"] >= 10 * base[f"norm{DISTANCE}"] / base["norm0"]]
            lines += ["", f"Target (the gated cells' decay at least 10x the tanh RNN's): "
                          f"{'met' if len(met) == len(gated) else 'not met'} ({', '.join(met) or 'none'} at least 10x)."]
        lines += ["", f"![gradient flow](docs/diagnostics/{stage}.png)", ""]
        if stage == "gradients" and "gradients-rows" in done:
            lines += [_why_adam_differs(done["gradients-rows"]["models"], models), ""]
        if stage == "gradients-one-lr":
            lines += [_one_lr_note(done, models), ""]
    for name, title in (("curves", "**Training-loss curves** (`lmlab diagnose curves`): sigmoid, tanh and ReLU RNNs "
                                   "and an LSTM from the runs above: the same budget and seed."),
                        ("clipping", "**Exploding gradients and clipping** (`lmlab diagnose clipping`): "
                                     f"`lmlab train {' '.join(CLIP_PAIR)} {' '.join(SIZE)}` with `--clip 0.25` and "
                                     "with `--clip 0`, the gradient norm before clipping at every step.")):
        r = done.get(name)
        if not r:
            continue
        lines += [title, ""]
        if name == "curves":
            lines += ["| run | steps | first loss | mean loss of the last 20 steps |", "|---|---:|---:|---:|"]
            lines += [f"| {n} | {v['steps']} | {v['first_loss']:.3f} | {v['last_smoothed_loss']:.3f} |"
                      for n, v in r["runs"].items()]
        else:
            lines += ["| run | clip | steps | median norm | max norm | steps clipped | outcome |",
                      "|---|---:|---:|---:|---:|---:|---|"]
            for n, v in r["runs"].items():
                outcome = (f"diverged at step {v['diverged']['step']} ({v['diverged']['what']})" if v["diverged"]
                           else f"trained; last loss {_fmt(v['last_loss'], '.3f')}")
                lines.append(f"| {n} | {_fmt(v['clip'], 'g')} | {v['steps']} | {_fmt(v['median_norm'])} | "
                             f"{_fmt(v['max_norm'])} | {_fmt(v['clipped'] if v['clip'] else None, '.0%')} | {outcome} |")
        lines += ["", f"![{name}](docs/diagnostics/{name}.png)", ""]
    full = "context-full" in done and "agreement-full" in done
    which = FULLY_TRAINED if full else TRAINED_ONLY
    c = done.get("context-full" if full else "context")
    if c:
        ks = sorted({r["context"] for r in c["records"]})
        lines += ["**Perplexity against the context length k** (`lmlab diagnose context`, PTB valid, each line "
                  f"scored from `<s>`): each history cut to its last k tokens.  {which}", "", "| model | " + " | ".join(f"k={k}" for k in ks) + " | full |",
                  "|---|" + "---:|" * (len(ks) + 1)]
        for m in dict.fromkeys(r["model"] for r in c["records"]):
            rows = {r["context"]: r for r in c["records"] if r["model"] == m}
            lines.append(f"| {m} | " + " | ".join(f"{rows[k]['perplexity']:.1f}" for k in ks)
                         + f" | {next(iter(rows.values()))['full_perplexity']:.1f} |")
        lines += ["", f"![context](docs/diagnostics/{'context-full' if full else 'context'}.png)", ""]
    a = done.get("agreement-full" if full else "agreement")
    if a:
        models = list(dict.fromkeys(r["model"] for r in a["records"]))
        lines += ["**Subject-verb agreement** (`lmlab diagnose agreement`, cases from all three UD-EWT splits): "
                  "accuracy (P(correct form) > P(wrong form) after the prefix), the Wilson 95% interval and the "
                  "cases scored (a case with either form outside a model's vocabulary is not scored for it).  "
                  f"{which}", "",
                  "| bucket | " + " | ".join(models) + " |", "|---|" + "---|" * len(models)]
        for key in dict.fromkeys((r["bucket_kind"], r["bucket"]) for r in a["records"]):
            cells = []
            for m in models:
                r = next((x for x in a["records"] if x["model"] == m and (x["bucket_kind"], x["bucket"]) == key), None)
                cells.append("-" if r is None or r["accuracy"] is None else
                             f"{r['accuracy']:.3f} [{r['ci_low']:.3f}, {r['ci_high']:.3f}], n={r['cases']}")
            lines.append(f"| {'all' if key[1] == 'all' else f'{key[0]} {key[1]}'} | " + " | ".join(cells) + " |")
        lines += ["", PUBLISHED_AGREEMENT, "",
                  f"![agreement](docs/diagnostics/{'agreement-full' if full else 'agreement'}.png)", ""]
    lines += ["Each figure was opened and checked (axes, units, labels, legends) before it was committed.", "",
              "Commands:", ""] + [f"- `{r['command']}`" for r in done.values()]
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--list", action="store_true", help="the stages, and whether each is done")
    ap.add_argument("--stage", action="append", help="run this stage (its needs must be done)")
    ap.add_argument("--all", action="store_true", help="every stage not yet recorded, in order, within --budget")
    ap.add_argument("--budget", type=float, default=45.0, help="--all: start no new stage after this many minutes")
    ap.add_argument("--report", action="store_true", help="write the diagnostics section of BENCHMARKS.md")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (recorded with each stage)")
    ap.add_argument("--smoke", action="store_true",
                    help="a check of this script: tiny --dry-run models into --runs/--results, BENCHMARKS.md and "
                         "docs/ untouched")
    ap.add_argument("--runs", type=Path, help=f"folder of the runs (default {RUNS.relative_to(REPO)}, with --smoke "
                                              f"{RUNS.relative_to(REPO)}-smoke)")
    ap.add_argument("--results", type=Path, help="the results file (default benchmarks/results/diagnostics.json; "
                                                 "with --smoke RUNS/results.json)")
    args = ap.parse_args()
    runs = args.runs or (RUNS.with_name(RUNS.name + "-smoke") if args.smoke else RUNS)
    results = args.results or (runs / "results.json" if args.smoke else RESULTS)
    _cells.SMOKE = args.smoke
    sys.path.insert(0, str(REPO))
    all_stages = stages(runs, args.smoke)
    if args.smoke:
        smoke_texts(runs)
    done = recorded(results, all_stages, args.smoke)
    if args.list:
        for name, s in all_stages.items():
            print(f"{name:18s} {'done' if name in done else ''}  needs {', '.join(s.needs) or '-'}")
    unknown = sorted(set(args.stage or ()) - set(all_stages))
    if unknown:
        raise SystemExit(f"no stage {', '.join(unknown)}; the stages: {', '.join(all_stages)}")
    todo = args.stage or ([n for n in all_stages if n not in done] if args.all else [])
    t0 = time.perf_counter()
    for name in todo:
        if args.all and time.perf_counter() - t0 > 60 * args.budget:
            print(f"budget of {args.budget:g} min spent; run again to continue", file=sys.stderr)
            break
        missing = [n for n in all_stages[name].needs if n not in recorded(results, all_stages, args.smoke)]
        if missing:
            print(f"{name}: skipped, it needs {', '.join(missing)} first", file=sys.stderr)
            continue
        print(f"{name}: running", file=sys.stderr, flush=True)
        row = run_stage(all_stages[name], runs, results, args.threads, args.smoke)
        if row is None:  # an unfinished training cell
            break
        print(json.dumps({k: v for k, v in row.items() if k not in ("report", "output", "records")})[:600], flush=True)
    lines = report_lines(results, all_stages, args.smoke)
    if args.smoke:
        print("\n".join(lines))
    elif todo or args.report:
        from _sections import replace_section

        replace_section("diagnostics", lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
