"""ARPA files in and out (plain, .gz, .bz2, .xz).  log10 lives here and in the tables only.

Writing: values are float32 printed with ``%.9g``, which round-trips float32 exactly, so
write -> read gives identical scores.  lmlab writes a few ``#`` comment lines before ``\\data\\``
(KenLM accepts and skips them) that record how the model was made and its tokenizer.

Reading: every line is checked and any problem raises :class:`ArpaFormatError` naming the line
number, the line and what was expected, whichever of the three reading paths (compiled,
vectorised, line by line; see :func:`read_arpa`) reads the file.  Fields are separated by any run
of spaces and tabs, and spaces and tabs at line ends are ignored (as SRILM reads them; KenLM wants
tabs); any other character, other Unicode or control whitespace included (U+000B, U+00A0,
U+3000, ...), is part of a word, as in KenLM; numbers are ASCII decimals and finite, the counts
of ``ngram N=COUNT`` ASCII digits only (no sign, ``_`` or other scripts' digits), and
``ngram 1=0`` (no unigrams) is refused; a blank line ends a section, so one inside a
section is an error; nothing but blank lines may follow ``\\end\\``; an n-gram listed twice is
an error.  A model without ``<unk>`` gets one with log10 probability -100 (as KenLM's
``build_binary`` does); an n-gram whose prefix or suffix is missing (SRILM's pruning leaves
them) gets "blank" entries for them, whose probability is computed by backing off and whose
backoff is 0, so that every query path scores the file as the backoff rule does.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from typing import BinaryIO

import numpy as np

from ..._io import atomic_write, decode_utf8, read_bytes
from ...errors import LmlabError
from ...text.vocab import Vocab
from .arpa_text import META_PREFIX, _Lines, _read, _read_compiled
from .tables import BackoffTables


# ---------------------------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------------------------
def _ngram_strings(tables: BackoffTables, vocab: Vocab) -> Iterator[list[str]]:
    """Per order, the text of every n-gram (words joined by single spaces), in id order."""
    toks = list(vocab.tokens)
    prev = toks
    yield prev
    V = tables.vocab_size
    for m in range(2, tables.order + 1):
        keys = tables.keys[m - 1]
        prefix = (keys // V).tolist()
        word = (keys % V).tolist()
        cur = [prev[p] + " " + toks[w] for p, w in zip(prefix, word, strict=True)]
        yield cur
        prev = cur


def _fmt(values: np.ndarray) -> list[str]:
    if np.dtype(values.dtype) == np.float64:
        return [repr(v) for v in values.tolist()]
    return [f"{v:.9g}" for v in values.astype(np.float32).tolist()]


def check_arpa_words(vocab: Vocab) -> None:
    """ARPA separates fields by spaces and tabs: a token that is empty or holds a space, tab, CR or
    newline (a character model's tab, say) cannot be written and read back.  Other characters,
    other whitespace (a no-break space) included, are part of a word (see the reading rules)."""
    bad = [t for t in vocab.tokens if not t or any(c in t for c in " \t\r\n")]
    if bad:
        shown = ", ".join(repr(t) for t in bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
        raise LmlabError(f"the vocabulary has tokens that contain whitespace ({shown}); ARPA separates fields "
                         "by spaces and tabs and cannot hold them: save the model in lmlab's binary format "
                         "(to_binary / lmlab convert) instead")


def arpa_chunks(tables: BackoffTables, vocab: Vocab, meta: dict | None = None) -> Iterator[bytes]:
    """The ARPA text of a model as a stream of UTF-8 byte chunks."""
    check_arpa_words(vocab)
    head = []
    if meta is not None:
        head.append(META_PREFIX + json.dumps(meta, sort_keys=True, ensure_ascii=False))
        head.append(META_PREFIX + json.dumps({"tokenizer": vocab.tokenizer.to_dict()}, sort_keys=True))
    head.append("\\data\\")
    head += [f"ngram {m}={n}" for m, n in enumerate(tables.sizes(), start=1)]
    yield ("\n".join(head) + "\n").encode("utf-8")
    if np.dtype(tables.logprob10[0].dtype) == np.float32:
        from .arpa_writer import arpa_sections

        for m, body in enumerate(arpa_sections(tables, list(vocab.tokens)), start=1):
            yield f"\n\\{m}-grams:\n".encode()
            yield from body
    else:  # double-precision tables (nltk compatibility): Python formatting, 17 digits
        for m, strings in enumerate(_ngram_strings(tables, vocab), start=1):
            probs = _fmt(tables.logprob10[m - 1])
            out = io.StringIO()
            out.write(f"\n\\{m}-grams:\n")
            if m < tables.order:
                backs = _fmt(tables.backoff10[m - 1])
                out.writelines(f"{p}\t{s}\t{b}\n" for p, s, b in zip(probs, strings, backs, strict=True))
            else:
                out.writelines(f"{p}\t{s}\n" for p, s in zip(probs, strings, strict=True))
            yield out.getvalue().encode("utf-8")
    yield b"\n\\end\\\n"


def write_arpa(
    tables: BackoffTables, vocab: Vocab, path: str | os.PathLike | BinaryIO, meta: dict | None = None
) -> None:
    """Write an ARPA file atomically to ``path`` (compressed by suffix), or to an open stream."""
    if hasattr(path, "write"):
        for chunk in arpa_chunks(tables, vocab, meta):
            path.write(chunk)  # type: ignore[union-attr]
        return
    with atomic_write(path) as fh:  # type: ignore[arg-type]
        for chunk in arpa_chunks(tables, vocab, meta):
            fh.write(chunk)


# ---------------------------------------------------------------------------------------------
# reading (the readers themselves: :mod:`.arpa_text` and :mod:`.arpa_reader`)
# ---------------------------------------------------------------------------------------------
def read_arpa(path: str | os.PathLike, *, strict: bool = False) -> tuple[BackoffTables, Vocab, dict]:
    """Read an ARPA file.  Returns ``(tables, vocab, meta)`` (meta: lmlab's header, if any).

    Three paths give the same result: a compiled reader (:mod:`.arpa_reader`) parses regular files
    straight from their bytes; a vectorised one parses a section whose every line has the same
    number of fields at once; the line-by-line reader parses the rest and names the offending
    line.  Any irregularity makes the faster paths step aside, so a malformed file always reaches
    the line-by-line reader.  ``strict=True`` uses only that one (the reference the faster paths
    are tested against)."""
    name = str(path)
    data = read_bytes(path)
    if not strict:
        fast = _read_compiled(data, name)
        if fast is not None:
            return fast
    return _read(_Lines(decode_utf8(data, name), name), vectorised=not strict)
