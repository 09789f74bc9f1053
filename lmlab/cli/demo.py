"""``lmlab demo``: the default job.  Trains a modified-Kneser-Ney 5-gram on PTB and uses it.

Prints where the data came from, the model's test perplexity (including and excluding the <unk>
tokens, and why the second is higher), a few sentence pairs scored (with what the model actually
compares when a word is not in its vocabulary), next-word completions, and what to run next."""

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
    from ..data.registry import get_dataset, get_file, resolve

    ds = get_dataset(args.data)
    t0 = time.perf_counter()
    train = lm_lines(args.data, "train")
    lm = NgramLM(order=args.order, smoothing="modified_kneser_ney").fit(train)
    t1 = time.perf_counter()
    print(f"data: {args.data}, {ds.description} ({ds.license}),\n"
          f"  read from {resolve(args.data, 'train').parent}; the files come from "
          f"{get_file(args.data, 'train').url.rsplit('/', 1)[0]}/\n"
          f"  and are checked by sha256 ('lmlab data list' and 'lmlab data verify' show them).")
    print(f"\ntrained an interpolated modified Kneser-Ney {args.order}-gram (KenLM's lmplz estimate) on {args.data} "
          f"train ({len(train)} lines) in {t1 - t0:.1f}s; n-grams per order: {lm.tables.sizes()}")
    rep = evaluate(lm, lm_lines(args.data, "test"))
    n_unk = rep.oovs
    unk_ppl = math.exp(-rep.oov_logprob / n_unk) if n_unk else float("nan")
    print(f"\n{args.data} test: perplexity {rep.perplexity:.2f} over {rep.tokens} tokens (the words of every line "
          f"and one </s> per line)")
    print(f"  {n_unk} of them are <unk> (outside the vocabulary: {args.data} writes its rare words as <unk>).\n"
          f"  Excluding them (KenLM's second figure) the perplexity is {rep.perplexity_excluding_oovs:.2f}: higher, "
          f"because <unk> stands\n  for every rare word at once, so it is an easy token to predict (those "
          f"{n_unk} tokens alone: perplexity {unk_ppl:.2f});\n  leaving the easy tokens out raises the average.")
    print("\nsentence scores (natural log of the probability; higher is more likely):")
    for a, b in PAIRS:
        la, lb = lm.sentence_logprob(a), lm.sentence_logprob(b)
        print(f"  {la:8.2f}  {a}\n  {lb:8.2f}  {b}\n  -> prefers: {a if la > lb else b}")
        oov = sorted({w for w in (a + " " + b).split() if w not in lm.vocab})
        if oov:
            sa, sb = ([w if w in lm.vocab else "<unk>" for w in x.split()] for x in (a, b))
            diff = next(i for i, (x, y) in enumerate(zip(sa, sb)) if x != y)
            win, lose = (sa[diff], sb[diff]) if la > lb else (sb[diff], sa[diff])
            why_unk = ",\n     and <unk>, which stands for every rare word together, is the likelier" \
                if win == "<unk>" else f": {win} is the likelier"
            print(f"     why: {', '.join(repr(w) for w in oov)} {'is' if len(oov) == 1 else 'are'} not in "
                  f"{args.data}'s vocabulary, so the model sees '{' '.join(sa)}'\n"
                  f"     against '{' '.join(sb)}': after '{' '.join(sa[:diff])}' it weighs {win} against "
                  f"{lose}{why_unk}.\n     It does not judge the unknown words themselves (train on text that "
                  f"has them to do that).")
    print("\nnext-word completions (probability of each next word):")
    for prefix in PREFIXES:
        words = ", ".join(f"{w} ({math.exp(lp):.3f})" for w, lp in complete(lm, prefix, 5))
        print(f"  {prefix} ... {words}")
    if "N" in lm.vocab:
        print(f"  (N is a word of {args.data}: it writes every number as N, as in 'in the first N months'.)")
    print(f"""
next:
  lmlab ngram -o {args.order} --data {args.data} --arpa {args.data}.o{args.order}.arpa     # the same model as an ARPA file (KenLM reads it)
  lmlab convert {args.data}.o{args.order}.arpa {args.data}.o{args.order}.lmbin            # binary: loads faster
  echo "the stock market fell" | lmlab query {args.data}.o{args.order}.lmbin     # per-word scores, KenLM's format
  lmlab complete {args.data}.o{args.order}.lmbin "the stock" -k 5
  lmlab serve {args.data}.o{args.order}.lmbin                        # a web page: predictive typing, scoring
  lmlab train --data {args.data} --model lstm --epochs 6 --save runs/{args.data}-lstm   # a neural LM to compare
  lmlab --help""")
    return 0
