"""``lmlab query``: score text with an n-gram model, in the format of KenLM's ``query``.

Per token ``word=id ngram_length log10prob`` (id 0 is ``<unk>``: an OOV), then
``Total: <sum log10> OOV: <count>`` per line, then the summary: perplexity including and
excluding OOVs, OOVs and tokens (words plus one ``</s>`` per line).
"""

from __future__ import annotations

import sys

import numpy as np

from ..errors import LmlabError
from ..eval.perplexity import LN10, report_from_scores
from ..models.ngram.loading import load_ngram as load
from ..models.ngram.model import NgramLM
from ..text.specials import EOS
from ._common import Formatter, input_lines

EXAMPLES = """examples:
  lmlab query lm.arpa < test.txt
  lmlab query -v summary lm.arpa.gz < test.txt
  echo "the apple and pear salad" | lmlab query -v sentence lm.arpa
"""


def add_parser(sub):
    p = sub.add_parser("query", help="score text with an ARPA model (KenLM query format)",
                       description=__doc__, epilog=EXAMPLES, formatter_class=Formatter)
    p.add_argument("model", help="ARPA file (.gz/.bz2/.xz too)")
    p.add_argument("-v", "--verbose", choices=("summary", "sentence", "word"), default="word",
                   help="what to print (default: word)")
    p.add_argument("--text", help="text to score (default: stdin)")
    return p


def run(args) -> int:
    lm = load(args.model)
    if not isinstance(lm, NgramLM):
        raise LmlabError("query needs an n-gram model; use 'lmlab perplexity' for other models")
    lines = input_lines(args.text)
    tokens = [lm.vocab.tokenize(line) for line in lines]
    enc = [lm.vocab.encode(t) for t in tokens]
    lp10, length, ids = lm.corpus_log10(enc)
    out = sys.stdout
    if args.verbose != "summary":
        pos = 0
        write = out.write
        for toks, e in zip(tokens, enc, strict=True):
            n = len(e) + 1
            seg = lp10[pos : pos + n]
            oov = int(np.sum(e == 0))
            if args.verbose == "word":
                vals = seg.astype(np.float32)
                words = [*toks, EOS]
                wid = [*e.tolist(), 2]
                write("\t".join(f"{w}={i} {int(ln)} {v}" for w, i, ln, v in
                                zip(words, wid, length[pos : pos + n].tolist(), vals, strict=True)))
                write("\t")
            write(f"Total: {float(seg.sum()):g} OOV: {oov}\n")
            pos += n
    report = report_from_scores(lp10 * LN10, ids, len(enc))
    out.write(report.kenlm_summary())
    return 0
