"""``lmlab perplexity``: perplexity of any model on a file or a named dataset split."""

from __future__ import annotations

import json

from ..eval.perplexity import evaluate
from ..models.loading import load
from ._common import Formatter, input_lines

EXAMPLES = """examples:
  lmlab perplexity lm.arpa --data ptb --split test
  lmlab perplexity lm.arpa --text test.txt --json
"""


def add_parser(sub):
    p = sub.add_parser("perplexity", help="perplexity of a model on text", description=__doc__,
                       epilog=EXAMPLES, formatter_class=Formatter)
    p.add_argument("model")
    p.add_argument("--text", help="text file (default: stdin)")
    p.add_argument("--data", help="named dataset (see 'lmlab data list')")
    p.add_argument("--split", default="test")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    return p


def run(args) -> int:
    lm = load(args.model)
    report = evaluate(lm, input_lines(args.text, args.data, args.split))
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(f"sentences {report.sentences}  tokens {report.tokens}  OOVs {report.oovs}")
        print(f"perplexity {report.perplexity:.4f}  (excluding OOVs {report.perplexity_excluding_oovs:.4f})")
        print(f"cross-entropy {report.cross_entropy_bits:.4f} bits/token")
    return 0
