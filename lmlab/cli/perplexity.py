"""``lmlab perplexity``: perplexity of any model on a file or a named dataset split.

Every line is scored from <s> with a fresh state (sentence mode: n-gram models, KenLM's query)
unless --stream: a neural model then carries its state across lines, reading the text as
--columns columns (pytorch/examples' evaluation; what 'lmlab train' reports as valid ppl).  The
first line of the output, and "mode" and "columns" in --json, say which.
"""

from __future__ import annotations

import json

from ..errors import ConfigError
from ..eval.perplexity import describe_mode, evaluate, report_from_scores
from ..models.loading import load
from ._common import MODEL_HELP, Formatter, applies_only, input_lines, positive_int

EXAMPLES = """examples:
  lmlab perplexity lm.arpa --data ptb --split test
  lmlab perplexity lm.arpa --text test.txt --json
  lmlab perplexity runs/ptb-lstm --data ptb --split valid --stream             # as training reports it
  lmlab perplexity runs/ptb-lstm --data ptb --split test --stream --columns 1  # one carried stream
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
                   help="neural models: carry the state across lines (the literature's convention for PTB, and "
                        "what 'lmlab train' reports), the text cut into --columns columns; default: every line "
                        "starts from <s>, as for n-gram models.  The output names the mode either way")
    p.add_argument("--columns", type=positive_int, metavar="N",
                   help="with --stream: cut the text into N columns, each starting from a fresh state "
                        "(default 10, as training's validation; 1: one stream carried through the whole text)")
    applies_only(p, "columns", lambda a: a.stream, "with --stream")
    applies_only(p, "split", lambda a: a.data is not None, "with --data")
    return p


def run(args) -> int:
    lm = load(args.model)
    lines = input_lines(args.text, args.data, args.split)
    if args.stream:
        report = _stream(lm, lines, 10 if args.columns is None else args.columns)
    else:
        if hasattr(lm, "progress"):
            lm.progress = True  # neural models: a bar with an ETA on a terminal
        report = evaluate(lm, lines)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(describe_mode(report.mode, report.columns))
        print(f"sentences {report.sentences}  tokens {report.tokens}  OOVs {report.oovs}")
        print(f"perplexity {report.perplexity:.4f}  (excluding OOVs {report.perplexity_excluding_oovs:.4f})")
        print(f"cross-entropy {report.cross_entropy_bits:.4f} bits/token")
    return 0


def _stream(lm, lines, columns: int):
    if not hasattr(lm, "model"):
        raise ConfigError("--stream is for neural models (an n-gram model's history ends at each line)")
    from ..models.neural.scoring import stream_logprobs
    from ..text.vocab import encode_corpus

    tok = lm.vocab.tokenizer
    ids, _ = encode_corpus(lm.vocab, [tok.tokenize(x) for x in lines])
    lp, targets = stream_logprobs(lm.model, ids, lm.is_rnn, columns, 35, getattr(lm.config, "context", 0),
                                  lm.device, progress=True)
    if not lm.is_rnn:  # a window model's context never crosses a line: this is sentence mode
        return report_from_scores(lp, targets, len(lines))
    return report_from_scores(lp, targets, len(lines), mode="stream", columns=columns)
