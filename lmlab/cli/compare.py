"""``lmlab compare``: several models on one test set, with the same token accounting.

Besides each model's own perplexity (per its tokens), every model's total log-probability of the
text is reported per word (whitespace words + one ``</s>`` per line) and in bits per character
(+ one newline per line), so word and character models are compared on one scale."""

from __future__ import annotations

import json
import math

from ..models.mixture import MixtureLM
from ..eval.perplexity import describe_mode, evaluate
from ..models.loading import load
from ._common import Formatter, applies_only, input_lines, nonnegative_float

EXAMPLES = """examples:
  lmlab compare ptb.o3.arpa ptb.o5.lmbin runs/ptb-lstm --data ptb
  lmlab compare ptb.o5.arpa runs/ptb-lstm --data ptb --mix          # + an EM-tuned mixture (valid split)
  lmlab compare a.arpa b.arpa --text test.txt --mix --weights 0.3 0.7
  lmlab compare a.arpa b.arpa --text test.txt --json
"""


def add_parser(sub):
    p = sub.add_parser("compare", help="perplexity of several models on the same text (and their mixture)",
                       description=__doc__, epilog=EXAMPLES, formatter_class=Formatter)
    p.add_argument("models", nargs="+", help="models to compare (ARPA, .lmbin, neural folders, mixture .json)")
    p.add_argument("--data", help="named dataset (see 'lmlab data list')")
    p.add_argument("--split", default="test", help="with --data: the split to score")
    p.add_argument("--text", help="test text file (instead of --data) (default: stdin)")
    p.add_argument("--mix", action="store_true", help="add a linear mixture of all models, weights tuned by EM")
    p.add_argument("--heldout", help="held-out text for --mix (default: the dataset's valid split)")
    p.add_argument("--weights", nargs="+", type=nonnegative_float, metavar="W",
                   help="with --mix: static mixture weights (one per model, summing to 1) instead of EM")
    p.add_argument("--json", action="store_true", help="print the table as JSON")
    applies_only(p, "split", lambda a: a.data is not None, "with --data")
    for dest in ("weights", "heldout"):
        applies_only(p, dest, lambda a: a.mix, "with --mix")
    applies_only(p, "heldout", lambda a: a.weights is None, "without --weights (it tunes the weights by EM)")
    return p


def run(args) -> int:
    lines = input_lines(args.text, args.data, args.split)
    models = [(m, load(m)) for m in args.models]
    rows = []
    for name, lm in models:
        rows.append((name, evaluate(lm, lines)))
    if args.mix:
        if args.weights is not None:
            mix = MixtureLM([lm for _, lm in models], args.weights)
        else:
            held = input_lines(args.heldout, None if args.heldout is not None else args.data, "valid")
            mix = MixtureLM.tuned([lm for _, lm in models], held)
        label = "mixture(" + ", ".join(f"{w:.3f}" for w in mix.weights) + ")"
        rows.append((label, evaluate(mix, lines)))
    # Word and character models on one scale: the same total log-probability of the text, per word
    # (whitespace words + one </s> per line) and per character (+ one newline per line).
    n_words = sum(len(x.split()) + 1 for x in lines)
    n_chars = sum(len(x) + 1 for x in lines)
    table = []
    for n, r in rows:
        d = dict(model=n, **r.to_dict())
        d["per_word_perplexity"] = math.exp(-r.logprob / n_words)
        d["bits_per_char"] = -r.logprob / n_chars / math.log(2)
        table.append(d)
    if args.json:
        print(json.dumps(table, indent=2))
        return 0
    width = max(len(d["model"]) for d in table)
    print(describe_mode("sentence"))  # every row: evaluate() scores each line from <s>
    print(f"{'model':{width}s}  {'tokens':>8s}  {'OOVs':>6s}  {'perplexity':>10s}  {'excl. OOVs':>10s}  "
          f"{'per word':>9s}  bits/char")
    for d in table:
        print(f"{d['model']:{width}s}  {d['tokens']:8d}  {d['oovs']:6d}  {d['perplexity']:10.2f}  "
              f"{d['perplexity_excluding_oovs']:10.2f}  {d['per_word_perplexity']:9.2f}  {d['bits_per_char']:.4f}")
    return 0
