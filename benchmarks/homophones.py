#!/usr/bin/env python3
"""Homophones on real data: which sentence does each PTB model prefer?

    .venv/bin/python benchmarks/homophones.py

The speech recogniser's classic use of an LM: "the apple and pear salad" and "the apple and pair
salad" sound the same, and only the language model can choose.  ``examples/homophones/nbest.txt``
holds 32 such pairs (correct sentence first, in PTB's tokenisation), written before any model
scored them.  The first is the motivating example; its "pear" and "salad" never occur in PTB's
training text, so every PTB model sees ``<unk>``.  The other 31 follow one rule: every word of
both sentences is in PTB's training vocabulary.

Each PTB model (KN 3- and 5-gram, the LSTM/GRU/tanh-RNN rows of ``neural_bench.py`` when they
have finished training, and the EM-tuned KN5 + LSTM mixture) re-ranks every pair, exactly as ``lmlab
rerank MODEL --nbest examples/homophones/nbest.txt`` does.  Writes
``benchmarks/results/homophones.json``, ``examples/homophones/RESULTS.md`` (every pair) and the
``homophones`` section of BENCHMARKS.md (the summary).
"""

from __future__ import annotations

import json
import math
import sys
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))
NBEST = REPO / "examples" / "homophones" / "nbest.txt"
ROWS = {"LSTM 2x200": "ptb-lstm-2x200", "GRU 2x200": "ptb-gru-2x200", "tanh RNN 2x200": "ptb-tanh-2x200"}


def main() -> int:
    from lmlab._io import read_lines, write_text_atomic
    from lmlab.data.readers import lm_lines
    from lmlab.eval.scoring import parse_nbest, rerank
    from lmlab.models.loading import load
    from lmlab.models.mixture import MixtureLM
    from lmlab.models.ngram.model import NgramLM

    groups = parse_nbest(read_lines(NBEST), str(NBEST))
    train, valid = lm_lines("ptb", "train"), lm_lines("ptb", "valid")
    models = {"KN 3-gram": NgramLM(3).fit(train), "KN 5-gram": NgramLM(5).fit(train)}
    done = json.loads((REPO / "benchmarks" / "results" / "neural.json").read_text())
    for label, row in ROWS.items():  # rows whose training has finished
        if row in done and (REPO / "runs" / "bench" / row / "model.safetensors").is_file():
            models[label] = load(REPO / "runs" / "bench" / row)
    if "LSTM 2x200" in models:
        mix = MixtureLM.tuned([models["KN 5-gram"], models["LSTM 2x200"]], valid)
        models[f"KN5 + LSTM mixture ({mix.weights[0]:.2f}/{mix.weights[1]:.2f})"] = mix
    vocab = models["KN 3-gram"].vocab
    pairs = [(g[0].text, g[1].text) for g in groups]
    oov = [sorted({w for w in (a + " " + b).split() if w not in vocab}) for a, b in pairs]
    results = {"pairs": [{"correct": a, "swapped": b, "oov": o} for (a, b), o in zip(pairs, oov, strict=True)],
               "models": {}}
    for name, lm in models.items():
        ranked = rerank(lm, [list(g) for g in groups])
        lp = [{h.text: h.lm_logprob for h in g} for g in ranked]
        # log10 P(correct) - log10 P(swapped)
        margins = [(d[a] - d[b]) / math.log(10) for d, (a, b) in zip(lp, pairs, strict=True)]
        results["models"][name] = margins
    results["date"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    from _sections import machine_line

    mach = machine_line()
    results["machine"] = mach
    write_text_atomic(REPO / "benchmarks" / "results" / "homophones.json", json.dumps(results, indent=2))

    names = list(results["models"])
    in_vocab = [i for i, o in enumerate(oov) if not o]
    summary = ["## Homophones: re-ranking sentence pairs with PTB models", "",
               f"`python benchmarks/homophones.py` ({results['date'][:10]}): {len(pairs)} pairs in "
               "`examples/homophones/nbest.txt`, written before any model scored them; every pair and "
               "score in `examples/homophones/RESULTS.md`.  \"Right\" counts the pairs where the model "
               "gives the correct sentence the higher probability.", "",
               f"| model | right, {len(in_vocab)} in-vocabulary pairs | median margin (log10) | "
               "\"apple and pear salad\" |", "|---|---:|---:|---|"]
    for name in names:
        m = results["models"][name]
        right = sum(m[i] > 0 for i in in_vocab)
        med = sorted(m[i] for i in in_vocab)[len(in_vocab) // 2]
        first = m[0]
        verdict = ("prefers pear (an `<unk>`)" if first > 0 else "prefers pair") + f" ({first:+.2f})"
        summary.append(f"| {name} | {right} / {len(in_vocab)} | {med:+.2f} | {verdict} |")
    summary += ["", "PTB's training text has no \"pear\" and no \"salad\": every PTB model scores "
                "\"the apple and <unk> <unk>\" against \"the apple and pair <unk>\", so its choice in the first "
                "pair says how likely *some rare word* is after \"and\", not anything about fruit."]
    from _sections import replace_section

    replace_section("homophones", summary)

    detail = ["# Homophone pairs scored by PTB models", "",
              "Generated by `python benchmarks/homophones.py`; the summary is in BENCHMARKS.md.  Each cell is "
              "log10 P(correct) - log10 P(swapped) under the model (positive: the model prefers the correct "
              "sentence).  Words outside PTB's training vocabulary are marked; the model scores them as `<unk>`.", "",
              "Reproduce one column with `lmlab rerank MODEL --nbest examples/homophones/nbest.txt`.", "",
              "| correct | swapped | " + " | ".join(names) + " |", "|---|---|" + "---:|" * len(names)]
    for i, ((a, b), o) in enumerate(zip(pairs, oov, strict=True)):
        mark = f" (OOV: {', '.join(o)})" if o else ""
        detail.append(f"| {a}{mark} | {b} | " + " | ".join(f"{results['models'][n][i]:+.2f}" for n in names) + " |")
    write_text_atomic(REPO / "examples" / "homophones" / "RESULTS.md", "\n".join(detail) + "\n")
    print("\n".join(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
