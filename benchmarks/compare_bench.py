#!/usr/bin/env python3
"""Word and character models on one scale: PTB test scored by each, per word and per character.

    .venv/bin/python benchmarks/compare_bench.py

Runs ``lmlab compare`` on PTB test with the KN 5-gram, the word LSTM (``ptb-lstm-2x200`` row) and
the character LSTM (``ptb-char-lstm`` row) of ``neural_bench.py``.  Every model's total
log-probability of the same text is reported per word (whitespace words + one ``</s>`` per line)
and in bits per character (+ one newline per line); a word model's own perplexity counts its own
tokens.  Every line is scored from its start (sentence-independent).  Writes the ``compare``
section of BENCHMARKS.md and ``benchmarks/results/compare.json``.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))


def main() -> int:
    from lmlab._io import write_text_atomic
    from lmlab.cli.main import main as lmlab
    from lmlab.data.readers import lm_lines
    from lmlab.models.ngram.model import NgramLM

    bench = REPO / "runs" / "bench"
    lmbin = bench / "ptb.o5.lmbin"
    if not lmbin.is_file():
        NgramLM(5).fit(lm_lines("ptb", "train")).to_binary(lmbin)
    models = [str(lmbin)] + [str(bench / r) for r in ("ptb-lstm-2x200", "ptb-char-lstm")
                             if (bench / r / "model.safetensors").is_file()]
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = lmlab(["compare", *models, "--data", "ptb", "--json"])
    if code:
        return code
    table = json.loads(buf.getvalue())
    names = {str(lmbin): "KN 5-gram (words)", str(bench / "ptb-lstm-2x200"): "LSTM 2x200 (words)",
             str(bench / "ptb-char-lstm"): "LSTM 2x256 (characters)"}
    date = datetime.now(timezone.utc).isoformat(timespec="seconds")
    from _sections import machine_line

    mach = machine_line()
    write_text_atomic(REPO / "benchmarks" / "results" / "compare.json",
                      json.dumps({"date": date, "machine": mach, "rows": table}, indent=2))
    lines = ["## Word and character models on one scale (PTB test)", "",
             f"`python benchmarks/compare_bench.py` ({date[:10]}), i.e. `lmlab compare ptb.o5.lmbin "
             "runs/bench/ptb-lstm-2x200 runs/bench/ptb-char-lstm --data ptb`: each line scored from its start.  "
             "\"Own perplexity\" is per the model's own tokens (words + `</s>`, or characters + `</s>`); "
             "\"per word\" and \"bits/char\" divide the same total log-probability by the text's words "
             "(+ one `</s>` per line) and characters (+ one newline per line).  PTB's literal `<unk>` is a "
             "word to the word models and five characters to the character model.", "",
             "| model | own tokens | own perplexity | per-word perplexity | bits/char |", "|---|---:|---:|---:|---:|"]
    for d in table:
        lines.append(f"| {names.get(d['model'], d['model'])} | {d['tokens']} | {d['perplexity']:.2f} | "
                     f"{d['per_word_perplexity']:.2f} | {d['bits_per_char']:.4f} |")
    from _sections import replace_section

    replace_section("compare", lines)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
