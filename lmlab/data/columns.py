"""CoNLL-style column files: one token a line, whitespace-separated columns, a blank line between
sentences (CoNLL-2000 chunking, CoNLL-2003-style NER, your own data).

Columns are numbered **from 1** (as ``cut -f`` and awk number them, and as the CLI's
``--word_column N --label_column M`` take them); a negative number counts from the last column
(``-1`` is the last).  Lines whose first column is ``-DOCSTART-`` are document separators and are
skipped.  Every token line of a file must have as many columns as its first token line.  A
``.conllu`` file is read as CoNLL-U (:mod:`lmlab.data.conllu`: ``#`` comments, syntactic words,
multiword-token ranges and empty nodes) and its columns are CoNLL-U's: FORM 2, LEMMA 3, UPOS 4,
XPOS 5, FEATS 6, DEPREL 8 (``--word_column 2 --label_column 4`` tags UPOS).
Chunk tags can be converted from the file's scheme to another (:mod:`lmlab.data.tagschemes`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from .._io import read_lines
from ..errors import ConfigError, CorpusError, DataFormatError
from .registry import get_file, resolve
from .tagschemes import check_scheme, check_tag, convert_tags

DOCSTART = "-DOCSTART-"


@dataclass(frozen=True)
class TaggedSentence:
    """One sentence of a tagging task: its words and one label per word."""

    words: tuple[str, ...]
    tags: tuple[str, ...]
    line: int = 0  # line number of the first word in its file (0: not from a file)


def _column_index(col: int, n_cols: int, what: str, path: str) -> int:
    if col == 0:
        raise ConfigError(f"--{what} counts columns from 1 (or from the end with -1, -2, ...); got 0")
    idx = col - 1 if col > 0 else n_cols + col
    if not 0 <= idx < n_cols:
        raise ConfigError(f"{path}: --{what} {col} is out of range: its lines have {n_cols} columns")
    return idx


def read_columns(
    path: str | os.PathLike,
    *,
    word_column: int | None = None,
    label_column: int | None = None,
    scheme: str | None = None,
    to_scheme: str | None = None,
) -> list[TaggedSentence]:
    """Sentences of a column file: the words of ``word_column`` and the labels of ``label_column``
    (columns from 1, negative from the end; by default the first and the last, and of a CoNLL-U
    file FORM and UPOS, 2 and 4).

    With ``scheme`` (``iob1``, ``iob2``, ``iobes``) every label must be a chunk tag of that scheme
    (an error names the line otherwise); with ``to_scheme`` as well the tags are converted."""
    name = str(path)
    if to_scheme is not None and scheme is None:
        raise ConfigError("converting tags (to_scheme) needs the file's own scheme (scheme)")
    src = check_scheme(scheme) if scheme else None
    dst = check_scheme(to_scheme) if to_scheme else None
    if name.lower().endswith(".conllu"):
        return _conllu_columns(name, 2 if word_column is None else word_column,
                               4 if label_column is None else label_column, src, dst)
    word_column = 1 if word_column is None else word_column
    label_column = -1 if label_column is None else label_column
    out: list[TaggedSentence] = []
    rows: list[list[str]] = []
    lines_of: list[int] = []
    n_cols = first_line = 0
    wi = li = 0

    def flush():
        if not rows:
            return
        words = tuple(r[wi] for r in rows)
        tags = [r[li] for r in rows]
        if src:
            for tag, no in zip(tags, lines_of, strict=True):
                _check_tag(tag, src, name, no)
            if dst and dst != src:
                tags = convert_tags(tags, src, dst)
        out.append(TaggedSentence(words, tuple(tags), lines_of[0]))
        rows.clear()
        lines_of.clear()

    for no, line in enumerate(read_lines(path), start=1):
        fields = line.split()
        if not fields or fields[0] == DOCSTART:
            flush()
            continue
        if not n_cols:
            n_cols, first_line = len(fields), no
            wi = _column_index(word_column, n_cols, "word_column", name)
            li = _column_index(label_column, n_cols, "label_column", name)
            if wi == li:
                _same_column(name, word_column, label_column, wi + 1, n_cols)
        elif len(fields) != n_cols:
            raise DataFormatError(name, no, f"expected {n_cols} whitespace-separated columns (as on line "
                                  f"{first_line}), found {len(fields)}", line)
        rows.append(fields)
        lines_of.append(no)
    flush()
    if not out:
        raise CorpusError(f"{name}: no sentences (the file has only blank lines); expected one word a line, "
                          "its columns separated by whitespace, sentences separated by a blank line")
    return out


# CoNLL-U's columns (ID FORM LEMMA UPOS XPOS FEATS HEAD DEPREL DEPS MISC) that a tagger can read
CONLLU_COLUMNS = {2: ("FORM", "words"), 3: ("LEMMA", "lemmas"), 4: ("UPOS", "upos"), 5: ("XPOS", "xpos"),
                  6: ("FEATS", "feats"), 8: ("DEPREL", "deprels")}


def _conllu_columns(name: str, word_column: int, label_column: int, src: str | None,
                    dst: str | None) -> list[TaggedSentence]:
    """:func:`read_columns` of a CoNLL-U file: its syntactic words (lmlab.data.conllu)."""
    from .conllu import read_conllu

    fields = []
    for col, what in ((word_column, "word_column"), (label_column, "label_column")):
        if col == 0:
            raise ConfigError(f"--{what} counts columns from 1 (or from the end with -1, -2, ...); got 0")
        n = col if col > 0 else 11 + col  # CoNLL-U has 10 columns
        if n not in CONLLU_COLUMNS:
            known = ", ".join(f"{k} ({v[0]})" for k, v in CONLLU_COLUMNS.items())
            raise ConfigError(f"{name}: --{what} {col} is not a CoNLL-U column a tagger reads; they are {known} "
                              "(e.g. --word_column 2 --label_column 4 for UPOS)")
        fields.append(CONLLU_COLUMNS[n][1])
        if len(fields) == 2 and fields[0] == fields[1]:
            _same_column(name, word_column, label_column, n, 10)
    out = []
    for s in read_conllu(name):
        words, tags = getattr(s, fields[0]), list(getattr(s, fields[1]))
        if src:
            for tag in tags:
                _check_tag(tag, src, name, s.line)
            if dst and dst != src:
                tags = convert_tags(tags, src, dst)
        out.append(TaggedSentence(tuple(words), tuple(tags), s.line))
    if not out:
        raise CorpusError(f"{name}: no sentences (a CoNLL-U file holds word lines, sentences separated by a blank line)")
    return out


def _same_column(name: str, word_column: int, label_column: int, col: int, n_cols: int) -> None:
    """A file whose words would be their own tags (a one-column file, or both options naming one column)."""
    raise ConfigError(f"{name}: --word_column {word_column} and --label_column {label_column} are the same column "
                      f"({col} of its {n_cols}): the words would be their own tags; a tagging file needs a word "
                      "column and a tag column")


def _check_tag(tag: str, scheme: str, path: str, line_no: int) -> None:
    try:
        check_tag(tag, scheme)
    except ConfigError as exc:
        raise DataFormatError(path, line_no, str(exc)) from None


CONLL2000_COLUMNS = {"chunk": 3, "pos": 2}  # word POS chunk


def conll2000(split: str, labels: str = "chunk") -> list[TaggedSentence]:
    """CoNLL-2000 chunking (``train`` or ``test``): words and their IOB2 chunk tags (``labels=
    "chunk"``), or their gold POS tags (``labels="pos"``)."""
    if labels not in CONLL2000_COLUMNS:
        raise ConfigError(f"conll2000 has labels {' and '.join(CONLL2000_COLUMNS)}; got {labels!r}")
    get_file("conll2000", split)
    return read_columns(resolve("conll2000", split), word_column=1, label_column=CONLL2000_COLUMNS[labels],
                        scheme="iob2" if labels == "chunk" else None)
