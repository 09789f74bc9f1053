#!/usr/bin/env python3
"""Neural LM quality and speed rows, each a resumable job that appends to a JSON file.

    .venv/bin/python benchmarks/neural_bench.py --list
    .venv/bin/python benchmarks/neural_bench.py --row ptb-lstm-2x200     # trains (or resumes) one row
    .venv/bin/python benchmarks/neural_bench.py --report                 # regenerate BENCHMARKS.md's section

A session is stopped after 180 minutes and its background jobs die with it, so every row is a
training run of at most about 45 minutes on 2 CPU cores that checkpoints each epoch under
``runs/bench/<row>`` and resumes from there when run again (``Trainer.resume``; the result is
the same as an uninterrupted run).  When the row's epochs are done it measures test perplexity
(streaming, every token scored: the literature's convention; and sentence-independent, the
n-gram models' convention), parameters, training tokens/s, peak memory and wall time, and
writes the row into ``benchmarks/results/neural.json``; ``--report`` turns that file into the
section of ``BENCHMARKS.md`` between ``<!-- neural:begin -->`` and ``<!-- neural:end -->``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))
RESULTS = REPO / "benchmarks" / "results" / "neural.json"

# name: (dataset, char level, model config fields, train config fields, what it shows)
ROWS = {
    "ptb-lstm-2x200": ("ptb", False, dict(cell="lstm", emsize=200, nhid=200, nlayers=2, dropout=0.2),
                       dict(epochs=8, lr=20.0, clip=0.25, bptt=35, batch_size=20),
                       "pytorch/examples' recipe; target test ppl <= 120 (Zaremba small: 114.5)"),
    "ptb-gru-2x200": ("ptb", False, dict(cell="gru", emsize=200, nhid=200, nlayers=2, dropout=0.2),
                      dict(epochs=8, lr=20.0, clip=0.25, bptt=35, batch_size=20), "same budget as the LSTM"),
    "ptb-tanh-2x200": ("ptb", False, dict(cell="rnn_tanh", emsize=200, nhid=200, nlayers=2, dropout=0.2),
                       dict(epochs=8, lr=5.0, clip=0.25, bptt=35, batch_size=20),
                       "same budget; lr 5, the best of the probe (lr_probe.json: 10 and 20 diverge)"),
    "ptb-lstm-1x200": ("ptb", False, dict(cell="lstm", emsize=200, nhid=200, nlayers=1, dropout=0.2),
                       dict(epochs=8, lr=20.0, clip=0.25, bptt=35, batch_size=20), "one layer: do more layers help?"),
    "ptb-window-4": ("ptb", False, dict(kind="window", context=4, emsize=100, nhid=200, dropout=0.2),
                     dict(epochs=4, lr=0.001, optimizer="adam", batch_size=512, clip=0.0),
                     "Bengio et al. 2003 fixed-window LM"),
    "wt2-lstm-2x200": ("wikitext-2", False, dict(cell="lstm", emsize=200, nhid=200, nlayers=2, dropout=0.2,
                                                 adaptive_cutoffs=(2000, 10000)),
                       dict(epochs=6, lr=0.002, optimizer="adam", clip=0.25, bptt=35, batch_size=20),
                       "adaptive softmax for the 33k vocabulary"),
    "ptb-char-lstm": ("ptb", True, dict(cell="lstm", emsize=64, nhid=256, nlayers=2, dropout=0.1),
                      dict(epochs=3, lr=0.002, optimizer="adam", clip=1.0, bptt=100, batch_size=32),
                      "PTB's characters: word and character models on one scale (benchmarks/compare_bench.py)"),
    "shakespeare-char-lstm": ("tinyshakespeare", True, dict(cell="lstm", emsize=64, nhid=256, nlayers=2, dropout=0.1),
                              dict(epochs=6, lr=0.002, optimizer="adam", clip=1.0, bptt=100, batch_size=32),
                              "target <= 1.55 nats/char validation (char-rnn / nanoGPT split)"),
}


def machine() -> dict:
    import numpy
    import torch

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "torch": torch.__version__, "numpy": numpy.__version__, "threads": torch.get_num_threads()}


def run_row(name: str, threads: int) -> dict:
    import torch

    from lmlab.data.readers import lm_lines
    from lmlab.eval.perplexity import evaluate
    from lmlab.models.neural.adapter import TorchLM
    from lmlab.models.neural.config import config_from_dict
    from lmlab.text.tokenize import Tokenizer
    from lmlab.text.vocab import Vocab, encode_corpus
    from lmlab.train.loop import TrainConfig, Trainer, stream_perplexity

    data, char, mfields, tfields, note = ROWS[name]
    run_dir = REPO / "runs" / "bench" / name
    tok = Tokenizer(kind="character" if char else "whitespace")
    train_lines, valid_lines = lm_lines(data, "train"), lm_lines(data, "valid")
    test_lines = valid_lines if data == "tinyshakespeare" else lm_lines(data, "test")
    t0 = time.perf_counter()
    if (run_dir / "trainer_state.json").is_file():
        trainer = Trainer.resume(run_dir, epochs=tfields["epochs"])  # a row's budget may have grown
        vocab = trainer.vocab
        print(f"resuming {name} at epoch {trainer.epoch}", file=sys.stderr)
    else:
        vocab = Vocab.build((tok.tokenize(x) for x in train_lines), tokenizer=tok)
        mcfg = config_from_dict(dict(mfields, vocab_size=len(vocab)))
        trainer = Trainer(mcfg, TrainConfig(**tfields, seed=1111, threads=threads), vocab, run_dir)
    enc = lambda lines: encode_corpus(vocab, [tok.tokenize(x) for x in lines])[0]  # noqa: E731
    train, valid, test = enc(train_lines), enc(valid_lines), enc(test_lines)
    trainer.fit(train, valid)
    wall = time.perf_counter() - t0
    lm = TorchLM.load(run_dir)
    is_rnn = lm.is_rnn
    stream_ppl = stream_perplexity(lm.model, test, is_rnn, 10, 35, getattr(lm.config, "context", 0))
    sent = evaluate(lm, test_lines)
    hist = trainer.history
    row = {
        "row": name, "data": data, "char": char, "model": dict(mfields), "train": dict(tfields), "note": note,
        "epochs": len(hist), "params": sum(p.numel() for p in lm.model.parameters()),
        "train_tokens_per_s": sorted(h["tokens_per_s"] for h in hist)[len(hist) // 2],
        "train_seconds": sum(h["seconds"] for h in hist), "wall_seconds_this_run": wall,
        "best_valid_ppl": trainer.best, "test_ppl_stream": stream_ppl, "test_ppl_sentence": sent.perplexity,
        "test_nats_per_token_stream": math.log(stream_ppl), "peak_rss_mib": resource.getrusage(
            resource.RUSAGE_SELF).ru_maxrss / 1024, "threads": trainer.threads, "machine": machine(),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": f"python benchmarks/neural_bench.py --row {name} --threads {trainer.threads}",
    }
    results = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
    results[name] = row
    from lmlab._io import write_text_atomic

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(RESULTS, json.dumps(results, indent=2))
    del torch
    return row


def probe_lr(name: str, lrs: list[float], batches: int, threads: int) -> dict:
    """How the row's learning rate was chosen: ``batches`` batches of training from the same seed at
    each rate, then validation perplexity.  Written to ``benchmarks/results/lr_probe.json``."""
    import tempfile

    from lmlab.data.readers import lm_lines
    from lmlab.models.neural.config import config_from_dict
    from lmlab.text.tokenize import Tokenizer
    from lmlab.text.vocab import Vocab, encode_corpus
    from lmlab.train.loop import TrainConfig, Trainer

    data, char, mfields, tfields, _ = ROWS[name]
    tok = Tokenizer(kind="character" if char else "whitespace")
    train_lines, valid_lines = lm_lines(data, "train"), lm_lines(data, "valid")
    vocab = Vocab.build((tok.tokenize(x) for x in train_lines), tokenizer=tok)
    enc = lambda lines: encode_corpus(vocab, [tok.tokenize(x) for x in lines])[0]  # noqa: E731
    train, valid = enc(train_lines), enc(valid_lines)
    out = {}
    for lr in lrs:
        with tempfile.TemporaryDirectory() as tmp:
            tf = dict(tfields, epochs=1, lr=lr, max_batches=batches)
            trainer = Trainer(config_from_dict(dict(mfields, vocab_size=len(vocab))),
                              TrainConfig(**tf, seed=1111, threads=threads, progress=False), vocab, tmp)
            trainer.fit(train, valid)
            out[str(lr)] = trainer.history[-1]["valid_ppl"]
        print(f"{name} lr {lr}: valid ppl {out[str(lr)]:.2f} after {batches} batches", file=sys.stderr, flush=True)
    path = RESULTS.parent / "lr_probe.json"
    results = json.loads(path.read_text()) if path.is_file() else {}
    results[name] = {"batches": batches, "valid_ppl_by_lr": out, "threads": threads,
                     "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                     "command": f"python benchmarks/neural_bench.py --probe {name} --lrs "
                                + " ".join(map(str, lrs)) + f" --batches {batches}"}
    from lmlab._io import write_text_atomic

    write_text_atomic(path, json.dumps(results, indent=2))
    return results[name]


SPEED_ROWS = ("ptb-lstm-2x200", "ptb-gru-2x200", "ptb-tanh-2x200", "ptb-lstm-1x200")


def speed_one(name: str, batches: int, threads: int) -> dict:
    """Training tokens/s of one row's model for ``batches`` batches after 20 warm-up batches, and
    this process's peak memory (run in a fresh process per measurement by :func:`speed`)."""
    import dataclasses
    import tempfile

    from lmlab.data.readers import lm_lines
    from lmlab.models.neural.config import config_from_dict
    from lmlab.text.vocab import Vocab, encode_corpus
    from lmlab.train.loop import TrainConfig, Trainer

    data, _, mfields, tfields, _ = ROWS[name]
    lines = lm_lines(data, "train")
    vocab = Vocab.build(x.split() for x in lines)
    train = encode_corpus(vocab, [x.split() for x in lines])[0]
    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(config_from_dict(dict(mfields, vocab_size=len(vocab))),
                          TrainConfig(**tfields, seed=1111, threads=threads, progress=False, max_batches=20), vocab, tmp)
        trainer._train_epoch(train)
        trainer.tcfg = dataclasses.replace(trainer.tcfg, max_batches=batches)
        t0 = time.perf_counter()
        _, n_tok = trainer._train_epoch(train)
        seconds = time.perf_counter() - t0
        params = sum(p.numel() for p in trainer.model.parameters())
    return {"row": name, "tokens_per_s": n_tok / seconds, "params": params,
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def speed(rounds: int, batches: int, threads: int) -> dict:
    """Every cell's training speed measured in one run, interleaved (round 1: each row; round 2:
    each row; ...), each measurement in a fresh process; the median over rounds."""
    import subprocess

    runs: dict[str, list[dict]] = {r: [] for r in SPEED_ROWS}
    for _ in range(rounds):
        for r in SPEED_ROWS:
            out = subprocess.run([sys.executable, __file__, "--speed-one", r, "--batches", str(batches),
                                  "--threads", str(threads)], check=True, capture_output=True, text=True).stdout
            runs[r].append(json.loads(out))
            print(out.strip(), file=sys.stderr, flush=True)
    res = {"rounds": rounds, "batches": batches, "threads": threads, "machine": machine(),
           "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
           "command": f"python benchmarks/neural_bench.py --speed --rounds {rounds} --batches {batches} --threads {threads}",
           "rows": {r: {"params": v[0]["params"],
                        "tokens_per_s": sorted(x["tokens_per_s"] for x in v)[len(v) // 2],
                        "tokens_per_s_all": [x["tokens_per_s"] for x in v],
                        "peak_rss_mib": max(x["peak_rss_mib"] for x in v)} for r, v in runs.items()}}
    from lmlab._io import write_text_atomic

    write_text_atomic(RESULTS.parent / "neural_cells_speed.json", json.dumps(res, indent=2))
    return res


def report() -> None:
    results = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
    lines = ["## Neural language models", "",
             "Rows from `python benchmarks/neural_bench.py --row NAME` (resumable, <= ~45 min each); "
             "raw numbers in `benchmarks/results/neural.json`.  Test perplexity \"stream\" carries the state "
             "across sentences and scores every token (words + one `</s>` per line), the literature's "
             "convention; \"sentence\" restarts at every line, the n-gram models' convention.", ""]
    if not results:
        lines.append("No row has been run yet.")
    else:
        m = next(iter(results.values()))["machine"]
        lines.append(f"Machine: {m['cpu']}, {m['cores']} cores; Python {m['python']}, torch {m['torch']}.")
        lines += ["", "| row | params | epochs | train tok/s | train min | valid ppl | test ppl stream | "
                  "test ppl sentence | peak RSS MiB | note |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
        for r in results.values():
            ppl_s = f"{r['test_ppl_stream']:.2f}" + (f" ({r['test_nats_per_token_stream']:.3f} nats/char)"
                                                      if r["char"] else "")
            lines.append(f"| {r['row']} | {r['params']:,} | {r['epochs']} | {r['train_tokens_per_s']:.0f} | "
                         f"{r['train_seconds'] / 60:.1f} | {r['best_valid_ppl']:.2f} | {ppl_s} | "
                         f"{r['test_ppl_sentence']:.2f} | {r['peak_rss_mib']:.0f} | {r['note']} |")
    cells = RESULTS.parent / "neural_cells_speed.json"
    if cells.is_file():
        c = json.loads(cells.read_text())
        lines += ["", f"Training speed and memory per cell, measured together on an otherwise idle machine "
                  f"(`{c['command']}`, {c['date'][:10]}): each row's model trained for {c['batches']} batches "
                  f"(bptt 35, batch 20) in a fresh process, rounds interleaved, median of {c['rounds']}.  "
                  "The rows' own tok/s above were taken during their training runs, some while other jobs "
                  "shared the cores; compare cells here.", "",
                  "| row | params | train tok/s (median) | all rounds | peak RSS MiB |", "|---|---:|---:|---|---:|"]
        for r, d in c["rows"].items():
            lines.append(f"| {r} | {d['params']:,} | {d['tokens_per_s']:.0f} | "
                         + ", ".join(f"{x:.0f}" for x in d["tokens_per_s_all"]) + f" | {d['peak_rss_mib']:.0f} |")
    probes = RESULTS.parent / "lr_probe.json"
    if probes.is_file():
        lines += ["", "Learning rates chosen by a probe (`--probe ROW`): the same seed trained for a few hundred "
                  "batches at each rate, then validation perplexity; the row uses the best."]
        for row, p in json.loads(probes.read_text()).items():
            by = ", ".join(f"lr {float(k):g}: {v:,.0f}" if v < 1e5 else f"lr {float(k):g}: diverged ({v:.1e})"
                           for k, v in p["valid_ppl_by_lr"].items())
            lines.append(f"- {row}, {p['batches']} batches (`{p['command']}`): {by}.")
    from _sections import replace_section

    replace_section("neural", lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--row", choices=sorted(ROWS))
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--report", action="store_true")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (recorded with the row)")
    ap.add_argument("--probe", choices=sorted(ROWS), help="learning-rate probe for a row (see --lrs, --batches)")
    ap.add_argument("--lrs", nargs="+", type=float, default=[1.0, 2.0, 5.0, 10.0, 20.0])
    ap.add_argument("--batches", type=int, default=300)
    ap.add_argument("--speed", action="store_true", help="training speed of every cell, interleaved rounds")
    ap.add_argument("--speed-one", dest="speed_one", choices=SPEED_ROWS, help=argparse.SUPPRESS)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    if args.speed_one:
        import torch

        torch.set_num_threads(args.threads)
        print(json.dumps(speed_one(args.speed_one, args.batches, args.threads)))
        return 0
    if args.speed:
        print(json.dumps(speed(args.rounds, args.batches, args.threads), indent=2))
        report()
        return 0
    if args.probe:
        print(json.dumps(probe_lr(args.probe, args.lrs, args.batches, args.threads), indent=2))
        return 0
    if args.list:
        for k, v in ROWS.items():
            print(f"{k:24s} {v[4]}")
    if args.row:
        row = run_row(args.row, args.threads)
        print(json.dumps(row, indent=2))
        report()
    elif args.report:
        report()
    return 0


if __name__ == "__main__":
    sys.exit(main())
