#!/usr/bin/env python3
"""Predictive typing: latency per keystroke and keystrokes saved, for n-gram and neural models.

    .venv/bin/python benchmarks/completion_latency.py [--lines 40] [--threads 1]

Types the first ``--lines`` lines of a test set character by character.  After every keystroke
it asks the model for 5 completions of the text so far, exactly as ``lmlab complete MODEL TEXT
--partial`` and the server's ``/complete`` do (``complete_text``: word models complete the word
being typed from the vocabulary, character models spell words out by beam search), and times the
call: the whole prefix is re-read each time, as a stateless server does; numpy's BLAS on one
thread, as the CLI and the server run it.  Keystroke savings: a
word typed up to the point where it first appears among the 5 suggestions, then picked with one
key (which also types the space), against typing it and the space in full.

Models: the PTB KN 5-gram (``.lmbin``) and LSTM 2x200 row on PTB test; the tiny-shakespeare
character LSTM row and a character KN 7-gram on the shakespeare validation text.  Neural rows
come from ``neural_bench.py`` (skipped when not trained).  Writes
``benchmarks/results/completion.json`` and the ``completion`` section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))
K = 5


def type_lines(lm, lines: list[str]) -> dict:
    from lmlab.generate.complete import complete_text

    times, typed, full = [], 0, 0
    for line in lines:
        words = line.split()
        done = ""
        for w in words:
            cost = len(w) + 1
            for j in range(len(w) + 1):
                text = done + w[:j]
                t0 = time.perf_counter()
                out, _ = complete_text(lm, text, K, partial=True)
                times.append(time.perf_counter() - t0)
                if w in {x for x, _ in out}:
                    cost = j + 1
                    break
            typed += cost
            full += len(w) + 1
            done += w + " "
    times.sort()
    q = lambda f: times[min(len(times) - 1, int(f * len(times)))] * 1000  # noqa: E731
    return {"calls": len(times), "p50_ms": q(0.50), "p95_ms": q(0.95), "p99_ms": q(0.99), "max_ms": times[-1] * 1000,
            "keystrokes": typed, "keystrokes_without": full, "keystroke_savings": 1 - typed / full}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lines", type=int, default=40)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    from lmlab._threads import limit_numpy_blas_threads

    limit_numpy_blas_threads(1)  # as `lmlab complete` and `lmlab serve` do
    from lmlab._io import write_text_atomic
    from lmlab.data.readers import lm_lines
    from lmlab.models.loading import load
    from lmlab.models.ngram.model import NgramLM
    from lmlab.text.tokenize import Tokenizer

    bench = REPO / "runs" / "bench"
    ptb_test = [x for x in lm_lines("ptb", "test") if x.strip()][: args.lines]
    shk_valid = [x for x in lm_lines("tinyshakespeare", "valid") if x.strip()][: args.lines]
    lmbin = bench / "ptb.o5.lmbin"
    if not lmbin.is_file():
        NgramLM(5).fit(lm_lines("ptb", "train")).to_binary(lmbin)
    models = [("PTB KN 5-gram (.lmbin)", load(lmbin), ptb_test)]
    if (bench / "ptb-lstm-2x200" / "model.safetensors").is_file():
        models.append(("PTB LSTM 2x200", load(bench / "ptb-lstm-2x200"), ptb_test))
    char_kn = NgramLM(7, "kneser_ney", tokenizer=Tokenizer(kind="character")).fit(lm_lines("tinyshakespeare", "train"))
    models.append(("shakespeare char KN 7-gram", char_kn, shk_valid))
    if (bench / "shakespeare-char-lstm" / "model.safetensors").is_file():
        models.append(("shakespeare char LSTM 2x256", load(bench / "shakespeare-char-lstm"), shk_valid))
    rows = {}
    for name, lm, lines in models:
        type_lines(lm, lines[:2])  # warm up (compiled kernels, caches)
        rows[name] = type_lines(lm, lines)
        print(name, json.dumps(rows[name]), flush=True)
    from _sections import machine_line

    mach = machine_line()
    date = datetime.now(timezone.utc).isoformat(timespec="seconds")
    write_text_atomic(REPO / "benchmarks" / "results" / "completion.json",
                      json.dumps({"date": date, "machine": mach, "threads": args.threads,
                                  "lines": args.lines, "k": K, "rows": rows}, indent=2))
    lines = ["## Predictive typing: completion latency and keystrokes saved", "",
             f"`python benchmarks/completion_latency.py --lines {args.lines} --threads {args.threads}` on {mach}, "
             f"{date[:10]}: the first {args.lines} non-empty lines of PTB test (word models) "
             "or tiny-shakespeare validation (character models) typed key by key, "
             f"{K} completions after every key, the whole prefix re-read each time (a stateless server).  "
             "Absolute times on this machine.", "",
             "| model | calls | p50 ms | p95 ms | p99 ms | max ms | keystrokes saved |", "|---|---:|---:|---:|---:|---:|---:|"]
    for name, r in rows.items():
        lines.append(f"| {name} | {r['calls']} | {r['p50_ms']:.2f} | {r['p95_ms']:.2f} | {r['p99_ms']:.2f} | "
                     f"{r['max_ms']:.2f} | {r['keystroke_savings']:.1%} |")
    from _sections import replace_section

    replace_section("completion", lines)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
