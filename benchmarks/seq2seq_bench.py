#!/usr/bin/env python3
"""Encoder-decoders (``lmlab train --kind seq2seq``) on Multi30k, resumable.

    .venv/bin/python benchmarks/seq2seq_bench.py --list
    .venv/bin/python benchmarks/seq2seq_bench.py --all --budget 45     # runs (or resumes) cells for 45 min
    .venv/bin/python benchmarks/seq2seq_bench.py --cell de-en-bahdanau
    .venv/bin/python benchmarks/seq2seq_bench.py --report              # regenerate BENCHMARKS.md's section

The rows (issue 9), every setting fixed here and none tuned on test: a BiGRU encoder (256-d
embeddings, 256 units each way) and a GRU decoder (512 units), dropout 0.5, Adam 0.001, batch
128 (length-bucketed), clip 1, 5 epochs (the anchor below trains 10; an epoch here takes 10-30 min on
one CPU thread, and an earlier run of de-en-bahdanau gave greedy dev BLEU 13.6, 24.4, 26.8, 29.9,
29.6 over its first five), the best epoch by greedy dev BLEU:

- ``de-en-bahdanau``: German to English with Bahdanau (additive) attention -- the anchor is
  bentrevett/pytorch-seq2seq's tutorial 3 (BiGRU + Bahdanau, greedy, 10 epochs) at 28.3 BLEU on
  spaCy-tokenised, lowercased text, which cannot be reproduced exactly (spaCy's models are not on
  the package registry): our ``-tok none`` figure on the ``lc.norm.tok`` files is the closest;
- ``en-de-bahdanau``: English to German, the same model (no published anchor on these files);
- ``de-en-none``: German to English without attention (the encoder's final state only).

Each is scored on test_2016_flickr by ``lmlab evaluate --json``: greedy and beam 5 (GNMT
alpha 0.6), each BLEU two ways with sacrebleu's signature (``-tok none`` on the tokenised output
against the ``lc.norm.tok`` references; ``-lc`` on detokenised output against the raw
references).  Decoding speed (sentences/s, greedy at batch 1 and batched, beam 5) is measured on
the first 200 test sentences.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _cells import REPO, Cell, _lmlab, header, pending, main, real_rows  # noqa: E402

RESULTS = REPO / "benchmarks" / "results" / "seq2seq.json"
RUNS = REPO / "runs" / "bench" / "seq2seq"

COMMON = ["--kind", "seq2seq", "--data", "multi30k", "--model", "gru", "--emsize", "256", "--nhid", "256",
          "--decoder_hidden", "512", "--nlayers", "1", "--dropout", "0.5", "--optimizer", "adam", "--lr", "0.001",
          "--batch_size", "128", "--clip", "1", "--epochs", "5", "--dev_metric", "bleu", "--seed", "1"]
TEST = ["--data", "multi30k", "--split", "test"]
BEAM, ALPHA, SPEED_SENTENCES = 5, 0.6, 200


def _cell(src: str, tgt: str, attention: str) -> Cell:
    return Cell([*COMMON, "--source", src, "--target", tgt, "--attention", attention], TEST,
                {"direction": f"{src}-{tgt}", "attention": attention})


CELLS = {"de-en-bahdanau": _cell("de", "en", "bahdanau"), "en-de-bahdanau": _cell("en", "de", "bahdanau"),
         "de-en-none": _cell("de", "en", "none")}
ANCHOR = ("bentrevett/pytorch-seq2seq tutorial 3 (BiGRU + Bahdanau, greedy, 10 epochs, spaCy tokens, lowercased): "
          "de-en 28.3 BLEU")


def beam_and_speed(save: Path, row: dict) -> dict:
    """The beam-5 report, and decoding sentences/s (greedy at batch 1, greedy batched, beam 5)."""
    import json

    from lmlab.data.parallel import multi30k
    from lmlab.generate.translate import translate_lines
    from lmlab.models.neural.checkpoint import load_checkpoint

    beam = json.loads(_lmlab(["evaluate", str(save), *TEST, "--beam", str(BEAM), "--alpha", str(ALPHA), "--json"]))
    model, _, _ = load_checkpoint(save)
    src, tgt = row["direction"].split("-")
    sources = [s for s, _ in multi30k("test", src, tgt)[:SPEED_SENTENCES]]
    speed = {}
    for name, kw in (("greedy_batch1", {"beam": 1, "batch_size": 1}), ("greedy_batched", {"beam": 1, "batch_size": 64}),
                     ("beam5_batch1", {"beam": BEAM, "batch_size": 1, "alpha": ALPHA})):
        t0 = time.perf_counter()
        translate_lines(model, sources, **kw)
        speed[name] = len(sources) / (time.perf_counter() - t0)
    return {"beam_report": beam, "decode_sentences_per_s": speed}


def _bleu(rep: dict, way: str) -> str:
    b = rep.get(way)
    return "" if b is None else f"{b['score']:.1f}"


def report_lines(results: Path) -> list[str]:
    done = real_rows(results)
    lines = ["## Encoder-decoders on Multi30k", "",
             "Cells from `python benchmarks/seq2seq_bench.py --all` (resumable; settings fixed in the script, none "
             "tuned on test; the best epoch by greedy dev BLEU).  test_2016_flickr BLEU from `lmlab evaluate --json`: "
             "`tok` is `-tok none` on the tokenised output against the `lc.norm.tok` references, `lc` is `-lc` on "
             "detokenised output against the raw references; beam 5 with GNMT alpha 0.6.", ""]
    if not done:
        return lines + ["No cell has been run yet."]
    lines += [*header(done),
              "| direction | attention | greedy tok | greedy lc | beam 5 tok | beam 5 lc | epochs | train min | "
              "sent/s greedy b1 | sent/s greedy batched | sent/s beam 5 |",
              "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name in CELLS:
        r = done.get(name)
        if r is None:
            continue
        s = r["decode_sentences_per_s"]
        lines.append(f"| {r['direction']} | {r['attention']} | {_bleu(r['report'], 'tokenized')} | {_bleu(r['report'], 'detokenized')} | "
                     f"{_bleu(r['beam_report'], 'tokenized')} | {_bleu(r['beam_report'], 'detokenized')} | {r['epochs']} | "
                     f"{r['train_seconds'] / 60:.1f} | {s['greedy_batch1']:.1f} | {s['greedy_batched']:.1f} | "
                     f"{s['beam5_batch1']:.1f} |")
    sigs = {way: r["report"][way]["signature"] for r in done.values() for way in ("tokenized", "detokenized")
            if way in r["report"]}
    lines += ["", "Signatures: " + "; ".join(f"{w}: `{s}`" for w, s in sigs.items() if s), "",
              f"Published: {ANCHOR}.", "", "Commands:", ""] + [f"- `{r['command']}`" for r in done.values()]
    lines += pending(done, CELLS)
    return lines


if __name__ == "__main__":
    sys.exit(main(__doc__, CELLS, section="seq2seq", results=RESULTS, runs=RUNS, report_lines=report_lines,
                  extra=beam_and_speed))
