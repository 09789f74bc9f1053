"""Resumable benchmark cells: one ``lmlab train`` run each, checkpointed every epoch, scored by
``lmlab evaluate --json``, recorded in a results JSON file.

A benchmark script (``classifier_bench.py``, ``tagger_bench.py``, ``seq2seq_bench.py``) names its
cells (name -> the ``lmlab train`` arguments and the ``lmlab evaluate`` arguments) and calls
:func:`main` with them and a function turning the recorded rows into its BENCHMARKS.md section.
Every cell trains in ``runs/bench/<script>/<cell>``; run again, an unfinished cell resumes with
``lmlab train --resume`` (the same result as an uninterrupted run), and ``--all --budget M`` starts
no new cell after M minutes, so one invocation stays within a session.  ``--smoke`` checks a
script end to end with ``--dry-run`` training into other folders, leaving BENCHMARKS.md alone.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parent.parent


@dataclass
class Cell:
    train: list[str]  # ``lmlab train`` arguments, without --save/--threads/--quiet/--dry-run
    evaluate: list[str] | None  # ``lmlab evaluate MODEL`` arguments after the model folder (``--json`` is added);
    # None: not evaluated (an LM: its dev perplexity is the run's best_dev)
    info: dict = field(default_factory=dict)  # what the report groups by (data, model, seed, ...)


def _lmlab(argv: list[str]) -> str:
    """Run ``lmlab ARGV`` in this process; its stdout, or SystemExit naming the command."""
    from lmlab.cli.main import main as lmlab

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = lmlab(argv)
    if rc != 0:
        raise SystemExit(f"lmlab {' '.join(argv)} failed (exit {rc})")
    return out.getvalue()


def _flag(argv: list[str], name: str, default: str | None = None) -> str | None:
    return argv[argv.index(name) + 1] if name in argv else default


def _with_epochs(argv: list[str], epochs: int) -> list[str]:
    argv = list(argv)
    if "--epochs" in argv:
        argv[argv.index("--epochs") + 1] = str(epochs)
    else:
        argv += ["--epochs", str(epochs)]
    return argv


def finished(save: Path, cell: Cell) -> bool:
    """The cell's run in ``save`` has trained all its epochs, or stopped early."""
    if not (save / "trainer_state.json").is_file():
        return False
    state = json.loads((save / "trainer_state.json").read_text())
    patience = int(_flag(cell.train, "--patience", "0"))
    total = int(_flag(cell.train, "--epochs", str(state["train_config"]["epochs"])))
    # the trainer records whether it stopped early (its own rule); earlier states lack the field
    stopped = state.get("stopped_early", bool(patience and state["bad_epochs"] >= patience))
    return state["epoch"] >= total or stopped or bool(state["train_config"].get("dry_run"))


def run_cell(name: str, cell: Cell, *, threads: int, runs: Path, results: Path, dry_run: bool = False,
             extra: Callable[[Path, dict], dict] | None = None, epochs_per_run: int | None = None) -> dict | None:
    """Train (or resume) ``cell``, evaluate it, record and return its row; with ``epochs_per_run``
    train at most that many epochs now and return None while the cell is unfinished (the epochs
    count is only the loop's bound: a run continued epoch by epoch is the uninterrupted one)."""
    from lmlab._io import write_text_atomic
    from _sections import machine_line

    save = runs / name
    t0 = time.perf_counter()
    flags = ["--quiet"] + (["--dry-run"] if dry_run else [])
    total = int(_flag(cell.train, "--epochs", "0")) or None
    if (save / "trainer_state.json").is_file():
        done_epochs = json.loads((save / "trainer_state.json").read_text())["epoch"]
        # the cell's own total (its definition may have grown since the run started: continue to it)
        more = [] if not total else ["--epochs", str(min(total, done_epochs + epochs_per_run) if epochs_per_run
                                                  else total)]
        if not finished(save, cell):
            print(f"resuming {name} at epoch {done_epochs}", file=sys.stderr)
            _lmlab(["train", "--resume", "--save", str(save), *more, *flags])
    else:
        argv = cell.train if not (epochs_per_run and total) else _with_epochs(cell.train, min(total, epochs_per_run))
        _lmlab(["train", *argv, "--threads", str(threads), "--save", str(save), *flags])
    if not finished(save, cell):
        epoch = json.loads((save / "trainer_state.json").read_text())["epoch"]
        print(f"{name}: {epoch} of {total} epochs trained; run again to continue", file=sys.stderr)
        return None
    report = json.loads(_lmlab(["evaluate", str(save), *cell.evaluate, "--json"])) if cell.evaluate is not None else None
    state = json.loads((save / "trainer_state.json").read_text())
    hist = state["history"]
    rel = save.relative_to(REPO) if save.is_relative_to(REPO) else save
    row = {**cell.info, "cell": name, "report": report, "best_dev": state["best"], "epochs": len(hist),
           "train_seconds": sum(h["seconds"] for h in hist),
           "items_per_s": sorted(h.get("items_per_s", h.get("tokens_per_s", 0.0)) for h in hist)[len(hist) // 2],
           "wall_seconds_this_run": time.perf_counter() - t0, "dry_run": dry_run, "threads": threads,
           "train_args": cell.train, "command": f"lmlab train {' '.join(cell.train)} --threads {threads} --save {rel}",
           "evaluate": f"lmlab evaluate {rel} {' '.join(cell.evaluate)}" if cell.evaluate is not None else None,
           "date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "machine": machine_line(),
           "loadavg_15min_at_end": os.getloadavg()[2]}  # other work on the machine stretches the times
    if extra is not None:
        row.update(extra(save, row))
    done = load(results)
    done[name] = row
    results.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(results, json.dumps(done, indent=2))
    return row


def load(results: Path) -> dict:
    return json.loads(results.read_text()) if results.is_file() else {}


SMOKE = False  # set by ``--smoke``: the report shows the dry runs' rows too, to check it


def real_rows(results: Path) -> dict:
    """The recorded rows that come from real (not ``--smoke``) runs (all of them under ``--smoke``)."""
    return {k: v for k, v in load(results).items() if SMOKE or not v.get("dry_run")}


def header(done: dict) -> list[str]:
    """The machine, the dates and the load of a section's recorded rows."""
    rows = list(done.values())
    dates = sorted(r["date"][:10] for r in rows)
    loads = [r["loadavg_15min_at_end"] for r in rows if "loadavg_15min_at_end" in r]
    line = f"Machine: {rows[0]['machine']}; run {dates[0]}" + (f" to {dates[-1]}" if dates[-1] != dates[0] else "")
    if loads:
        line += (f"; 15-minute load average at the end of each cell {min(loads):.1f} to {max(loads):.1f}"
                 + (" (a machine shared with other work: wall times and speeds are stretched by it, accuracies "
                    "are not)" if max(loads) > 1.5 * max(r.get("threads", 1) for r in rows) else ""))
    return [line + ".", ""]


def pending(done: dict, cells: dict) -> list[str]:
    """A line naming the cells not yet recorded (none: nothing)."""
    left = [n for n in cells if n not in done]
    if not left:
        return []
    return ["", f"Not run yet ({len(left)} of {len(cells)} cells; `--all` runs them, resuming any begun): "
                + ", ".join(f"`{n}`" for n in left) + "."]


def mean_std(xs: list[float], scale: float = 100.0) -> str:
    """``mean ± sample std`` (one value alone when there is one)."""
    if len(xs) > 1:
        return f"{scale * statistics.mean(xs):.1f} ± {scale * statistics.stdev(xs):.1f}"
    return f"{scale * xs[0]:.1f}"


def main(doc: str, cells: dict[str, Cell], *, section: str, results: Path, runs: Path,
         report_lines: Callable[[Path], list[str]], default_threads: int = 2,
         extra: Callable[[Path, dict], dict] | None = None,
         prepare: Callable[[list[str], argparse.Namespace], None] | None = None) -> int:
    """The script's command line.  ``prepare(todo, args)``, when given, runs before the cells
    ``todo`` train (e.g. to build files their arguments name)."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--list", action="store_true", help="the cells, and whether each is done")
    ap.add_argument("--cell", action="append", choices=sorted(cells), help="train (or resume) this cell and record it")
    ap.add_argument("--all", action="store_true", help="every cell not yet recorded, in order, within --budget")
    ap.add_argument("--budget", type=float, default=45.0, help="--all: start no new cell after this many minutes")
    ap.add_argument("--report", action="store_true", help=f"write the {section} section of BENCHMARKS.md")
    ap.add_argument("--epochs-per-run", type=int, help="train at most this many epochs of a cell in this invocation")
    ap.add_argument("--threads", type=int, default=default_threads, help="torch threads (recorded with each cell)")
    ap.add_argument("--smoke", action="store_true",
                    help="a check of this script: --dry-run training into --runs/--results, BENCHMARKS.md untouched")
    ap.add_argument("--runs", type=Path, default=runs, help="folder of the cells' runs")
    ap.add_argument("--results", type=Path, default=results, help="the results file")
    args = ap.parse_args()
    args.runs, args.results = args.runs.resolve(), args.results.resolve()  # ``prepare`` may change folder
    global SMOKE
    SMOKE = args.smoke
    sys.path.insert(0, str(REPO))
    done = load(args.results)
    # a row is the cell's only while the cell is defined as it was when the row was recorded
    recorded = {n for n, r in done.items() if (args.smoke or not r.get("dry_run")) and n in cells
                and r.get("train_args", cells[n].train) == cells[n].train}
    if args.list:
        for name in cells:
            print(f"{name:32s} {'done' if name in recorded else ''}")
    todo = args.cell if args.cell else [n for n in cells if n not in recorded] if args.all else []
    if todo and prepare is not None:
        prepare(todo, args)
    t0 = time.perf_counter()
    for name in todo:
        if args.all and time.perf_counter() - t0 > 60 * args.budget:
            print(f"budget of {args.budget:g} min spent; run again to continue", file=sys.stderr)
            break
        row = run_cell(name, cells[name], threads=args.threads, runs=args.runs, results=args.results,
                       dry_run=args.smoke, extra=extra, epochs_per_run=args.epochs_per_run)
        if row is None:  # unfinished: the budget is a cell's epochs now
            break
        print(json.dumps({k: v for k, v in row.items() if k != "report"}), flush=True)
        if args.smoke and args.all:
            break
    if (todo or args.report) and not args.smoke:
        from _sections import replace_section

        replace_section(section, report_lines(args.results))
    elif args.smoke:
        print("\n".join(report_lines(args.results)))
    return 0
