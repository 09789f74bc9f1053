"""Helpers shared by the subcommands: reading input text, progress messages."""

from __future__ import annotations

import argparse
import sys
import time

from .._io import read_lines, read_stream_lines


def input_lines(path: str | None, data: str | None = None, split: str = "train") -> list[str]:
    """Lines from a file, a named dataset split, or stdin (strict UTF-8)."""
    if data:
        from ..data.readers import lm_lines

        return lm_lines(data, split)
    if path and path != "-":
        return read_lines(path)
    return read_stream_lines(sys.stdin.buffer, "<stdin>")


class Progress:
    """Timed messages on stderr (quiet with ``--quiet``)."""

    def __init__(self, quiet: bool = False):
        self.quiet = quiet
        self.t0 = time.perf_counter()

    def __call__(self, msg: str) -> None:
        if not self.quiet:
            print(f"[{time.perf_counter() - self.t0:7.2f}s] {msg}", file=sys.stderr, flush=True)


class Formatter(argparse.RawDescriptionHelpFormatter):
    pass
