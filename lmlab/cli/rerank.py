"""``lmlab rerank``: see :mod:`lmlab.cli.score`."""

from .score import add_rerank_parser as add_parser
from .score import run_rerank as run

__all__ = ["add_parser", "run"]
