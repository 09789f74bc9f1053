"""``lmlab <command>``: the command registry and error handling.

Every :class:`~lmlab.errors.LmlabError`, every ``OSError`` (a path that is a directory, an
unwritable folder, a full disk, standard output included) and every bad option becomes exit code 2
and a one-line message on stderr, with no traceback.  SIGTERM (what ``timeout`` and schedulers send)
is handled as Ctrl-C is: the writer's temp file is removed, an existing output file is left
untouched, and the exit code is 143 (130 for Ctrl-C).
"""

from __future__ import annotations

import errno
import importlib
import os
import re
import signal
import sys

from .._version import __version__
from ..errors import LmlabError
from ._common import ArgumentParser

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
    "predict": "predict",
    "evaluate": "evaluate",
    "translate": "translate",
    "encode": "encode",
    "complete": "complete",
    "score": "score",
    "rerank": "rerank",
    "generate": "generate",
    "serve": "serve",
    "data": "data",
    "diagnose": "diagnose",
    "report": "report",
}


def build_parser(command: str | None = None) -> ArgumentParser:
    """The full parser; given ``command``, only that command's module (and what it imports) is
    loaded and the others are bare names: ``lmlab ngram`` starts without importing the neural,
    server or evaluation code."""
    parser = ArgumentParser(
        prog="lmlab",
        description="Language modelling toolkit: n-gram (KenLM-compatible) and neural LMs.",
        epilog="Run 'lmlab COMMAND --help' for the options and examples of each command.  "
               "Multi-word flags take either spelling: --max_tokens or --max-tokens.",
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


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is, so every writer cleans up as it does for Ctrl-C."""


def _on_sigterm(signum, frame):
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second SIGTERM ends the process at once
    raise Terminated


# errors of a write that names no file: in the CLI that is standard output (`lmlab ngram > /dev/full`)
_WRITE_ERRNOS = {errno.ENOSPC, errno.EPIPE, errno.EFBIG, errno.EIO, getattr(errno, "EDQUOT", errno.ENOSPC)}


def _oserror_message(exc: OSError) -> str:
    reason = exc.strerror or str(exc)
    if exc.filename is not None:
        where = f"{exc.filename}" + (f" -> {exc.filename2}" if exc.filename2 is not None else "")
        return f"{where}: {reason}"
    if exc.errno in _WRITE_ERRNOS:
        return f"standard output: {reason}"
    return reason


def _silence_stdout() -> None:
    """After a failed write to stdout, point it at /dev/null so the interpreter's final flush of
    what is still buffered cannot fail again (and print a second message)."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # replaced (e.g. captured by a test)
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


def main(argv: list[str] | None = None) -> int:
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `lmlab query ... | head` ends quietly
    argv = sys.argv[1:] if argv is None else list(argv)
    first = next((a for a in argv if not a.startswith("-")), None)  # the command (top level has no values)
    command = first if first in COMMANDS else None
    parser = build_parser(command)
    try:
        old_term = signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # not the main thread (main() called from a thread): leave signals alone
        old_term = None
    try:
        try:
            args, extras = parser.parse_known_args(argv)
            if extras:  # name the command whose options they are not, and point to its own help
                sub = parser._subparsers._group_actions[0].choices.get(getattr(args, "command", None), parser)  # noqa: SLF001
                sub.error(f"unrecognized arguments: {' '.join(extras)}")
        except SystemExit as exc:  # --help, --version, a bad option (one line on stderr, exit 2)
            code = exc.code if isinstance(exc.code, int) else 2
        else:
            if args.command in INFERENCE:
                from .._threads import limit_numpy_blas_threads

                limit_numpy_blas_threads(1)
            code = int(args._run(args) or 0)
        sys.stdout.flush()  # a failed write of what is still buffered is reported here, not at exit
        return code
    except LmlabError as exc:
        return _fail(command, str(exc))
    except OSError as exc:
        if exc.filename is None and exc.errno in _WRITE_ERRNOS:
            _silence_stdout()
        return _fail(command, _oserror_message(exc))
    except Terminated:
        print("lmlab: terminated", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print("lmlab: interrupted", file=sys.stderr)
        return 130
    finally:
        if old_term is not None:
            signal.signal(signal.SIGTERM, old_term)


# numpy scalars in a message read as np.float64(0.5): print the number
_NUMPY_REPR = re.compile(r"\bnp\.(?:float|int|uint|bool_)\w*\(([^()]*)\)")


def _fail(command: str | None, msg: str) -> int:
    msg = _NUMPY_REPR.sub(r"\1", msg.replace("\n", " "))
    print(f"lmlab {command}: error: {msg}" if command else f"lmlab: error: {msg}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
