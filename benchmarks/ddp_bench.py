#!/usr/bin/env python3
"""Data-parallel training throughput: ``lmlab train`` under ``torchrun --nproc_per_node 2`` (one
torch thread per rank) beside one process on the same global batch (one thread, and all the
ranks' threads), on this machine.

    .venv/bin/python benchmarks/ddp_bench.py --record          # PTB LSTM, 3 rounds; results/ddp.json
    .venv/bin/python benchmarks/ddp_bench.py --smoke           # a tiny corpus, a few batches: checks the script

Each side is one ``lmlab train --data ptb`` run (2 x 200 LSTM, batch 20, BPTT 35, ``--max_batches``
per epoch, one epoch) in its own processes; its speed is the training tokens per second the run
logs (``log.jsonl``'s ``tokens_per_s``, rank 0's clock: the wait for the gradient sum included,
the dev evaluation not).  The sides take turns, the order rotating round by round so that other
load falls on each alike; each side's figure is its median over ``--rounds``.  The load average
before each run is recorded.  Nothing is written to BENCHMARKS.md; ``--record`` keeps the
figures in ``results/ddp.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))
RESULTS = REPO / "benchmarks" / "results" / "ddp.json"


def sides(ranks: int) -> dict[str, tuple[int, int]]:
    """name -> (processes, torch threads per process)."""
    return {"1 process, 1 thread": (1, 1), f"1 process, {ranks} threads": (1, ranks),
            f"{ranks} ranks, 1 thread each": (ranks, 1)}


def command(processes: int, threads: int, train_args: list[str], save: Path) -> list[str]:
    py = [sys.executable]
    if processes > 1:
        py += ["-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(processes)]
    return [*py, "-m", "lmlab", "train", *train_args, "--threads", str(threads), "--epochs", "1", "--quiet",
            "--save", str(save)]


def run_side(processes: int, threads: int, train_args: list[str], folder: Path) -> dict:
    save = folder / f"p{processes}t{threads}-{time.monotonic_ns()}"
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS=str(threads))
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    done = subprocess.run(command(processes, threads, train_args, save), env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"ddp_bench: {' '.join(command(processes, threads, train_args, save))} failed:\n"
                         f"{done.stderr[-2000:]}")
    row = json.loads((save / "log.jsonl").read_text().splitlines()[-1])
    return {"tokens_per_s": row["tokens_per_s"], "train_seconds": row["seconds"], "wall_seconds": round(wall, 2),
            "load_before": load}


def smoke_corpus(folder: Path) -> list[str]:
    words = "the a cat dog sat on mat ran fast slow big small red blue".split()
    r = random.Random(0)
    for name, n in (("train.txt", 400), ("valid.txt", 40)):
        (folder / name).write_text("".join(" ".join(r.choice(words) for _ in range(r.randint(3, 9))) + "\n"
                                           for _ in range(n)))
    return ["--train", str(folder / "train.txt"), "--valid", str(folder / "valid.txt"), "--emsize", "16",
            "--nhid", "16", "--nlayers", "1", "--batch_size", "4", "--bptt", "5", "--max_batches", "5"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default="ptb", help="the dataset (default ptb)")
    ap.add_argument("--ranks", type=int, default=2, help="torchrun processes (default 2: this machine's cores)")
    ap.add_argument("--max_batches", type=int, default=300, help="training batches per run (default 300)")
    ap.add_argument("--rounds", type=int, default=3, help="runs of each side (default 3); the median is kept")
    ap.add_argument("--record", action="store_true", help="keep the figures in results/ddp.json")
    ap.add_argument("--smoke", action="store_true", help="a tiny corpus and model, one round: checks the script")
    args = ap.parse_args(argv)
    from _sections import machine_line

    with tempfile.TemporaryDirectory(prefix="ddp_bench-") as tmp:
        folder = Path(tmp)
        if args.smoke:
            train_args, rounds = smoke_corpus(folder), 1
        else:
            train_args = ["--data", args.data, "--model", "lstm", "--emsize", "200", "--nhid", "200", "--nlayers",
                          "2", "--dropout", "0.2", "--batch_size", "20", "--bptt", "35", "--max_batches",
                          str(args.max_batches)]
            rounds = args.rounds
        plan = sides(args.ranks)
        runs: dict[str, list[dict]] = {name: [] for name in plan}
        for r in range(rounds):
            names = list(plan)
            for name in names[r % len(names):] + names[: r % len(names)]:
                runs[name].append(run_side(*plan[name], train_args, folder))
    rates = {name: statistics.median(x["tokens_per_s"] for x in v) for name, v in runs.items()}
    base = rates["1 process, 1 thread"]
    result = {"machine": machine_line(), "smoke": args.smoke, "train_args": train_args if not args.smoke else "smoke",
              "tokens_per_s": {k: round(v, 1) for k, v in rates.items()},
              "speedup_over_1_thread": {k: round(v / base, 3) for k, v in rates.items()},
              "runs": runs, "median_of_rounds": rounds}
    print(json.dumps(result, indent=2))
    if args.record and not args.smoke:
        RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
