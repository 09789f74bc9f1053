"""``lmlab convert``: ARPA <-> lmlab binary (memory-mapped, loads faster than ARPA), like build_binary.

The binary is hash tables (build_binary's probing: fastest) or, with --trie (or the data-structure
word first, as build_binary takes it: lmlab convert trie -q 8 -b 8 lm.arpa lm.lmbin), KenLM's
compact trie (about a third of the size)."""

from __future__ import annotations

import argparse

from ..errors import ConfigError, LmlabError
from ..models.ngram.loading import load_ngram as load
from ..models.ngram.binary import is_binary
from ..models.ngram.model import NgramLM
from ..models.ngram.model_files import load_binary, save_arpa, save_binary
from ._common import NGRAM_MODEL_HELP, Formatter, Progress, applies_only, output_file, quant_bits

EXAMPLES = """examples:
  lmlab convert lm.arpa lm.lmbin          # binary: the output name ends in .lmbin
  lmlab convert -q 8 lm.arpa lm.q8.lmbin  # 8-bit quantised: about half the size
  lmlab convert --trie lm.arpa lm.trie.lmbin       # the compact trie
  lmlab convert trie -q 8 -b 8 lm.arpa lm.lmbin    # build_binary's spelling: trie, 8-bit values
  lmlab convert lm.lmbin lm.arpa.gz       # back to (compressed) ARPA
"""


def add_parser(sub):
    p = sub.add_parser("convert", help="convert between ARPA and lmlab's binary format",
                       usage="lmlab convert [-h] [-q BITS] [-b BITS] [--trie] [--quiet] [probing|trie] input output",
                       description=__doc__, epilog=EXAMPLES, formatter_class=Formatter)
    p.add_argument("input", help=NGRAM_MODEL_HELP + " (or the data structure, trie or probing, as build_binary's)")
    p.add_argument("output", help="*.lmbin for binary, anything else for ARPA (.gz/.bz2/.xz compress)")
    p.add_argument("output_after_structure", nargs="?", metavar="OUTPUT", type=output_file,
                   help="the output, when the first argument names the data structure (default: none)")
    p.add_argument("-q", "--quantize", type=quant_bits, metavar="BITS",
                   help="binary only: quantise probabilities and backoffs to BITS (1-8) bits, like build_binary -q (default: not quantised)")
    p.add_argument("-b", "--backoff-bits", type=quant_bits, metavar="BITS",
                   help="with -q: quantise backoffs to BITS (1-8) bits instead, like build_binary -b (default: as -q)")
    p.add_argument("--trie", action="store_true",
                   help="binary only: KenLM's compact trie (build_binary trie) instead of hash tables (default: hash tables)")
    p.add_argument("--quiet", action="store_true", help="no progress messages on stderr")
    applies_only(p, "quantize", lambda a: _binary(_paths(a)[1]), "to a binary output (*.lmbin)")
    applies_only(p, "trie", lambda a: _binary(_paths(a)[1]), "to a binary output (*.lmbin)")
    applies_only(p, "backoff_bits", lambda a: a.quantize is not None, "with -q/--quantize")
    return p


STRUCTURES = ("probing", "trie")


def _paths(args) -> tuple[str, str]:
    """(input, output), the data-structure word (``lmlab convert trie IN OUT``) set aside."""
    if args.output_after_structure is None:
        return args.input, args.output
    return args.output, args.output_after_structure


def _structure(args) -> bool:
    """Whether to write a trie: ``--trie`` or the word ``trie`` before the paths."""
    if args.output_after_structure is None:
        return args.trie
    if args.input not in STRUCTURES:
        raise ConfigError(f"convert takes INPUT OUTPUT, or a data structure ({' or '.join(STRUCTURES)}) then "
                          f"INPUT OUTPUT; got three paths: {args.input} {args.output} {args.output_after_structure}")
    if not _binary(args.output_after_structure):
        raise ConfigError(f"the data structure {args.input} applies only to a binary output (*.lmbin)")
    if args.input == "probing" and args.trie:
        raise ConfigError("probing and --trie name two data structures: give one")
    return args.input == "trie" or args.trie


def _binary(path) -> bool:
    return str(path).endswith(".lmbin")


def run(args) -> int:
    progress = Progress(args.quiet)
    trie = _structure(args)
    src, out = _paths(args)
    if args.output_after_structure is None:
        try:
            output_file(out)  # checked before any work (the third argument is checked by argparse)
        except argparse.ArgumentTypeError as exc:
            raise ConfigError(f"argument output: {exc}") from None
    # reading a binary model to convert it checks its checksum too (a copy must not spread corruption)
    lm = load_binary(src, verify=True) if is_binary(src) else load(src)
    if not isinstance(lm, NgramLM):
        raise LmlabError("convert works on n-gram models")
    progress(f"loaded {src}")
    if _binary(out):
        save_binary(lm, out, quant_bits=args.quantize, backoff_bits=args.backoff_bits, trie=trie)
    else:
        save_arpa(lm, out)
    progress(f"wrote {out}")
    return 0
