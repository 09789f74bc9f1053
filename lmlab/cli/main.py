"""``lmlab <command>``: the command registry and error handling.

Every :class:`~lmlab.errors.LmlabError` becomes exit code 2 and a one-line message on stderr,
with no traceback.
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys

from .._version import __version__
from ..errors import LmlabError

# commands that step models token by token: numpy's BLAS runs single-threaded (see lmlab/_threads.py)
INFERENCE = {"demo", "perplexity", "compare", "mix", "classify", "complete", "score", "rerank", "generate", "serve"}

# command -> module under lmlab.cli with add_parser(subparsers) and run(args)
COMMANDS = {
    "demo": "demo",
    "ngram": "ngram",
    "query": "query",
    "prune": "prune",
    "convert": "convert",
    "perplexity": "perplexity",
    "compare": "compare",
    "mix": "mix",
    "classify": "classify",
    "train": "train",
    "complete": "complete",
    "score": "score",
    "rerank": "rerank",
    "generate": "generate",
    "serve": "serve",
    "data": "data",
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The full parser; given ``command``, only that command's module (and what it imports) is
    loaded and the others are bare names: ``lmlab ngram`` starts without importing the neural,
    server or evaluation code."""
    parser = argparse.ArgumentParser(
        prog="lmlab",
        description="Language modelling toolkit: n-gram (KenLM-compatible) and neural LMs.",
        epilog="Run 'lmlab COMMAND --help' for the options and examples of each command.",
    )
    parser.add_argument("--version", action="version", version=f"lmlab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, module in COMMANDS.items():
        if command is not None and name != command:
            sub.add_parser(name)
            continue
        mod = importlib.import_module(f"{__package__}.{module}")
        p = mod.add_parser(sub)
        p.set_defaults(_run=mod.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `lmlab query ... | head` ends quietly
    argv = sys.argv[1:] if argv is None else list(argv)
    first = next((a for a in argv if not a.startswith("-")), None)  # the command (top level has no values)
    parser = build_parser(first if first in COMMANDS else None)
    args = parser.parse_args(argv)
    if args.command in INFERENCE:
        from .._threads import limit_numpy_blas_threads

        limit_numpy_blas_threads(1)
    try:
        return int(args._run(args) or 0)
    except LmlabError as exc:
        msg = str(exc).replace("\n", " ")
        print(f"lmlab {args.command}: error: {msg}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("lmlab: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
