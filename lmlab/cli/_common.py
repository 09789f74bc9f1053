"""Helpers shared by the subcommands: the argument parser, option types, input text, progress."""

from __future__ import annotations

import argparse
import math
import re
import sys
import time

from .._io import read_lines, read_stream_lines
from ..errors import ConfigError, CorpusError

# Options that name two sources of the same text: giving both is refused (whichever command has them).
EXCLUSIVE = (("text", "data"), ("train", "data"), ("valid", "data"))


def input_lines(path: str | None, data: str | None = None, split: str = "train", *,
                allow_empty: bool = False) -> list[str]:
    """Lines from a file, a named dataset split, or stdin (strict UTF-8, a byte-order mark dropped).

    An input with no lines (an empty file, ``< /dev/null``) is refused, naming it: no command has
    anything to do with it (an empty *line* is a sentence: it predicts one ``</s>``) -- except a
    line-for-line filter (``allow_empty``: ``predict``, ``translate``), whose empty input gives an
    empty output, so that an empty shard passes through a pipeline.
    """
    if path is not None and data is not None:  # "" is a value too (0 and "" are never "not given")
        raise ConfigError(f"give a text file or a named dataset, not both ({path} and --data {data})")
    if path == "" or data == "":
        raise ConfigError(f"an empty {'file' if path == '' else 'dataset'} name for the input text")
    if data is not None:
        from ..data.readers import lm_lines

        lines, name = lm_lines(data, split), f"--data {data} (split {split})"
    elif path is not None and path != "-":
        lines, name = read_lines(path), path
    else:
        lines, name = read_stream_lines(sys.stdin.buffer, "<stdin>"), "<stdin>"
    if not lines and not allow_empty:
        raise CorpusError(f"{name}: the input is empty (no lines)")
    return lines


class Progress:
    """Timed messages on stderr (quiet with ``--quiet``)."""

    def __init__(self, quiet: bool = False):
        self.quiet = quiet
        self.t0 = time.perf_counter()

    def __call__(self, msg: str) -> None:
        if not self.quiet:
            print(f"[{time.perf_counter() - self.t0:7.2f}s] {msg}", file=sys.stderr, flush=True)


MODEL_HELP = "model: ARPA (.gz/.bz2/.xz), .lmbin, a neural model folder or a mixture .json"
NGRAM_MODEL_HELP = "n-gram model: ARPA file (.gz/.bz2/.xz too) or lmlab binary .lmbin"


# -- option values ------------------------------------------------------------------------------
def _number(kind, test, what):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {'an integer' if kind is int else 'a number'}") from None
        if not test(value):
            raise argparse.ArgumentTypeError(f"{text} is not {what}")
        return value

    parse.__name__ = what  # argparse names the type in its messages
    return parse


finite_float = _number(float, math.isfinite, "a finite number")
positive_int = _number(int, lambda v: v >= 1, "a positive integer")
nonnegative_int = _number(int, lambda v: v >= 0, "a non-negative integer")
positive_float = _number(float, lambda v: v > 0 and v != float("inf"), "a positive number")
nonnegative_float = _number(float, lambda v: 0 <= v < float("inf"), "a non-negative number")
probability = _number(float, lambda v: 0 < v <= 1, "a probability in (0, 1]")
port_number = _number(int, lambda v: 0 <= v <= 65535, "a port number (0-65535)")
column_number = _number(int, lambda v: v != 0, "a column number (from 1, or negative: from the end)")
dropout_rate = _number(float, lambda v: 0 <= v < 1, "a dropout rate in [0, 1)")
quant_bits = _number(int, lambda v: 1 <= v <= 8, "a number of bits from 1 to 8")
vocab_size = _number(int, lambda v: v >= 4, "a vocabulary size of at least 4 (3 specials + 1 word)")


def nonempty_file(text: str) -> str:
    """An input file that must hold something (a word list): an empty one is refused before any work."""
    import os

    try:
        empty = os.path.getsize(text) == 0
    except OSError as exc:
        raise argparse.ArgumentTypeError(f"{text}: {exc.strerror}") from None
    if empty:
        raise argparse.ArgumentTypeError(f"{text} is empty")
    return text


nonempty_file.__name__ = "non-empty file"


def nonempty_name(text: str) -> str:
    """A name (a tag column: upos, chunk, ...): an empty value is refused, never read as "not given"."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty name")
    return text


nonempty_name.__name__ = "name"


def output_file(text: str) -> str:
    """An output path, checked before any work is done: not a folder, in a folder that exists and
    is writable (for a symlink, the folder of the file it points at, which is what is replaced);
    ``-``, a FIFO or a device is written in place (see :func:`lmlab._io.atomic_write`): no folder check."""
    import os

    from .._io import writes_in_place

    if writes_in_place(text):  # (never a folder)
        return text
    if not text:
        raise argparse.ArgumentTypeError("an empty file name")
    if os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"{text} is a directory; give a file name to write")
    target = os.path.realpath(text) if os.path.islink(text) else text
    folder = os.path.dirname(target) or "."
    if not os.path.isdir(folder):
        raise argparse.ArgumentTypeError(f"{text}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise argparse.ArgumentTypeError(f"{text}: folder {folder} is not writable")
    return text


output_file.__name__ = "output file"


def number(x: float) -> str:
    """A number for a message: ``0.5``, not ``np.float64(0.5)`` (at most 6 significant digits)."""
    return f"{float(x):.6g}"


def numbers(xs) -> str:
    return " ".join(number(x) for x in xs)


# -- the parser ---------------------------------------------------------------------------------
def _other_spelling(opt: str) -> str | None:
    """``--max_tokens`` <-> ``--max-tokens``; None for a one-word flag."""
    if not opt.startswith("--"):
        return None
    head, eq, value = opt[2:].partition("=")
    if "_" in head:
        alt = head.replace("_", "-")
    elif "-" in head:
        alt = head.replace("-", "_")
    else:
        return None
    return "--" + alt + eq + value


# -- options that apply only with others ----------------------------------------------------------
class Applies:
    """A declaration: option ``dest`` has an effect only ``when(args)`` holds (said as ``only``,
    e.g. "with --mix").  Given on a command line where it has none, it is refused with one line
    naming it, before any work (:meth:`ArgumentParser.parse_known_args`)."""

    __slots__ = ("dest", "only", "when")

    def __init__(self, dest: str, when, only: str):
        self.dest, self.when, self.only = dest, when, only


def applies_only(parser: ArgumentParser, dest: str, when, only: str) -> None:
    """Declare that option ``dest`` of ``parser`` has an effect only when ``when(args)`` holds."""
    if not any(a.dest == dest and a.option_strings for a in parser._actions):  # noqa: SLF001
        raise ValueError(f"{parser.prog} has no option {dest!r}")  # a programming error, caught by the tests
    parser.applies.append(Applies(dest, when, only))


class _NotesGiven:
    """Mixed into every option's action: records its ``dest`` in ``namespace._given`` when the
    command line names the option (whatever the value, even the default)."""

    def __call__(self, parser, namespace, values, option_string=None):
        namespace._given = getattr(namespace, "_given", frozenset()) | {self.dest}
        super().__call__(parser, namespace, values, option_string)


def given(args) -> frozenset[str]:
    """The options (their ``dest``) named on the command line."""
    return getattr(args, "_given", frozenset())


class ArgumentParser(argparse.ArgumentParser):
    """lmlab's parser (every command's, through ``add_subparsers``).

    * Every multi-word flag takes both spellings, ``--max_tokens`` and ``--max-tokens``: the one
      not registered is rewritten to the registered one before parsing (help shows one spelling).
    * Two sources of one text (:data:`EXCLUSIVE`: ``--text`` and ``--data``...) are refused together.
    * An option given where it has no effect (declared with :func:`applies_only`) is refused.
    * An error is one line on stderr and exit code 2 (argparse prints the whole usage).
    * A failed write of ``--help`` or ``--version`` to standard output is an error (exit 2), not exit 0.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", Formatter)
        super().__init__(*args, **kwargs)
        self.applies: list[Applies] = []

    def _note_given(self) -> None:
        """Every option's action records that it was given (see :func:`given`)."""
        for action in self._actions:
            if action.option_strings and not isinstance(
                    action, argparse._HelpAction | argparse._VersionAction | _NotesGiven):  # noqa: SLF001
                action.__class__ = type(type(action).__name__, (_NotesGiven, type(action)), {})

    def flag(self, dest: str) -> str:
        """The option strings of ``dest`` as argparse names them in errors (``-q/--quantize``)."""
        action = next(a for a in self._actions if a.dest == dest and a.option_strings)
        return "/".join(action.option_strings)

    def parse_known_args(self, args=None, namespace=None):
        args = list(sys.argv[1:] if args is None else args)
        self._note_given()
        known = self._option_string_actions
        out = []
        for i, a in enumerate(args):
            if a == "--":
                out.extend(args[i:])
                break
            alt = _other_spelling(a)
            name = a.partition("=")[0]
            if alt is not None and name not in known:
                alt_name = alt.partition("=")[0]
                if any(k.startswith(alt_name) for k in known):  # argparse takes unique prefixes
                    a = alt
            out.append(a)
        ns, extras = super().parse_known_args(out, namespace)
        for a, b in EXCLUSIVE:
            if getattr(ns, a, None) is not None and getattr(ns, b, None) is not None and \
                    f"--{a}" in known and f"--{b}" in known:
                self.error(f"argument --{a}: not allowed with argument --{b} (they name the same text)")
        for rule in self.applies:
            if rule.dest in given(ns) and not rule.when(ns):
                self.error(f"argument {self.flag(rule.dest)}: applies only {rule.only}; it would have no effect here")
        return ns, extras

    def error(self, message: str):
        message = message.replace("\n", " ")
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")

    def _print_message(self, message, file=None):
        """argparse drops a failed write of ``--help`` or ``--version`` (a full disk) without a word
        and exits 0; here the OSError reaches the CLI, which reports it (exit 2, one line)."""
        if message and (file is None or file is sys.stdout):
            sys.stdout.write(message)
            sys.stdout.flush()
            return
        super()._print_message(message, file)


_RST = [(re.compile(r"^``(lmlab [^`]+)``", re.MULTILINE), r"\1"),  # a description's heading
        (re.compile(r"``(.+?)``", re.DOTALL), r"'\1'"), (re.compile(r":[a-z]+:`~?([^`]+)`"), r"\1"),
        (re.compile(r"(?<![\w`])`([^`\n]+)`(?![\w`])"), r"\1")]


def plain(text: str) -> str:
    """Docstring text without reStructuredText markup (for ``--help``)."""
    for pattern, repl in _RST:
        text = pattern.sub(repl, text)
    return text


class Formatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions and examples as written (without RST markup); every option's help ends with its
    default where it has one and the help does not already say it."""

    def _fill_text(self, text, width, indent):
        return super()._fill_text(plain(text), width, indent)

    def _get_help_string(self, action):
        help_ = plain(action.help or "")
        default = action.default
        if (action.option_strings and "%(default)" not in help_ and "default" not in help_.lower()
                and default not in (None, argparse.SUPPRESS) and not isinstance(default, bool)):
            help_ += " (default: %(default)s)"
        return help_
