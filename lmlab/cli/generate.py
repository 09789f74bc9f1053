"""``lmlab generate``: sample or decode text from any model (n-gram or neural)."""

from __future__ import annotations

import math

from ..generate.decode import generate
from ..models.loading import load
from ._common import (
    MODEL_HELP,
    Formatter,
    applies_only,
    nonnegative_int,
    positive_float,
    positive_int,
    probability,
)

EXAMPLES = """examples:
  lmlab generate lm.arpa --prompt "the stock market" --seed 1
  lmlab generate runs/ptb-lstm --greedy --max_tokens 20
  lmlab generate runs/char --temperature 0.8 --top_p 0.9 --max_tokens 300 --no-stop
"""


def add_parser(sub):
    p = sub.add_parser("generate", help="generate text (greedy, temperature, top-k, top-p)",
                       description=__doc__, epilog=EXAMPLES, formatter_class=Formatter)
    p.add_argument("model", help=MODEL_HELP)
    p.add_argument("--prompt", default="", help="text to continue (default: none, start a sentence)")
    p.add_argument("--max_tokens", type=positive_int, default=30, help="most tokens to generate per sample")
    p.add_argument("--greedy", action="store_true", help="always take the most likely token (no sampling)")
    p.add_argument("--temperature", type=positive_float, default=1.0,
                   help="divide log-probabilities by this before sampling (<1 sharper, >1 flatter)")
    p.add_argument("--top_k", type=positive_int, help="sample among the K most likely tokens (default: all)")
    p.add_argument("--top_p", type=probability,
                   help="sample among the most likely tokens whose probabilities sum to P (default: 1, all)")
    p.add_argument("--seed", type=nonnegative_int, help="random seed; sample i uses SEED+i (default: random)")
    p.add_argument("-n", "--num", type=positive_int, default=1, help="number of samples")
    p.add_argument("--no-stop", dest="stop", action="store_false",
                   help="do not stop at </s> (default: a sample ends at </s>)")
    p.add_argument("--scores", action="store_true", help="print each sample's log10-probability before it")
    for dest in ("temperature", "top_k", "top_p", "seed"):
        applies_only(p, dest, lambda a: not a.greedy, "when sampling (not with --greedy)")
    return p


def run(args) -> int:
    lm = load(args.model)
    for i in range(args.num):
        seed = None if args.seed is None else args.seed + i
        g = generate(lm, args.prompt, max_tokens=args.max_tokens, greedy=args.greedy,
                     temperature=args.temperature, top_k=args.top_k, top_p=args.top_p, seed=seed,
                     stop_at_eos=args.stop)
        text = lm.vocab.tokenizer.detokenize(lm.vocab.tokenize(args.prompt) + g.tokens)
        print(f"{sum(g.logprobs) / math.log(10):.3f}\t{text}" if args.scores else text)
    return 0
