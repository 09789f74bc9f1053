"""``lmlab generate``: sample or decode text from any model (n-gram or neural)."""

from __future__ import annotations

import math

from ..generate.decode import generate
from ..models.loading import load
from ._common import Formatter

EXAMPLES = """examples:
  lmlab generate lm.arpa --prompt "the stock market" --seed 1
  lmlab generate runs/ptb-lstm --greedy --max_tokens 20
  lmlab generate runs/char --temperature 0.8 --top_p 0.9 --max_tokens 300 --no-stop
"""


def add_parser(sub):
    p = sub.add_parser("generate", help="generate text (greedy, temperature, top-k, top-p)",
                       description=__doc__, epilog=EXAMPLES, formatter_class=Formatter)
    p.add_argument("model")
    p.add_argument("--prompt", default="")
    p.add_argument("--max_tokens", type=int, default=30)
    p.add_argument("--greedy", action="store_true")
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument("--top_k", type=int)
    p.add_argument("--top_p", type=float)
    p.add_argument("--seed", type=int)
    p.add_argument("-n", "--num", type=int, default=1, help="number of samples")
    p.add_argument("--no-stop", dest="stop", action="store_false", help="do not stop at </s>")
    p.add_argument("--scores", action="store_true", help="print each sample's log-probability")
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
