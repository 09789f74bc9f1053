#!/usr/bin/env python3
"""Taggers (``lmlab train --kind tag``): UD English-EWT UPOS and CoNLL-2000 chunking, resumable.

    .venv/bin/python benchmarks/tagger_bench.py --list
    .venv/bin/python benchmarks/tagger_bench.py --all --budget 45     # runs (or resumes) cells for 45 min
    .venv/bin/python benchmarks/tagger_bench.py --cell ud-upos-bilstm-char
    .venv/bin/python benchmarks/tagger_bench.py --report              # regenerate BENCHMARKS.md's section

The rows (issue 9), every setting fixed here and none tuned on test:

- ``ud-upos-bilstm-char``: 2x200 BiLSTM over 100-d word embeddings concatenated with a 50-d
  character BiLSTM of each word (50 units each way), word dropout 0.05, no pretrained vectors;
  test token accuracy (Plank et al. 2016: 94.6-95.2 on UD v1.2 English; Stanza about 95.4 from
  raw text with pretrained vectors).
- ``ud-upos-bilstm-char-w2v``: the same network, its word embeddings started from word2vec vectors
  (``benchmarks/word_vectors.py wiki-wsj``: WikiText-2 and PTB train, lower-cased, no UD text; a cased
  word takes its lower-cased form's vector), as Plank et al. start from Polyglot's.
- ``ud-upos-window``: Collobert's window MLP (2 words each side) on the same data, the baseline.
- ``conll2000-bilstm-crf`` / ``conll2000-bilstm``: the same BiLSTM with and without a CRF output
  layer on CoNLL-2000 chunks (words and characters only, the gold POS column unused); test span
  F1 by conlleval's definition (Huang et al. 2015: BiLSTM-CRF 94.46 with Senna embeddings and
  hand-made features).
- ``conll2000-window``: the window MLP on the chunks.

Each cell trains with early stopping on its dev metric (UD's dev accuracy; span F1 on the last
1000 CoNLL-2000 training sentences, held out) and is scored by ``lmlab evaluate --json`` on test.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import word_vectors  # noqa: E402
from _cells import REPO, Cell, header, pending, main, real_rows  # noqa: E402

RESULTS = REPO / "benchmarks" / "results" / "tagger.json"
RUNS = REPO / "runs" / "bench" / "tagger"

COMMON = ["--kind", "tag", "--optimizer", "adam", "--lr", "0.001", "--batch_size", "32", "--clip", "5",
          "--epochs", "30", "--patience", "4", "--seed", "1"]
BILSTM = ["--model", "lstm", "--nlayers", "2", "--nhid", "200", "--emsize", "100", "--char_emsize", "50",
          "--char_hidden", "50", "--dropout", "0.33", "--word_dropout", "0.05"]
WIDE = ["--model", "lstm", "--nlayers", "2", "--nhid", "400", "--emsize", "200", "--char_emsize", "50",
        "--char_hidden", "100", "--dropout", "0.5", "--word_dropout", "0.1"]
WINDOW = ["--model", "window", "--context", "2", "--emsize", "100", "--nhid", "300", "--dropout", "0.33",
          "--word_dropout", "0.05"]
UD = ["--data", "ud-english-ewt", "--labels", "upos"]
CONLL = ["--data", "conll2000"]

CELLS = {
    "ud-upos-bilstm-char": Cell([*COMMON, *UD, *BILSTM], UD, {"data": "ud-english-ewt upos", "model": "BiLSTM + chars"}),
    "ud-upos-window": Cell([*COMMON, *UD, *WINDOW], UD, {"data": "ud-english-ewt upos", "model": "window MLP"}),
    "conll2000-bilstm-crf": Cell([*COMMON, *CONLL, *BILSTM, "--crf"], CONLL,
                                 {"data": "conll2000 chunks", "model": "BiLSTM + chars + CRF"}),
    "conll2000-bilstm": Cell([*COMMON, *CONLL, *BILSTM], CONLL, {"data": "conll2000 chunks", "model": "BiLSTM + chars"}),
    "conll2000-window": Cell([*COMMON, *CONLL, *WINDOW], CONLL, {"data": "conll2000 chunks", "model": "window MLP"}),
    # the 2x200 row ended at 94.95 (dev 95.09, early-stopped at 27 of 30 epochs): a wider network beside it
    "ud-upos-bilstm-char-wide": Cell([*COMMON, *UD, *WIDE], UD, {"data": "ud-english-ewt upos",
                                                                  "model": "BiLSTM 2x400 + chars 100"}),
    # the 2x200 row with word2vec vectors (WikiText-2 + PTB train, no UD text; lower-cased, so a cased
    # word takes its lower-cased form's vector)
    "ud-upos-bilstm-char-w2v": Cell([*COMMON, *UD, *BILSTM, "--pretrained", str(word_vectors.path("wiki-wsj"))], UD,
                                    {"data": "ud-english-ewt upos", "model": "BiLSTM + chars + word2vec"}),
}
PUBLISHED = {
    "ud-english-ewt upos": "Plank et al. 2016 (UD v1.2 English, BiLSTM + chars): 94.6-95.2; Stanza (raw text, "
                           "pretrained vectors): about 95.4",
    "conll2000 chunks": "Huang et al. 2015 BiLSTM-CRF (Senna embeddings + hand-made features): 94.46",
}


def report_lines(results: Path) -> list[str]:
    done = real_rows(results)
    lines = ["## Neural taggers", "",
             "Cells from `python benchmarks/tagger_bench.py --all` (resumable; settings fixed in the script, "
             "none tuned on test; early stopping on the dev metric).  Test token accuracy (%) and, for chunks, "
             "conlleval span F1 (%), from `lmlab evaluate --json`.", ""]
    if not done:
        return lines + ["No cell has been run yet."]
    lines += [*header(done),
              "| data | model | test accuracy | test span F1 | best dev | epochs | train min | tokens/s | threads |",
              "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name in CELLS:
        r = done.get(name)
        if r is None:
            continue
        rep = r["report"]
        f1 = f"{rep['span_f1']:.2f}" if "span_f1" in rep else ""
        dev = f"{r['best_dev']:.2f}" if "span_f1" in rep else f"{100 * r['best_dev']:.2f}"
        lines.append(f"| {r['data']} | {r['model']} | {100 * rep['accuracy']:.2f} | {f1} | {dev} | {r['epochs']} | "
                     f"{r['train_seconds'] / 60:.1f} | {r['items_per_s']:.0f} | {r['threads']} |")
    lines += [""] + [f"Published, {d}: {p}." for d, p in PUBLISHED.items()]
    lines += ["", "Commands:", ""] + [f"- `{r['command']}`" for r in done.values()]
    lines += pending(done, CELLS)
    return lines


if __name__ == "__main__":
    sys.exit(main(__doc__, CELLS, section="tagger", results=RESULTS, runs=RUNS, report_lines=report_lines,
                  prepare=lambda todo, args: word_vectors.prepare(CELLS, todo, args)))
