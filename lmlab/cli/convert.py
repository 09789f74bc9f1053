"""``lmlab convert``: ARPA <-> lmlab binary (memory-mapped, loads faster than ARPA), like build_binary."""

from __future__ import annotations

from ..errors import LmlabError
from ..models.ngram.loading import load_ngram as load
from ..models.ngram.binary import is_binary
from ..models.ngram.model import NgramLM, load_binary, save_arpa, save_binary
from ._common import NGRAM_MODEL_HELP, Formatter, Progress, applies_only, output_file, quant_bits

EXAMPLES = """examples:
  lmlab convert lm.arpa lm.lmbin          # binary: the output name ends in .lmbin
  lmlab convert -q 8 lm.arpa lm.q8.lmbin  # 8-bit quantised: about half the size
  lmlab convert lm.lmbin lm.arpa.gz       # back to (compressed) ARPA
"""


def add_parser(sub):
    p = sub.add_parser("convert", help="convert between ARPA and lmlab's binary format",
                       description=__doc__, epilog=EXAMPLES, formatter_class=Formatter)
    p.add_argument("input", help=NGRAM_MODEL_HELP)
    p.add_argument("output", type=output_file, help="*.lmbin for binary, anything else for ARPA (.gz/.bz2/.xz compress)")
    p.add_argument("-q", "--quantize", type=quant_bits, metavar="BITS",
                   help="binary only: quantise probabilities and backoffs to BITS (1-8) bits, like build_binary -q (default: not quantised)")
    p.add_argument("--quiet", action="store_true", help="no progress messages on stderr")
    applies_only(p, "quantize", lambda a: _binary(a.output), "to a binary output (*.lmbin)")
    return p


def _binary(path) -> bool:
    return str(path).endswith(".lmbin")


def run(args) -> int:
    progress = Progress(args.quiet)
    # reading a binary model to convert it checks its checksum too (a copy must not spread corruption)
    lm = load_binary(args.input, verify=True) if is_binary(args.input) else load(args.input)
    if not isinstance(lm, NgramLM):
        raise LmlabError("convert works on n-gram models")
    progress(f"loaded {args.input}")
    if _binary(args.output):
        save_binary(lm, args.output, quant_bits=args.quantize)
    else:
        save_arpa(lm, args.output)
    progress(f"wrote {args.output}")
    return 0
