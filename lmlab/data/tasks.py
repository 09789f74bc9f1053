"""Named text-classification tasks on the shared corpora: ``(label, text)`` pairs per split.

* ``sst2``: Stanford Sentiment Treebank, binary, its own train/test split (labels ``0``/``1``).
* ``shakespeare-speakers``: authorship — which character speaks this speech?  The ten speakers of
  Tiny Shakespeare with the most speeches; every fifth speech of each speaker (the 5th, 10th, ...
  in file order) is test, the rest train.  The rule is fixed in advance, not tuned.
"""

from __future__ import annotations

from collections import Counter

from .._io import read_lines
from ..errors import ConfigError
from .readers import tinyshakespeare_speeches
from .registry import resolve

SPEAKERS = 10  # the most frequent speakers of tiny-shakespeare
TEST_EVERY = 5  # every fifth speech of each speaker is test


def _sst2(split: str) -> list[tuple[str, str]]:
    rows = []
    for no, line in enumerate(read_lines(resolve("sst2", split)), start=1):
        label, _, text = line.partition(" ")
        if label not in ("0", "1") or not text:
            raise ConfigError(f"sst2 {split}: line {no} is not 'LABEL TEXT'")
        rows.append((label, text))
    return rows


def _speakers(split: str) -> list[tuple[str, str]]:
    speeches = tinyshakespeare_speeches()
    top = {s for s, _ in Counter(s for s, _ in speeches).most_common(SPEAKERS)}
    seen: Counter[str] = Counter()
    out = []
    for speaker, text in speeches:
        if speaker not in top:
            continue
        seen[speaker] += 1
        if (seen[speaker] % TEST_EVERY == 0) == (split == "test"):
            out.append((speaker, text))
    return out


TASKS = {"sst2": _sst2, "shakespeare-speakers": _speakers}


def classification_task(name: str, split: str) -> list[tuple[str, str]]:
    """``(label, text)`` pairs of a named task's split (``train`` or ``test``)."""
    if name not in TASKS:
        raise ConfigError(f"unknown classification task {name!r}; known: {', '.join(TASKS)}")
    if split not in ("train", "test"):
        raise ConfigError(f"a classification task has splits train and test, got {split!r}")
    return TASKS[name](split)


def parse_labeled(lines: list[str], name: str = "<labeled>") -> list[tuple[str, str]]:
    """``LABEL<TAB>TEXT`` lines (or ``LABEL TEXT``, SST's format, when no line has a tab)."""
    sep = "\t" if any("\t" in ln for ln in lines) else " "
    out = []
    for no, ln in enumerate(lines, start=1):
        if not ln.strip():
            continue
        label, found, text = ln.partition(sep)
        if not found or not label.strip() or not text.strip():
            raise ConfigError(f"{name}: line {no}: expected LABEL{'<TAB>' if sep == chr(9) else ' '}TEXT, got {ln[:60]!r}")
        out.append((label.strip(), text.strip()))
    return out
