"""Feature files: one whitespace-separated float vector per line, aligned line by line with a text file.

A conditional LM (``lmlab train --kind conditional-lm --train TEXT --features FILE``) generates
line ``i`` of the text from vector ``i`` of the feature file, as image captioning conditions on
image features.  Every line must hold the same number of floats (the first line's, or the
dimension a model was trained with): a line with another count, a value that is not a finite
float, or an empty line is an error naming the file, the line number and what was expected; a
feature file and a text file with different line counts are an error naming both counts.
``lmlab encode`` writes this format (an encoder-decoder's context vectors), atomically.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence

import numpy as np

from .._io import atomic_write, read_lines
from ..errors import CorpusError, DataFormatError


def parse_features(lines: Sequence[str], name: str, dim: int | None = None) -> np.ndarray:
    """The ``(N, F)`` float64 vectors of feature-file ``lines`` (``dim``: the dimension they must have)."""
    if not lines:
        raise CorpusError(f"{name}: no feature vectors (the file is empty)")
    rows = []
    for no, line in enumerate(lines, start=1):
        fields = line.split()
        if dim is None:
            dim = len(fields)
            if dim == 0:
                raise DataFormatError(name, no, "a feature vector (whitespace-separated floats), found an empty line")
        if len(fields) != dim:
            raise DataFormatError(name, no, f"expected a vector of dimension {dim}, found {len(fields)} values")
        try:
            row = [float(x) for x in fields]
        except ValueError:
            bad = next(x for x in fields if not _is_float(x))
            raise DataFormatError(name, no, f"expected {dim} floats, found {bad[:40]!r}, not a number") from None
        if not all(math.isfinite(x) for x in row):
            bad = next(x for x, v in zip(fields, row, strict=True) if not math.isfinite(v))
            raise DataFormatError(name, no, f"expected {dim} finite floats, found {bad!r}")
        rows.append(row)
    return np.asarray(rows, dtype=np.float64)


def _is_float(x: str) -> bool:
    try:
        float(x)
    except ValueError:
        return False
    return True


def read_features(path: str | os.PathLike, dim: int | None = None) -> np.ndarray:
    """The vectors of a feature file (see the module docstring)."""
    return parse_features(read_lines(path), str(path), dim)


def check_aligned(text_name: str, n_text: int, features_name: str, n_features: int) -> None:
    """A text and its feature file must have one vector per line: an error naming both counts."""
    if n_text != n_features:
        raise CorpusError(f"{text_name} has {n_text} lines but {features_name} has {n_features} feature vectors; "
                          "a feature file must have one vector per line of its text")


def read_aligned(text: str | os.PathLike, features: str | os.PathLike,
                 dim: int | None = None) -> tuple[list[str], np.ndarray]:
    """(lines of ``text``, their vectors from ``features``), checked to be line-aligned."""
    lines = read_lines(text)
    if not lines:
        raise CorpusError(f"{text}: the text is empty (no lines)")
    vectors = read_features(features, dim)
    check_aligned(str(text), len(lines), str(features), len(vectors))
    return lines, vectors


def format_vector(v: np.ndarray) -> str:
    """One line of the format: ``repr``-exact floats (float32 values round-trip), space-separated."""
    return " ".join(repr(float(x)) for x in np.asarray(v, dtype=np.float64).ravel())


def write_features(path: str | os.PathLike, vectors: np.ndarray) -> None:
    """Write ``(N, F)`` vectors as a feature file, atomically."""
    with atomic_write(path) as f:
        for v in np.asarray(vectors):
            f.write((format_vector(v) + "\n").encode("ascii"))


__all__ = ["check_aligned", "format_vector", "parse_features", "read_aligned", "read_features", "write_features"]
