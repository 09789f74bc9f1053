"""``lmlab ngram``: estimate an n-gram model and write it as ARPA (like KenLM's lmplz)."""

from __future__ import annotations

import sys

from ..errors import ConfigError
from ..models.ngram.model import NgramLM
from ..models.ngram.model_files import save_arpa
from ..models.ngram.smoothing.kneser_ney import KENLM_FALLBACK
from ..models.ngram.smoothing.registry import SMOOTHERS
from ._common import (
    Formatter,
    Progress,
    applies_only,
    input_lines,
    nonempty_file,
    nonnegative_float,
    nonnegative_int,
    output_file,
    positive_float,
    positive_int,
    vocab_size,
)

EXAMPLES = """examples:
  lmlab ngram -o 5 < train.txt > lm.arpa
  lmlab ngram -o 5 --text train.txt --arpa lm.arpa.gz
  lmlab ngram -o 3 --data ptb --arpa ptb.o3.arpa
  lmlab ngram -o 3 --smoothing witten_bell --backoff --text train.txt --arpa wb.arpa
  lmlab ngram -o 3 --discount_fallback < tiny.txt > tiny.arpa
  lmlab ngram -o 5 --prune 0 1 1 --data ptb --arpa ptb.o5.pruned.arpa
  lmlab ngram -o 5 -S 1G -T /tmp/lm --text big.txt --arpa big.arpa   # counted in sorted runs on disk
  lmlab ngram --engine spark --master local[2] -o 5 --text train.txt --arpa lm.arpa   # a PySpark job
  lmlab ngram --engine spark --master spark://head:7077 --partitions 64 -o 5 \
      --text hdfs:///corpus/train.txt --arpa hdfs:///models/lm.arpa   # on a cluster (docs/spark.md)
  lmlab ngram -o 5 --smoothing stupid_backoff --text train.txt --binary sb.lmbin   # lmlab's binary format
"""


def add_parser(sub):
    p = sub.add_parser(
        "ngram", help="estimate an n-gram LM and write ARPA", description=__doc__,
        epilog=EXAMPLES, formatter_class=Formatter,
    )
    p.add_argument("-o", "--order", type=positive_int, required=True, help="n-gram order (any positive integer)")
    p.add_argument("--text", help="training text, one sentence per line (default: stdin)")
    p.add_argument("--data", help="train on a named dataset's train split (see 'lmlab data list')")
    p.add_argument("--arpa", type=model_output, help="write the ARPA file here, atomically (default: stdout, unless "
                   "--binary); .gz/.bz2/.xz compress; with --engine spark also a URI Spark writes (hdfs://, s3a://)")
    p.add_argument("--binary", type=output_file, metavar="FILE",
                   help="write lmlab's binary format (.lmbin, memory-mapped; stupid backoff's only format) here")
    p.add_argument("--smoothing", default="modified_kneser_ney", choices=sorted(SMOOTHERS), help="smoothing method")
    form = p.add_mutually_exclusive_group()
    form.add_argument("--interpolate", action="store_true",
                      help="interpolated form (default: the method's usual form; good_turing: backoff)")
    form.add_argument("--backoff", action="store_true", help="backoff form instead of interpolated")
    p.add_argument("--interpolate_unigrams", type=int, choices=(0, 1), default=1,
                   help="1: mix uniform into unigrams (KenLM); 0: left-over mass to <unk> (SRILM)")
    p.add_argument("--discount_fallback", nargs="*", type=nonnegative_float, metavar="D",
                   help="where Kneser-Ney discounts are undefined (too little data) use D1 D2 D3+; the flag alone: "
                        "0.5 1 1.5, as KenLM's (default: no fallback, such data is refused)")
    p.add_argument("--discount", nargs="+", type=nonnegative_float, metavar="D",
                   help="fixed discount (one value, or D1 D2 D3+) (default: estimated from the counts)")
    p.add_argument("-k", type=positive_float, default=1.0, help="additive smoothing's k (1 = Laplace)")
    p.add_argument("--prune", nargs="+", type=nonnegative_int, metavar="T",
                   help="count thresholds per order: drop n-grams with count <= T (e.g. 0 1 1; last repeats) (default: keep all)")
    p.add_argument("--limit_vocab_file", metavar="FILE", type=nonempty_file,
                   help="keep only n-grams whose words are all in FILE (whitespace-separated)")
    p.add_argument("--min_count", type=positive_int, default=1, help="words seen fewer times become <unk>")
    p.add_argument("--max_vocab", type=vocab_size, help="keep the most frequent words (specials included) (default: no limit)")
    p.add_argument("-S", "--memory", type=memory_size, metavar="SIZE",
                   help="memory limit (as lmplz -S: 1G, 500M, 80%% of physical memory; a bare number is KiB): "
                        "the corpus is counted into sorted runs on disk and merged, and the model estimated in "
                        "blocks, the same model (default: count and estimate in memory at once)")
    p.add_argument("-T", "--temp_prefix", metavar="PATH",
                   help="with -S: folder (or path prefix, as lmplz's /tmp/lm) for the temporary files, all "
                        "removed at the end (default: the system's temporary folder)")
    p.add_argument("--quiet", action="store_true", help="no progress messages (nor, with -S, progress bars) on stderr")
    p.add_argument("--engine", choices=ENGINES, default="native",
                   help="native: this machine (numpy); spark: a PySpark job, the same model (the [spark] extra, "
                        "Java 17; docs/spark.md)")
    p.add_argument("--master", default="local[*]",
                   help="with --engine spark: the Spark master (local[2], spark://HOST:PORT, yarn)")
    p.add_argument("--partitions", type=positive_int,
                   help="with --engine spark: split the corpus into this many partitions, and every shuffle "
                        "into as many tasks (default: Spark's default parallelism)")
    p.add_argument("--spark_conf", type=spark_setting, action="append", metavar="KEY=VALUE",
                   help="with --engine spark: a Spark setting (repeatable), e.g. spark.driver.memory=4g")
    applies_only(p, "temp_prefix", lambda a: a.memory is not None or a.engine == "spark",
                 "with -S/--memory or --engine spark")
    for dest in ("master", "partitions", "spark_conf"):
        applies_only(p, dest, lambda a: a.engine == "spark", "with --engine spark")
    for dest in ("memory", "limit_vocab_file", "backoff"):
        applies_only(p, dest, lambda a: a.engine != "spark", "without --engine spark")
    applies_only(p, "k", lambda a: a.smoothing == "additive", "with --smoothing additive")
    for dest in ("discount", "discount_fallback"):
        applies_only(p, dest, lambda a: a.smoothing in KN_FAMILY, "with --smoothing " + " or ".join(KN_FAMILY))
    applies_only(p, "discount_fallback", lambda a: a.discount is None, "without --discount (fixed discounts)")
    for dest in ("prune", "limit_vocab_file"):
        applies_only(p, dest, lambda a: a.smoothing not in DIRECT, "with a smoothing other than " + ", ".join(DIRECT))
    return p


ENGINES = ("native", "spark")
KN_FAMILY = ("modified_kneser_ney", "kneser_ney", "absolute_discounting")  # the methods with discounts
DIRECT = ("additive", "mle", "stupid_backoff")  # no count pruning: their tables are built directly


def memory_size(text: str) -> int:
    """``-S``: a memory size in bytes (see :func:`lmlab.counts.external.parse_memory`)."""
    import argparse

    from ..counts.external import parse_memory

    try:
        return parse_memory(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


memory_size.__name__ = "memory size"


def model_output(text: str) -> str:
    """``--arpa``: a local output file (checked as every output is), or a URI for Spark to write."""
    if "://" in text:
        return text
    return output_file(text)


model_output.__name__ = "output file"


def spark_setting(text: str) -> tuple[str, str]:
    """``--spark_conf KEY=VALUE``."""
    import argparse

    key, eq, value = text.partition("=")
    if not eq or not key.strip() or not value.strip() or any(c.isspace() for c in key):
        raise argparse.ArgumentTypeError(f"{text!r}: expected KEY=VALUE (e.g. spark.driver.memory=4g)")
    return key.strip(), value.strip()


spark_setting.__name__ = "Spark setting"


def _limit_vocab(path):
    if path is None:
        return None
    from .._io import read_text

    words = set(read_text(path).split())
    if not words:
        raise ConfigError(f"--limit_vocab_file {path}: the file holds no words (only white space)")
    return words


def _discount_text(d) -> str:
    """``[unused, d1, .., dk]``: D1 D2 D3+ (Kneser-Ney, absolute discounting) or d1..dk (Katz)."""
    names = ["D1", "D2", "D3+"] if len(d) == 4 else [f"d{r}" for r in range(1, len(d))]
    return " ".join(f"{n}={x:.6g}" for n, x in zip(names, d[1:], strict=True))


def run(args) -> int:
    progress = Progress(args.quiet)
    if args.arpa is not None and "://" in args.arpa and args.engine != "spark":
        raise ConfigError(f"--arpa {args.arpa}: a URI is written only by --engine spark; give a local file")
    fallback = None
    if args.discount_fallback is not None:
        fallback = args.discount_fallback or list(KENLM_FALLBACK)
        if len(fallback) != 3:
            raise ConfigError("--discount_fallback takes no value or three (D1 D2 D3+)")
    discount = None
    if args.discount is not None:
        if len(args.discount) not in (1, 3):
            raise ConfigError("--discount takes one value or three (D1 D2 D3+)")
        discount = args.discount[0] if len(args.discount) == 1 else tuple(args.discount)
    lm = NgramLM(
        args.order, args.smoothing, interpolate=True if args.interpolate else False if args.backoff else None,
        interpolate_unigrams=bool(args.interpolate_unigrams), discount_fallback=fallback,
        discount=discount, k=args.k, min_count=args.min_count, max_size=args.max_vocab,
        prune=args.prune, limit_vocab=_limit_vocab(args.limit_vocab_file),
    )
    if args.engine == "spark":
        from .ngram_spark import run_spark

        return run_spark(args, fallback, discount, progress)
    if args.memory is not None:
        from .._progress import stage_bars
        from ..counts.external import TempFolder

        # removed on success, error, Ctrl-C and SIGTERM; bars on a terminal for each stage
        with TempFolder(args.temp_prefix) as folder, stage_bars(not args.quiet):
            _fit_limited(lm, args, folder, progress)
            _report_and_write(lm, args, progress)  # the counts are memory-mapped from the folder
        return 0
    from ..counts.heap import return_freed_memory

    return_freed_memory()  # each stage's large temporaries go back to the system when freed (peak memory)
    lines = input_lines(args.text, args.data, "train")
    progress(f"read {len(lines)} lines")
    lm.fit(lines)
    del lines  # the text: memory for writing the model
    _report_and_write(lm, args, progress)
    return 0


def _report_and_write(lm, args, progress) -> None:
    progress(f"estimated {lm.smoothing} order {lm.order}: n-grams per order {lm.tables.sizes()}")
    if lm.discounts is not None:
        for m, d in enumerate(lm.discounts, start=1):
            progress(f"discounts order {m}: {_discount_text(d)}")
    if args.binary is not None:
        from ..models.ngram.model_files import save_binary

        save_binary(lm, args.binary)
        progress(f"wrote {args.binary}")
        if args.arpa is None:
            return
    save_arpa(lm, sys.stdout.buffer if args.arpa in (None, "-") else args.arpa)
    progress(f"wrote {'ARPA to stdout' if args.arpa in (None, '-') else args.arpa}")


def _fit_limited(lm, args, folder: str, progress):
    """Estimate ``lm`` within ``args.memory``: two passes over the text (vocabulary, then counting
    into sorted runs in ``folder``); standard input is first copied into ``folder``."""
    from ..counts.external import ExternalStats, block_tokens, blocks_of, count_external, estimation_rows

    source = _line_batches(args, folder)
    lines = [0]
    vocab = _build_vocab(lm, _counted(source(), lines))
    stats = ExternalStats(args.memory, block_tokens(args.memory, lm.order), expected_lines=lines[0])
    progress(f"vocabulary of {len(vocab)} words from {lines[0]} lines; counting in blocks of {stats.block_tokens} "
             f"tokens, estimating in blocks of {estimation_rows(args.memory)} n-grams (-S {args.memory} bytes) "
             f"in {folder}")
    counts = count_external(blocks_of(source(), lm.tokenizer.tokenize, stats.block_tokens), vocab, lm.order,
                            folder, stats, progress)
    lm.fit_counts(counts, vocab)
    return stats


def _counted(batches, lines: list[int]):
    """The batches, adding up their lines in ``lines[0]``."""
    for batch in batches:
        lines[0] += len(batch)
        yield batch


def _build_vocab(lm, batches):
    from ..text.vocab import Vocab

    tokenize = lm.tokenizer.tokenize
    return Vocab.build((tokenize(line) for batch in batches for line in batch), min_count=lm.min_count,
                       max_size=lm.max_size, tokenizer=lm.tokenizer)


def _line_batches(args, folder: str):
    """A function giving the input's lines in batches, again on each call (a second pass over
    standard input reads the copy made in ``folder`` on the first)."""
    import os

    from .._io import open_binary, read_stream_batches
    from ..errors import CorpusError
    from ._common import input_lines

    if args.data is not None or args.text == "":
        lines = input_lines(args.text, args.data, "train")  # a named corpus is read whole (its checks too)
        return lambda: iter([lines])
    path, name = args.text, args.text
    if path in (None, "-"):
        path, name = os.path.join(folder, "stdin.txt"), "<stdin>"
        with open(path, "wb") as copy:
            for chunk in iter(lambda: sys.stdin.buffer.read(1 << 20), b""):
                copy.write(chunk)
    state = {"checked": False}

    def batches():
        with open_binary(path) as fh:
            empty = True
            for batch in read_stream_batches(fh, name, 1 << 20):
                empty = empty and not batch
                yield batch
        if empty and not state["checked"]:
            raise CorpusError(f"{name}: the input is empty (no lines)")
        state["checked"] = True

    return batches
