"""``lmlab score``: the log-probability of each sentence under any model (n-gram or neural).

One line per input line: the total natural-log probability (``--log10``: base 10) of its words and
one ``</s>``, then the tokens.  ``--per-token`` adds ``token=logprob`` for every token; a token
outside the vocabulary (scored as ``<unk>``, counted as an OOV by ``lmlab perplexity``) is written
``token[OOV]=logprob``."""

from __future__ import annotations

import math

from ..eval.scoring import parse_nbest, rerank, score_sentences
from ..models.loading import load
from ._common import MODEL_HELP, Formatter, finite_float, input_lines

RERANK_DESCRIPTION = """``lmlab rerank``: re-rank n-best lists (speech recognition, translation) with any model.

Each hypothesis gets ``lm_weight * ln P_lm(hypothesis) + score_weight * decoder score``; each group
is printed best first as ``total<TAB>lm_logprob<TAB>input line``, groups separated by an empty line.
Input: Moses ``id ||| hypothesis ||| features ||| score`` lines (grouped by id), or plain lines, one
hypothesis per line, groups separated by an empty line, an optional ``score<TAB>`` in front."""
EXAMPLES = """examples:
  echo "the apple and pear salad" | lmlab score lm.arpa
  lmlab score runs/ptb-lstm --per-token --text sentences.txt
"""
RERANK_EXAMPLES = """examples:
  lmlab rerank lm.arpa --nbest nbest.txt --lm_weight 0.5 --score_weight 1
  lmlab rerank runs/ptb-lstm --nbest nbest.txt --best        # only the best hypothesis of each group
"""
OOV_MARK = "[OOV]"


def add_parser(sub):
    p = sub.add_parser("score", help="score sentences (total and per-token log-probabilities)",
                       description=__doc__, epilog=EXAMPLES, formatter_class=Formatter)
    p.add_argument("model", help=MODEL_HELP)
    p.add_argument("--text", help="one sentence per line (default: stdin)")
    p.add_argument("--per-token", dest="per_token", action="store_true",
                   help=f"also each token's log-probability (token{OOV_MARK}= for a token outside the vocabulary)")
    p.add_argument("--log10", action="store_true", help="log10 instead of natural log")
    return p


def run(args) -> int:
    lm = load(args.model)
    k = 1 / math.log(10) if args.log10 else 1.0
    for s in score_sentences(lm, input_lines(args.text)):
        line = f"{s.total * k:.4f}\t{' '.join(s.tokens[:-1])}"
        if args.per_token:
            marks = [OOV_MARK if oov else "" for oov in s.oov_mask]
            line += "\t" + " ".join(f"{t}{m}={v * k:.4f}" for t, m, v in zip(s.tokens, marks, s.logprobs, strict=True))
        print(line)
    return 0


def add_rerank_parser(sub):
    p = sub.add_parser("rerank", help="re-rank n-best lists by LM score (+ a weighted decoder score)",
                       description=RERANK_DESCRIPTION, epilog=RERANK_EXAMPLES, formatter_class=Formatter)
    p.add_argument("model", help=MODEL_HELP)
    p.add_argument("--nbest", required=True, help="Moses 'id ||| hyp ||| feats ||| score' or plain groups")
    p.add_argument("--lm_weight", type=finite_float, default=1.0, help="weight of the LM's natural-log probability")
    p.add_argument("--score_weight", type=finite_float, default=0.0, help="weight of the n-best's own score")
    p.add_argument("--best", action="store_true", help="print only the best hypothesis of each group")
    return p


def run_rerank(args) -> int:
    lm = load(args.model)
    groups = rerank(lm, parse_nbest(input_lines(args.nbest), args.nbest), lm_weight=args.lm_weight,
                    score_weight=args.score_weight)
    for i, g in enumerate(groups):
        for h in g[:1] if args.best else g:
            print(f"{h.total:.4f}\t{h.lm_logprob:.4f}\t{h.line}")
        if not args.best and i < len(groups) - 1:
            print()
    return 0
