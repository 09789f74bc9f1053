"""``lmlab perplexity``: perplexity of any model on a file or a named dataset split."""

from __future__ import annotations

import json

from ..eval.perplexity import evaluate
from ..models.loading import load
from ._common import MODEL_HELP, Formatter, input_lines

EXAMPLES = """examples:
  lmlab perplexity lm.arpa --data ptb --split test
  lmlab perplexity lm.arpa --text test.txt --json
"""


def add_parser(sub):
    p = sub.add_parser("perplexity", help="perplexity of a model on text", description=__doc__,
                       epilog=EXAMPLES, formatter_class=Formatter)
    p.add_argument("model", help=MODEL_HELP)
    p.add_argument("--text", help="text file (default: stdin)")
    p.add_argument("--data", help="named dataset (see 'lmlab data list')")
    p.add_argument("--split", default="test", help="with --data: the split to score")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--stream", action="store_true",
                   help="neural models: carry the state across lines (the literature's convention for PTB); "
                        "default: every line starts from <s>, as for n-gram models")
    return p


def run(args) -> int:
    lm = load(args.model)
    lines = input_lines(args.text, args.data, args.split)
    if args.stream:
        return _stream(lm, lines, args.json)
    report = evaluate(lm, lines)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(f"sentences {report.sentences}  tokens {report.tokens}  OOVs {report.oovs}")
        print(f"perplexity {report.perplexity:.4f}  (excluding OOVs {report.perplexity_excluding_oovs:.4f})")
        print(f"cross-entropy {report.cross_entropy_bits:.4f} bits/token")
    return 0


def _stream(lm, lines, as_json: bool) -> int:
    from ..errors import LmlabError

    if not hasattr(lm, "model"):
        raise LmlabError("--stream is for neural models (an n-gram model's history ends at each line)")
    from ..text.vocab import encode_corpus
    from ..train.loop import stream_perplexity

    tok = lm.vocab.tokenizer
    ids, _ = encode_corpus(lm.vocab, [tok.tokenize(x) for x in lines])
    ppl = stream_perplexity(lm.model, ids, lm.is_rnn, 10, 35, getattr(lm.config, "context", 0), lm.device)
    n = int((ids != lm.vocab.bos_id).sum())
    if as_json:
        print(json.dumps({"tokens": n, "perplexity_stream": ppl}))
    else:
        print(f"tokens {n}  streaming perplexity {ppl:.4f}")
    return 0
