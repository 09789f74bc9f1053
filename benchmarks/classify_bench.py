#!/usr/bin/env python3
"""Classification by per-class n-gram LMs on the shared corpora: every configuration of a fixed grid.

    .venv/bin/python benchmarks/classify_bench.py

Tasks (``lmlab/data/tasks.py``): ``sst2`` (sentiment, its own train/test split) and
``shakespeare-speakers`` (authorship: which of Tiny Shakespeare's ten most frequent speakers says
a speech; every fifth speech of each is test).  The grid is fixed here and every row is reported,
not only the best: word n-grams of order 1 (add-1: multinomial naive Bayes), 2 and 3 and character
n-grams of order 3, 5 and 7, each Witten-Bell and Kneser-Ney (add-1 for order 1), class priors
from the training labels.  Same as ``lmlab classify --task T --order N --smoothing S [--char]``.
Writes ``benchmarks/results/classify.json`` and the ``classify`` section of BENCHMARKS.md.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

GRID = [(False, 1, "additive"), (False, 2, "witten_bell"), (False, 2, "kneser_ney"), (False, 3, "witten_bell"),
        (False, 3, "kneser_ney"), (True, 3, "witten_bell"), (True, 3, "kneser_ney"), (True, 5, "witten_bell"),
        (True, 5, "kneser_ney"), (True, 7, "witten_bell"), (True, 7, "kneser_ney")]


def main() -> int:
    from lmlab._io import write_text_atomic
    from lmlab.data.tasks import classification_task
    from lmlab.eval.applications import classification_report, train_class_lms

    rows = []
    for task in ("sst2", "shakespeare-speakers"):
        train, test = classification_task(task, "train"), classification_task(task, "test")
        for char, order, smoothing in GRID:
            t0 = time.perf_counter()
            clf = train_class_lms(train, order=order, smoothing=smoothing, char=char)
            rep = classification_report(clf.predict([t for _, t in test]), [y for y, _ in test])
            rows.append({"task": task, "unit": "char" if char else "word", "order": order, "smoothing": smoothing,
                         "classes": len(clf.models), "train": len(train), "test": len(test),
                         "accuracy": rep["accuracy"], "macro_f1": rep["macro_f1"],
                         "majority_baseline": rep["majority_baseline"], "seconds": time.perf_counter() - t0})
            print(json.dumps(rows[-1]), flush=True)
    from _sections import machine_line

    mach = machine_line()
    date = datetime.now(timezone.utc).isoformat(timespec="seconds")
    write_text_atomic(REPO / "benchmarks" / "results" / "classify.json",
                      json.dumps({"date": date, "machine": mach, "rows": rows}, indent=2))
    lines = ["## Classification by per-class language models", "",
             f"`python benchmarks/classify_bench.py` on {mach}, {date[:10]}: every "
             "configuration of a grid fixed in the script (none tuned on the test sets).  sst2: "
             f"{rows[0]['train']} train / {rows[0]['test']} test sentences, 2 classes; shakespeare-speakers: "
             f"{rows[-1]['train']} / {rows[-1]['test']} speeches, {rows[-1]['classes']} speakers "
             "(authorship; every fifth speech of each speaker is test).  Time: train all class models + "
             "classify the test set.", "",
             "| task | unit | order | smoothing | accuracy | macro F1 | majority class | seconds |",
             "|---|---|---:|---|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['task']} | {r['unit']} | {r['order']} | {r['smoothing']} | {r['accuracy']:.3f} | "
                     f"{r['macro_f1']:.3f} | {r['majority_baseline']:.3f} | {r['seconds']:.1f} |")
    from _sections import replace_section

    replace_section("classify", lines)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
