"""Named tasks on the shared corpora: ``(label, text)`` pairs for classification, tagged sentences
for tagging (:func:`tagging_task`).

* ``sst2``, ``sst5``: Stanford Sentiment Treebank, sentence level, binary (labels ``0``/``1``) and
  five classes (``0`` very negative .. ``4`` very positive), their own train/valid (dev)/test split.
* ``mr``: Movie Review polarity (Pang & Lee 2005; labels ``0``/``1``), no official split: 10-fold
  cross-validation with the fixed assignment of :func:`folds` (``classification_task("mr", "test",
  fold=3)`` is fold 3, ``"train"`` the other nine).  The file is Latin-1 (Windows-1252: its bytes
  0x85, 0x91, 0x92, 0x96, 0x97 are punctuation there) and is decoded as cp1252.
* ``shakespeare-speakers``: authorship — which character speaks this speech?  The ten speakers of
  Tiny Shakespeare with the most speeches; every fifth speech of each speaker (the 5th, 10th, ...
  in file order) is test, the rest train.  The rule is fixed in advance, not tuned.
"""

from __future__ import annotations

from collections import Counter

from .._io import read_bytes, read_lines
from ..errors import ConfigError, CorpusError, DataFormatError
from .columns import TaggedSentence, conll2000
from .conllu import ud_english_ewt
from .readers import tinyshakespeare_speeches
from .registry import SPLIT_ALIASES, resolve
from .tagschemes import check_tag

SPEAKERS = 10  # the most frequent speakers of tiny-shakespeare
TEST_EVERY = 5  # every fifth speech of each speaker is test


MR_FOLDS = 10


def _label_text(lines: list[str], path, labels: tuple[str, ...]) -> list[tuple[str, str]]:
    rows = []
    for no, line in enumerate(lines, start=1):
        label, _, text = line.partition(" ")
        if label not in labels or not text.strip():
            raise DataFormatError(str(path), no, f"expected 'LABEL TEXT' with LABEL one of {', '.join(labels)}", line)
        rows.append((label, text.strip()))
    return rows


def _sst(name: str, labels: tuple[str, ...]):
    def read(split: str, fold: int | None = None) -> list[tuple[str, str]]:
        _no_fold(name, fold)
        path = resolve(name, split)
        return _label_text(read_lines(path), path, labels)
    return read


def _no_fold(name: str, fold: int | None) -> None:
    if fold is not None:
        raise ConfigError(f"{name} has its own splits; fold= is only for mr (cross-validation)")


def mr_examples() -> list[tuple[str, str]]:
    """All 10,662 MR ``(label, text)`` pairs in file order."""
    path = resolve("mr", "all")
    data = read_bytes(path)
    try:
        text = data.decode("cp1252")  # every byte of the shipped file is defined in cp1252
    except UnicodeDecodeError as exc:
        raise DataFormatError(str(path), data.count(b"\n", 0, exc.start) + 1,
                              f"expected Latin-1 (cp1252) text, found byte 0x{data[exc.start]:02x}") from None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return _label_text([ln.rstrip("\r") for ln in lines], path, ("0", "1"))


def stratified_folds(labels: list[str], k: int) -> list[list[int]]:
    """A fixed ``k``-fold partition of ``range(len(labels))``, balanced per label.

    The examples of each label, in their order, are dealt to folds 0, 1, ..., k-1, 0, 1, ... (no
    random numbers: the same folds on every run and machine).  Each fold then holds
    ``n_label // k`` or one more examples of every label."""
    if k < 2 or k > len(labels):
        raise ConfigError(f"cross-validation needs 2 <= k <= {len(labels)} folds; got {k}")
    out: list[list[int]] = [[] for _ in range(k)]
    seen: Counter[str] = Counter()
    for i, label in enumerate(labels):
        out[seen[label] % k].append(i)
        seen[label] += 1
    return out


def folds(k: int = MR_FOLDS) -> list[list[int]]:
    """MR's fixed ``k``-fold assignment: lists of indices into :func:`mr_examples`."""
    return stratified_folds([label for label, _ in mr_examples()], k)


def _mr(split: str, fold: int | None = None) -> list[tuple[str, str]]:
    rows = mr_examples()
    if split == "all" and fold is None:
        return rows
    if fold is None or split not in ("train", "test"):
        raise ConfigError(f"mr has no fixed split: give split 'all', or 'train'/'test' with a test fold 0..{MR_FOLDS - 1} "
                          f"(--fold K; fold=K from Python) ({MR_FOLDS}-fold cross-validation)")
    parts = folds()
    if not 0 <= fold < len(parts):
        raise ConfigError(f"mr fold must be 0..{len(parts) - 1}; got {fold}")
    test = set(parts[fold])
    return [r for i, r in enumerate(rows) if (i in test) == (split == "test")]


def _speakers(split: str, fold: int | None = None) -> list[tuple[str, str]]:
    _no_fold("shakespeare-speakers", fold)
    if split not in ("train", "test"):
        raise ConfigError(f"shakespeare-speakers has splits train and test, got {split!r}")
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


TASKS = {"sst2": _sst("sst2", ("0", "1")), "sst5": _sst("sst5", ("0", "1", "2", "3", "4")), "mr": _mr,
         "shakespeare-speakers": _speakers}


def classification_task(name: str, split: str, fold: int | None = None) -> list[tuple[str, str]]:
    """``(label, text)`` pairs of a named task's split (``train``, ``valid`` (``dev``), ``test``;
    for ``mr``: ``all``, or ``train``/``test`` of cross-validation fold ``fold``)."""
    if name not in TASKS:
        raise ConfigError(f"unknown classification task {name!r}; known: {', '.join(TASKS)}")
    return TASKS[name](SPLIT_ALIASES.get(split, split), fold)


#: every DEV_EVERY-th training example of each label is the dev split of a task without one
DEV_EVERY = 10
WITH_DEV = ("sst2", "sst5")  # the classification tasks with their own dev split


def hold_out_dev(examples: list[tuple[str, str]], every: int = DEV_EVERY) -> tuple[list, list]:
    """``(train, dev)`` of ``(label, text)`` pairs without a dev split: the first fold of
    :func:`stratified_folds` (``k = every``) is dev -- the 1st, 11th, 21st, ... example of each
    label in their order --, the rest train.  No random numbers: the same split on every run."""
    if len(examples) < 2 * every:
        raise ConfigError(f"{len(examples)} training examples are too few to hold out a dev split "
                          f"(1 in {every} of each label): give a dev file")
    dev = set(stratified_folds([label for label, _ in examples], every)[0])
    return ([x for i, x in enumerate(examples) if i not in dev], [x for i, x in enumerate(examples) if i in dev])


def classification_split(name: str, split: str, fold: int | None = None) -> list[tuple[str, str]]:
    """The ``train``/``valid``/``test`` split a classifier trains and is scored on: SST's own
    splits; for a task without a dev split (``mr`` with ``fold``, ``shakespeare-speakers``) the
    dev split is :func:`hold_out_dev` of its training examples, and ``train`` is the rest."""
    split = SPLIT_ALIASES.get(split, split)
    if name in WITH_DEV or split not in ("train", "valid"):
        return classification_task(name, split, fold)
    train, dev = hold_out_dev(classification_task(name, "train", fold))
    return train if split == "train" else dev


TAGGING_TASKS = {"ud-english-ewt": ("upos", "xpos"), "conll2000": ("chunk", "pos")}  # first: the default


def tagging_task(name: str, split: str, labels: str | None = None, scheme: str | None = None) -> list[TaggedSentence]:
    """Tagged sentences of a named tagging task: ``ud-english-ewt`` (labels ``upos``, ``xpos``;
    splits train/valid (dev)/test) or ``conll2000`` (labels ``chunk``, ``pos``; train/test).
    With ``scheme`` every tag is checked to be a chunk tag of it.  A column file of your own:
    :func:`lmlab.data.columns.read_columns`."""
    if name not in TAGGING_TASKS:
        raise ConfigError(f"unknown tagging task {name!r}; known: {', '.join(TAGGING_TASKS)}")
    labels = TAGGING_TASKS[name][0] if labels is None else labels
    sentences = conll2000(split, labels) if name == "conll2000" else ud_english_ewt(split, labels)
    if scheme is not None:  # every tag must be a chunk tag of the scheme: an error names the set, split and line
        for i, s in enumerate(sentences, start=1):
            for j, tag in enumerate(s.tags, start=1):
                try:
                    check_tag(tag, scheme)
                except ConfigError as exc:
                    at = f"the sentence at line {s.line}" if s.line else f"sentence {i}"
                    raise ConfigError(f"--data {name} (split {split}, labels {labels}): {at}, word {j}: {exc}") from None
    return sentences


def parse_labeled(lines: list[str], name: str = "<labeled>") -> list[tuple[str, str]]:
    """``LABEL<TAB>TEXT`` lines (or ``LABEL TEXT``, SST's format, when no line has a tab)."""
    tabbed = next((no for no, ln in enumerate(lines, start=1) if "\t" in ln), None)
    sep = " " if tabbed is None else "\t"
    out = []
    for no, ln in enumerate(lines, start=1):
        if not ln.strip():
            continue
        label, found, text = ln.partition(sep)
        if not found and tabbed is not None and " " in ln.strip():  # a LABEL TEXT line in a file that has a tab
            raise ConfigError(f"{name}: line {no}: no tab, but line {tabbed} has one: expected LABEL<TAB>TEXT on "
                              f"every line (or LABEL TEXT with no tab anywhere), got {ln[:60]!r}")
        if not found or not label.strip() or not text.strip():
            raise ConfigError(f"{name}: line {no}: expected LABEL{'<TAB>' if sep == chr(9) else ' '}TEXT, got {ln[:60]!r}")
        out.append((label.strip(), text.strip()))
    if not out:
        raise CorpusError(f"{name}: no labelled lines (only blank lines); expected LABEL<TAB>TEXT lines")
    return out
