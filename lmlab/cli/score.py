"""``lmlab score`` and ``lmlab rerank``: sentence scores and n-best re-ranking with any model."""

from __future__ import annotations

import math

from .._io import read_lines
from ..eval.scoring import parse_nbest, rerank, score_sentences
from ..models.loading import load
from ._common import Formatter, input_lines

EXAMPLES = """examples:
  echo "the apple and pear salad" | lmlab score lm.arpa
  lmlab score runs/ptb-lstm --per-token --text sentences.txt
  lmlab rerank lm.arpa --nbest nbest.txt --lm_weight 0.5 --score_weight 1
"""


def add_parser(sub):
    p = sub.add_parser("score", help="score sentences (total and per-token log-probabilities)",
                       description=__doc__, epilog=EXAMPLES, formatter_class=Formatter)
    p.add_argument("model")
    p.add_argument("--text", help="one sentence per line (default: stdin)")
    p.add_argument("--per-token", dest="per_token", action="store_true", help="also each token's log-probability")
    p.add_argument("--log10", action="store_true", help="log10 instead of natural log")
    return p


def run(args) -> int:
    lm = load(args.model)
    k = 1 / math.log(10) if args.log10 else 1.0
    for s in score_sentences(lm, input_lines(args.text)):
        line = f"{s.total * k:.4f}\t{' '.join(s.tokens[:-1])}"
        if args.per_token:
            line += "\t" + " ".join(f"{t}={v * k:.4f}" for t, v in zip(s.tokens, s.logprobs, strict=True))
        print(line)
    return 0


def add_rerank_parser(sub):
    p = sub.add_parser("rerank", help="re-rank n-best lists by LM score (+ a weighted decoder score)",
                       description=__doc__, epilog=EXAMPLES, formatter_class=Formatter)
    p.add_argument("model")
    p.add_argument("--nbest", required=True, help="Moses 'id ||| hyp ||| feats ||| score' or plain groups")
    p.add_argument("--lm_weight", type=float, default=1.0)
    p.add_argument("--score_weight", type=float, default=0.0, help="weight of the n-best's own score")
    p.add_argument("--best", action="store_true", help="print only the best hypothesis of each group")
    return p


def run_rerank(args) -> int:
    lm = load(args.model)
    groups = rerank(lm, parse_nbest(read_lines(args.nbest), args.nbest), lm_weight=args.lm_weight,
                    score_weight=args.score_weight)
    for i, g in enumerate(groups):
        for h in g[:1] if args.best else g:
            print(f"{h.total:.4f}\t{h.lm_logprob:.4f}\t{h.line}")
        if not args.best and i < len(groups) - 1:
            print()
    return 0
