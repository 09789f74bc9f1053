"""Parallel text: line-aligned source and target files (Multi30k, your own translation data)."""

from __future__ import annotations

import os

from .._io import read_lines
from ..errors import ConfigError, CorpusError
from .registry import SPLIT_ALIASES, resolve

MULTI30K_LANGS = ("en", "de")
MULTI30K_SPLITS = {"train": "train", "valid": "val", "test": "test_2016_flickr"}  # our name: file stem


def read_parallel(source: str | os.PathLike, target: str | os.PathLike) -> list[tuple[str, str]]:
    """``(source line, target line)`` pairs of two line-aligned files.

    Files with different numbers of lines are an error naming both files and both counts."""
    src, tgt = read_lines(source), read_lines(target)
    if len(src) != len(tgt):
        raise CorpusError(f"{source} has {len(src)} lines but {target} has {len(tgt)}; the source and "
                          "target files of a parallel corpus must be line-aligned")
    return list(zip(src, tgt, strict=True))


def multi30k(split: str, source: str = "en", target: str = "de", *, tokenized: bool = True) -> list[tuple[str, str]]:
    """Multi30k task 1 sentence pairs of ``split`` (``train``, ``valid``/``val``,
    ``test``/``test_2016_flickr``).

    ``tokenized`` (the default): the lowercased, normalised, tokenised files (``tok/*.lc.norm.tok.*``:
    split each line on spaces for its tokens); else the raw files (cased, untokenised: the
    references of detokenised BLEU)."""
    problems = []
    for what, lang in (("source", source), ("target", target)):
        if lang not in MULTI30K_LANGS:
            problems.append(f"multi30k has languages {' and '.join(MULTI30K_LANGS)}; --{what} {lang!r} is not one")
    if source == target:
        problems.append(f"--source and --target are both {source!r}")
    split = SPLIT_ALIASES.get(split, split)
    split = {stem: ours for ours, stem in MULTI30K_SPLITS.items()}.get(split, split)
    if split not in MULTI30K_SPLITS:
        problems.append(f"multi30k has splits train, valid (val) and test (test_2016_flickr); got {split!r}")
    if problems:
        raise ConfigError(problems)
    suffix = "" if tokenized else ".raw"
    return read_parallel(resolve("multi30k", f"{split}.{source}{suffix}"),
                         resolve("multi30k", f"{split}.{target}{suffix}"))
