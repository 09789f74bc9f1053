"""``lmlab query``: score text with an n-gram model, in the format of KenLM's ``query``.

Per token ``word=id ngram_length log10prob`` (id 0 is ``<unk>``: an OOV), then
``Total: <sum log10> OOV: <count>`` per line, then the summary: perplexity including and
excluding OOVs, OOVs and tokens (words plus one ``</s>`` per line).
"""

from __future__ import annotations

import sys

import numpy as np

from .._io import read_stream_batches
from ..errors import CorpusError, LmlabError, NotNormalizedError
from ..eval.perplexity import LN10, report_from_scores
from ..models.ngram.loading import load_ngram as load
from ..models.ngram.model import NgramLM
from ..text.specials import EOS
from ._common import NGRAM_MODEL_HELP, Formatter, input_lines

EXAMPLES = """examples:
  lmlab query lm.arpa < test.txt
  lmlab query -v summary lm.arpa.gz < test.txt
  echo "the apple and pear salad" | lmlab query -v sentence lm.arpa
"""


def add_parser(sub):
    p = sub.add_parser("query", help="score text with an n-gram model, ARPA or .lmbin (KenLM query format)",
                       description=__doc__, epilog=EXAMPLES, formatter_class=Formatter)
    p.add_argument("model", help=NGRAM_MODEL_HELP)
    p.add_argument("-v", "--verbose", choices=("summary", "sentence", "word"), default="word",
                   help="what to print: the summary, plus each line's total, plus each word's score (default: word)")
    p.add_argument("--text", help="text to score (default: stdin)")
    return p


def run(args) -> int:
    lm = load(args.model)
    if not isinstance(lm, NgramLM):
        raise LmlabError("query needs an n-gram model; use 'lmlab perplexity' for other models")
    if not lm.normalized:  # as 'lmlab perplexity' (one answer for one model): no perplexity of scores
        raise NotNormalizedError(f"{args.model}: {lm.not_probabilities()}: lmlab does not report its perplexity"
                                 " (use a smoothed method: witten_bell, modified_kneser_ney...)")
    # stdin is scored as lines arrive (interactive use); a file in one batch
    batches = [input_lines(args.text)] if args.text not in (None, "-") else \
        read_stream_batches(sys.stdin.buffer, "<stdin>")
    out = sys.stdout
    scores, targets, n_lines = [], [], 0
    for lines in batches:
        if not lines:
            continue
        tokens = [lm.vocab.tokenize(line) for line in lines]
        enc = [lm.vocab.encode(t) for t in tokens]
        lp10, length, ids = lm.corpus_log10(enc)
        scores.append(lp10)
        targets.append(ids)
        n_lines += len(enc)
        if args.verbose != "summary":
            _write_lines(out, args.verbose, tokens, enc, lp10, length)
            out.flush()
    if not n_lines:
        raise CorpusError(f"{'<stdin>' if args.text in (None, '-') else args.text}: the input is empty (no lines)")
    report = report_from_scores(np.concatenate(scores) * LN10, np.concatenate(targets), n_lines)
    out.write(report.kenlm_summary())
    return 0


def _write_lines(out, verbose, tokens, enc, lp10, length) -> None:
    pos = 0
    write = out.write
    for toks, e in zip(tokens, enc, strict=True):
        n = len(e) + 1
        seg = lp10[pos : pos + n]
        oov = int(np.sum(e == 0))
        if verbose == "word":
            vals = seg.astype(np.float32)
            words = [*toks, EOS]
            wid = [*e.tolist(), 2]
            write("\t".join(f"{w}={i} {int(ln)} {v}" for w, i, ln, v in
                            zip(words, wid, length[pos : pos + n].tolist(), vals, strict=True)))
            write("\t")
        write(f"Total: {float(seg.sum()):g} OOV: {oov}\n")
        pos += n
