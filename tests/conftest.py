"""Shared fixtures: the data folder (LMLAB_DATA), KenLM reference outputs, toy corpora."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
KENLM_REF = SHARED / "reference" / "kenlm"


def data_dir() -> Path:
    return Path(os.environ.get("LMLAB_DATA", SHARED / "data"))


@pytest.fixture(scope="session")
def data_root() -> Path:
    root = data_dir()
    if not (root / "ptb" / "ptb.train.txt").is_file():
        pytest.skip(f"datasets not found under {root} (set LMLAB_DATA)")
    return root


@pytest.fixture(scope="session")
def kenlm_ref() -> Path:
    if not (KENLM_REF / "toy.o3.arpa").is_file():
        pytest.skip(f"KenLM reference outputs not found at {KENLM_REF}")
    return KENLM_REF


def read_lines(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


@pytest.fixture(scope="session")
def ptb(data_root):
    return {s: read_lines(data_root / "ptb" / f"ptb.{s}.txt") for s in ("train", "valid", "test")}


# A corpus small enough to work out by hand (see tests/unit/test_smoothing_toy.py).
TOY = ["a b a", "b a c", "a c"]
