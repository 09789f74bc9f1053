"""``lmlab prune``: relative-entropy pruning (Stolcke 1998) of a trained n-gram model."""

from __future__ import annotations

import sys

from ..errors import LmlabError
from ..models.ngram.loading import load_ngram as load
from ..models.ngram.model import NgramLM
from ..models.ngram.model_files import save_arpa
from ._common import NGRAM_MODEL_HELP, Formatter, Progress, output_file, positive_float

EXAMPLES = """examples:
  lmlab prune lm.arpa --threshold 1e-7 --arpa pruned.arpa
  lmlab prune lm.arpa.gz --threshold 1e-8 > pruned.arpa
"""


def add_parser(sub):
    p = sub.add_parser("prune", help="prune a model by relative entropy (SRILM -prune)",
                       description=__doc__, epilog=EXAMPLES, formatter_class=Formatter)
    p.add_argument("model", help=NGRAM_MODEL_HELP)
    p.add_argument("--threshold", type=positive_float, required=True,
                   help="drop an n-gram if removing it raises perplexity by a relative amount below this")
    p.add_argument("--arpa", type=output_file, help="output ARPA path, written atomically (default: stdout)")
    p.add_argument("--quiet", action="store_true", help="no progress messages on stderr")
    return p


def run(args) -> int:
    progress = Progress(args.quiet)
    lm = load(args.model)
    if not isinstance(lm, NgramLM):
        raise LmlabError("prune needs an n-gram model")
    before = lm.tables.sizes()
    pruned = lm.prune_entropy(args.threshold)
    progress(f"n-grams per order {before} -> {pruned.tables.sizes()}")
    save_arpa(pruned, sys.stdout.buffer if args.arpa in (None, "-") else args.arpa)
    return 0
