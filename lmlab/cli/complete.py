"""``lmlab complete``: the most likely next words after a prefix (predictive typing)."""

from __future__ import annotations

import math

from ..generate.complete import complete
from ..models.loading import load
from ._common import Formatter

EXAMPLES = """examples:
  lmlab complete lm.arpa "the stock market" -k 5
  lmlab complete lm.arpa "the stock mar" --partial
"""


def add_parser(sub):
    p = sub.add_parser("complete", help="next-word completion", description=__doc__,
                       epilog=EXAMPLES, formatter_class=Formatter)
    p.add_argument("model")
    p.add_argument("prefix", help="text typed so far")
    p.add_argument("-k", type=int, default=5)
    p.add_argument("--partial", action="store_true",
                   help="the last word is being typed: complete it instead of proposing the next word")
    return p


def run(args) -> int:
    lm = load(args.model)
    tokens = lm.vocab.tokenize(args.prefix)
    partial = ""
    if args.partial and tokens:
        partial = tokens.pop()
    for word, lp in complete(lm, tokens, args.k, partial=partial):
        print(f"{word}\t{math.exp(lp):.6f}")
    return 0
