"""``lmlab complete``: the most likely next words after a prefix (predictive typing).

Word models propose vocabulary words (``--partial``: complete the last word instead); character
models always spell out whole words: the rest of the word being typed, or the next word after a
space, each with the probability of its characters and a word end."""

from __future__ import annotations

import math

from ..generate.complete import complete_text
from ..models.loading import load
from ._common import MODEL_HELP, Formatter, positive_int

EXAMPLES = """examples:
  lmlab complete lm.arpa "the stock market" -k 5
  lmlab complete lm.arpa "the stock mar" --partial
  lmlab complete runs/shakespeare-char "To be or not to b"     # a character model spells out words
"""


def add_parser(sub):
    p = sub.add_parser("complete", help="next-word completion", description=__doc__,
                       epilog=EXAMPLES, formatter_class=Formatter)
    p.add_argument("model", help=MODEL_HELP)
    p.add_argument("prefix", help="text typed so far")
    p.add_argument("-k", type=positive_int, default=5, help="how many completions to print")
    p.add_argument("--partial", action="store_true",
                   help="the last word is being typed: complete it instead of proposing the next word")
    return p


def run(args) -> int:
    lm = load(args.model)
    out, _ = complete_text(lm, args.prefix, args.k, partial=args.partial)
    for word, lp in out:
        print(f"{word}\t{math.exp(lp):.6f}")
    return 0
