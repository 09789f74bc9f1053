"""``lmlab demo``: the default job.  Trains a modified-Kneser-Ney 5-gram on PTB and uses it."""

from __future__ import annotations

import math
import time

from ..data.readers import lm_lines
from ..eval.perplexity import evaluate
from ..generate.complete import complete
from ..models.ngram.model import NgramLM
from ._common import Formatter, positive_int

PAIRS = [
    ("the apple and pear salad", "the apple and pair salad"),
    ("the stock market fell sharply", "the stock market fell sharp"),
    ("he said that the company would", "he said that the company wood"),
]
PREFIXES = ["the stock", "new york stock", "in the first"]


def add_parser(sub):
    p = sub.add_parser("demo", help="train a KN 5-gram on PTB, report perplexity, score, complete",
                       description=__doc__, formatter_class=Formatter)
    p.add_argument("--order", type=positive_int, default=5, help="n-gram order")
    p.add_argument("--data", default="ptb", choices=("ptb", "wikitext-2"), help="named dataset to train and test on")
    return p


def run(args) -> int:
    t0 = time.perf_counter()
    train = lm_lines(args.data, "train")
    lm = NgramLM(order=args.order, smoothing="modified_kneser_ney").fit(train)
    t1 = time.perf_counter()
    print(f"trained interpolated modified Kneser-Ney {args.order}-gram on {args.data} train "
          f"({len(train)} lines) in {t1 - t0:.1f}s; n-grams per order: {lm.tables.sizes()}")
    rep = evaluate(lm, lm_lines(args.data, "test"))
    print(f"{args.data} test: perplexity {rep.perplexity:.2f} over {rep.tokens} tokens "
          f"({rep.oovs} map to <unk>; excluding them: {rep.perplexity_excluding_oovs:.2f})")
    print("\nsentence scores (natural log; higher is more likely):")
    for a, b in PAIRS:
        la, lb = lm.sentence_logprob(a), lm.sentence_logprob(b)
        oov = [w for w in (a + " " + b).split() if w not in lm.vocab]
        note = f"   (not in the vocabulary, scored as <unk>: {', '.join(sorted(set(oov)))})" if oov else ""
        print(f"  {la:8.2f}  {a}\n  {lb:8.2f}  {b}\n  -> prefers: {a if la > lb else b}{note}")
    print("\nnext-word completions:")
    for prefix in PREFIXES:
        words = ", ".join(f"{w} ({math.exp(lp):.3f})" for w, lp in complete(lm, prefix, 5))
        print(f"  {prefix} ... {words}")
    return 0
