#!/usr/bin/env python3
"""The classic result: a KN 5-gram and an LSTM mixed linearly beat both on PTB.

    .venv/bin/python benchmarks/mixture_bench.py [--lstm runs/bench/ptb-lstm-2x200]

The LSTM is the ``ptb-lstm-2x200`` row of ``neural_bench.py`` (same vocabulary as the n-gram
model: both built from PTB train).  Weights are tuned by EM on PTB valid; every model is scored
sentence by sentence (each line from ``<s>``), words + one ``</s>`` per line.  Writes the
``mixture`` section of BENCHMARKS.md and ``benchmarks/results/mixture.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lstm", default=str(REPO / "runs" / "bench" / "ptb-lstm-2x200"))
    args = ap.parse_args()
    from lmlab.data.readers import lm_lines
    from lmlab.models.mixture import MixtureLM
    from lmlab.eval.perplexity import evaluate
    from lmlab.models.loading import load
    from lmlab.models.ngram.model import NgramLM

    train, valid, test = lm_lines("ptb", "train"), lm_lines("ptb", "valid"), lm_lines("ptb", "test")
    kn = NgramLM(5).fit(train)
    lstm = load(args.lstm)
    mix = MixtureLM.tuned([kn, lstm], valid)
    rows = {"KN5 (modified Kneser-Ney 5-gram)": evaluate(kn, test), "LSTM 2x200 (ptb-lstm-2x200 row)": evaluate(lstm, test),
            f"mixture, EM weights {mix.weights[0]:.3f} / {mix.weights[1]:.3f}": evaluate(mix, test)}
    res = {k: v.to_dict() for k, v in rows.items()}
    res["date"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    (REPO / "benchmarks" / "results" / "mixture.json").write_text(json.dumps(res, indent=2))
    from _sections import replace_section

    from _sections import machine_line

    mach = machine_line()
    lines = ["## Interpolating an n-gram model and an LSTM (PTB test)", "",
             f"`python benchmarks/mixture_bench.py` on {mach}, {res['date'][:10]}; every line "
             "scored from `<s>` (sentence-independent), EM weights tuned on PTB valid.", "",
             "| model | tokens | perplexity |", "|---|---:|---:|"]
    lines += [f"| {k} | {v.tokens} | {v.perplexity:.2f} |" for k, v in rows.items()]
    replace_section("mixture", lines)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
