"""Reading ARPA text in Python: the vectorised and the line-by-line readers behind
:func:`.arpa.read_arpa`, and the driver of the compiled one (:mod:`.arpa_reader`).  Every check
of the format lives here (see :mod:`.arpa`'s docstring for the rules); an irregularity names the
line, the line's text and what was expected.
"""

from __future__ import annotations

import json
import re

import numpy as np

from ...errors import ArpaFormatError, LmlabError
from ...text.specials import BOS, EOS, UNK
from ...text.tokenize import Tokenizer
from ...text.vocab import Vocab
from .tables import BackoffTables

META_PREFIX = "# lmlab: "
UNK_LOG10_DEFAULT = -100.0

class _Lines:
    """Numbered lines of a whole (decoded) file."""

    def __init__(self, text: str, name: str):
        if "\r" in text:
            text = text.replace("\r\n", "\n")
        self.lines = text.split("\n")
        if self.lines and self.lines[-1] == "":
            self.lines.pop()
        self.name, self.no = name, 0

    def next(self) -> str | None:
        if self.no >= len(self.lines):
            return None
        self.no += 1
        return self.lines[self.no - 1]

    def error(self, line: str, expected: str) -> ArpaFormatError:
        return ArpaFormatError(self.name, self.no, line, expected)

    def text(self, no: int) -> str:
        return self.lines[no - 1]

    def ended(self, expected: str) -> ArpaFormatError:
        """The file ended where ``expected`` was due: names its last line."""
        last = len(self.lines)
        return ArpaFormatError(self.name, last, self.lines[-1] if last else "", f"{expected} (the file ended)")


# What a number in an ARPA file may look like (what KenLM and SRILM write and read): ASCII decimal
# digits, an optional sign, point and exponent.  Python's float() also takes "1_000", "inf", "nan"
# and non-ASCII digits; every reading path refuses them.
_NUMBER = re.compile(r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?", re.ASCII)


# Fields of an ARPA line are separated by runs of spaces and tabs (and a carriage return, which a CRLF
# file leaves): every other character is part of a word, as in KenLM, including the other
# whitespace that str.split() splits on (U+000B, U+000C, U+001C-U+001F, U+0085, U+00A0, U+3000 ...).
_WS = " \t\r"
_FIELD_SEP = re.compile(r"[ \t\r]+")
_ODD_SPACE = re.compile("[\x0b\x0c\x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]")
# the order and count of an 'ngram N=COUNT' line: ASCII digits only, as the numbers of n-gram lines
_COUNT = re.compile(r"[0-9]+", re.ASCII)


def _fields(line: str) -> list[str]:
    stripped = line.strip(_WS)
    return _FIELD_SEP.split(stripped) if stripped else []


def _parse_float(text: str, lines: _Lines, line: str, what: str) -> float:
    v = float(text) if _NUMBER.fullmatch(text) else None
    if v is None:
        if text.lower().lstrip("+-") in ("inf", "infinity", "nan"):
            raise lines.error(line, f"a finite number for the {what}")
        raise lines.error(line, f"a number for the {what} (decimal, like -1.25 or -2e-3)")
    if v in (float("inf"), float("-inf")):
        raise lines.error(line, f"a finite number for the {what}")
    return v


def _read_header(lines: _Lines) -> tuple[dict, Tokenizer, list[int]]:
    meta: dict = {}
    tokenizer = Tokenizer()
    while True:
        line = lines.next()
        if line is None:
            raise lines.error("", "the \\data\\ header (the file ended first)")
        if line.startswith(META_PREFIX):
            try:
                item = json.loads(line[len(META_PREFIX) :])
            except json.JSONDecodeError:
                item = None
            if not isinstance(item, dict):
                raise lines.error(line, "a JSON object after '# lmlab: '")
            if "tokenizer" in item and len(item) == 1:
                try:
                    tokenizer = Tokenizer.from_dict(item["tokenizer"])
                except (LmlabError, TypeError, ValueError, AttributeError):
                    raise lines.error(line, "a valid tokenizer description after '# lmlab: '") from None
            else:
                meta.update(item)
            continue
        if not line.strip(_WS) or line.startswith("#"):
            continue
        if line.strip(_WS) != "\\data\\":
            raise lines.error(line, "\\data\\ (the first line that is not blank or a # comment)")
        break
    declared: list[int] = []
    while True:
        line = lines.next()
        if line is None:
            raise lines.error("", "'ngram N=COUNT' lines (the file ended)")
        if not line.strip(_WS):
            if declared:
                break
            continue
        parts = line.strip(_WS).split("=")
        if not line.startswith("ngram ") or len(parts) != 2:
            raise lines.error(line, f"'ngram {len(declared) + 1}=COUNT'")
        order_text, count_text = parts[0][6:].strip(_WS), parts[1].strip(_WS)
        if not (_COUNT.fullmatch(order_text) and _COUNT.fullmatch(count_text)):
            raise lines.error(line, f"'ngram {len(declared) + 1}=COUNT' with ASCII digits 0-9 (no sign, '_' or other digits)")
        m, n = int(order_text), int(count_text)
        if m != len(declared) + 1:
            raise lines.error(line, f"'ngram {len(declared) + 1}=COUNT' (orders consecutive from 1)")
        if m == 1 and n == 0:
            raise lines.error(line, "'ngram 1=COUNT' with COUNT >= 1: a model without unigrams has no words to score")
        declared.append(n)
    return meta, tokenizer, declared


def _read_compiled(data: bytes, name: str):
    """The compiled path: ``(tables, vocab, meta)``, or ``None`` to let the Python reader decide."""
    first = data.find(b"\\1-grams:")
    if first <= 0 or data[first - 1] != 10:
        return None
    try:
        head = data[:first].decode("utf-8")
        lines = _Lines(head, name)
        meta, tokenizer, declared = _read_header(lines)
    except (UnicodeDecodeError, LmlabError):
        return None
    if lines.no != len(lines.lines) and any(x.strip(_WS) for x in lines.lines[lines.no :]):
        return None
    body, first_lines, pos = [], [], first
    for m in range(1, len(declared) + 1):
        tag = b"\\%d-grams:" % m
        if not data.startswith(tag, pos):
            return None
        eol = data.find(b"\n", pos)
        if eol < 0 or data[pos + len(tag) : eol].strip():
            return None
        start = eol + 1
        end = data.find(b"\n\\", start - 1)
        if end < 0:
            return None
        end += 1  # the next section's (or \end\'s) first byte
        body.append((start, end))
        first_lines.append(data.count(b"\n", 0, start) + 1)
        pos = end
    if not data[pos:].startswith(b"\\end\\") or data[pos + 5 :].strip():
        return None
    from .arpa_reader import parse_sections

    parsed = parse_sections(data, body, declared)
    if parsed is None:
        return None
    words, sections = parsed
    return _build(words, sections, tokenizer, name, first_lines, lambda no: _line_of(data, no)) + (meta,)


def _line_of(data: bytes, no: int) -> str:
    """Line ``no`` (from 1) of the file (for error messages)."""
    ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10)
    pos = int(ends[no - 2]) + 1 if no > 1 else 0
    end = int(ends[no - 1]) if no - 1 < len(ends) else len(data)
    return data[pos:end].decode("utf-8", errors="replace").removesuffix("\r")


def _read(lines: _Lines, vectorised: bool = True) -> tuple[BackoffTables, Vocab, dict]:
    meta, tokenizer, declared = _read_header(lines)
    order = len(declared)
    # -- sections ------------------------------------------------------------------------
    sections: list[tuple[list[list[str]], np.ndarray, np.ndarray]] = []
    first_lines: list[int] = []  # line number of each section's first n-gram
    line = lines.next()
    for m in range(1, order + 1):
        while line is not None and not line.strip(_WS):
            line = lines.next()
        if line is None or line.strip(_WS) != f"\\{m}-grams:":
            raise lines.error(line or "", f"the section header \\{m}-grams:")
        first_lines.append(lines.no + 1)
        parsed = _fast_section(lines, m, declared[m - 1], m == order) if vectorised else None
        if parsed is None:
            parsed = _slow_section(lines, m, declared[m - 1], m == order)
        sections.append(parsed)
        line = lines.next()
    while line is not None and not line.strip(_WS):
        line = lines.next()
    if line is None:
        raise lines.ended("\\end\\ after the last section")
    if line.strip(_WS) != "\\end\\":
        raise lines.error(line, "\\end\\ after the last section")
    line = lines.next()
    while line is not None:
        if line.strip(_WS):
            raise lines.error(line, "nothing after \\end\\ (another file appended?)")
        line = lines.next()
    unigrams = sections[0][0][0]
    line_text = lines.text
    index = _unigram_index(unigrams, lines.name, first_lines[0], line_text)
    mats = [(None, sections[0][1], sections[0][2])]
    getitem = index.__getitem__
    for m in range(2, order + 1):
        words, probs, backs = sections[m - 1]
        n = len(probs)
        mat = np.empty((n, m), dtype=np.int64)
        for j in range(m):
            try:
                mat[:, j] = np.fromiter(map(getitem, words[j]), dtype=np.int64, count=n)
            except KeyError:  # name the first line (any column) with a word that is not a unigram
                i, w = min((i, w) for col in words for i, w in enumerate(col) if w not in index)
                raise ArpaFormatError(lines.name, first_lines[m - 1] + i, line_text(first_lines[m - 1] + i),
                                      f"only words listed as unigrams; {w!r} is not") from None
        mats.append((mat, probs, backs))
    return _build(unigrams, mats, tokenizer, lines.name, first_lines, line_text, index) + (meta,)


_SEP = "\x00"  # marks the line ends in a joined section; a section that holds it is not parsed at once


def _fast_section(lines: _Lines, m: int, n: int, top: bool):
    """Parse ``n`` lines at once when every one has the same number of fields (all with a backoff,
    or, all without) and well-formed numbers; ``None`` sends the caller to the line-by-line path."""
    start = lines.no
    block = lines.lines[start : start + n]
    after = lines.lines[start + n] if start + n < len(lines.lines) else None
    if len(block) != n or (after is not None and after.strip(_WS) and not after.startswith("\\")):
        return None
    # One split of the whole section, with a separator field between lines: every line has k
    # fields exactly when the separators sit at every (k+1)-th place.
    joined = f" {_SEP} ".join(block)
    if joined.count(_SEP) != n - 1:
        return None
    if _ODD_SPACE.search(joined):  # str.split() would split there; ARPA fields do not: line by line
        return None
    fields = joined.split()
    for k in ((m + 1,) if top else (m + 2, m + 1)):
        if len(fields) == n * (k + 1) - 1:
            break
    else:
        return None
    if fields[k :: k + 1] != [_SEP] * (n - 1):
        return None
    numbers = [fields[0 :: k + 1]] + ([fields[m + 1 :: k + 1]] if k == m + 2 else [])
    # ASCII without "_": then float() takes only what _NUMBER takes (and inf/nan, refused below)
    if not joined.isascii() or "_" in joined:
        for texts in numbers:
            text = " ".join(texts)
            if not text.isascii() or "_" in text:
                return None
    try:
        probs = np.fromiter(map(float, numbers[0]), dtype=np.float64, count=n)
        backs = np.fromiter(map(float, numbers[1]), dtype=np.float64, count=n) if k == m + 2 else np.zeros(n)
    except ValueError:
        return None
    if not (np.all(np.isfinite(probs)) and np.all(np.isfinite(backs)) and np.all(probs <= 0)):
        return None
    if top and np.any(backs != 0):
        return None
    words = [fields[1 + j :: k + 1] for j in range(m)]
    lines.no = start + n
    return words, probs, backs


def _slow_section(lines: _Lines, m: int, n: int, top: bool):
    """Line by line, with an error that names the line for anything malformed."""
    words: list[list[str]] = [[] for _ in range(m)]
    probs, backs = [], []
    count = 0
    first = lines.no + 1
    while True:
        line = lines.next()
        if line is None:  # the file ended: the count or the missing \end\ is reported
            break
        if not line.strip(_WS) or line.startswith("\\"):
            lines.no -= 1
            break
        fields = _fields(line)
        if len(fields) not in (m + 1, m + 2):
            raise lines.error(line, f"a {m}-gram line: log10 probability, {m} word(s) and an optional backoff")
        p = _parse_float(fields[0], lines, line, "log10 probability")
        if p > 0:
            raise lines.error(line, "a log10 probability <= 0")
        b = _parse_float(fields[m + 1], lines, line, "backoff") if len(fields) == m + 2 else 0.0
        if top and b != 0.0:
            raise lines.error(line, f"no backoff weight on a highest-order ({m}-gram) line")
        for j in range(m):
            words[j].append(fields[1 + j])
        probs.append(p)
        backs.append(b)
        count += 1
    if count != n:  # name the first line past the declared count, or the line that ended the section
        no = first + n if count > n else lines.no + 1
        if count < n and no <= len(lines.lines) and not lines.lines[no - 1].strip(_WS):
            nxt = next((x for x in lines.lines[no:] if x.strip(_WS)), "\\")
            if not nxt.lstrip(_WS).startswith("\\"):
                raise ArpaFormatError(lines.name, no, lines.lines[no - 1],
                                      f"no blank line inside the {m}-gram section (a blank line ends a section; "
                                      f"the \\data\\ header says {n} {m}-grams and {count} came before it)")
        what = f"{n} {m}-grams as the \\data\\ header says, but the section has {count}"
        if no > len(lines.lines):
            raise lines.ended(what)
        raise ArpaFormatError(lines.name, no, lines.lines[no - 1], what)
    return words, np.array(probs), np.array(backs)


def _unigram_index(unigrams: list[str], name: str, first_line: int, line_text) -> dict[str, int]:
    index: dict[str, int] = {}
    for i, w in enumerate(unigrams):
        if w in index:
            raise ArpaFormatError(name, first_line + i, line_text(first_line + i),
                                  f"each unigram once; {w!r} is listed twice")
        index[w] = i
    return index


def _build(unigrams: list[str], sections, tokenizer, name, first_lines, line_text, index=None):
    """Tables from the unigram words (file order) and, per order, (matrix of the words' file
    indices, or None for order 1; log10 probabilities; backoffs).  ``line_text(number)`` gives a
    line of the file for error messages."""
    if index is None:
        index = _unigram_index(unigrams, name, first_lines[0], line_text)
    vocab = Vocab.from_tokens(unigrams, tokenizer)
    V = len(vocab)
    order = len(sections)
    p1 = np.zeros(V, dtype=np.float32)
    b1 = np.zeros(V, dtype=np.float32)
    ids = vocab.symbol_ids(unigrams)  # file index -> vocabulary id
    p1[ids] = sections[0][1]
    b1[ids] = sections[0][2]
    if UNK not in index:
        p1[vocab.unk_id] = UNK_LOG10_DEFAULT
    for special in (BOS, EOS):
        if special not in index:
            p1[vocab.lookup(special)] = -99.0 if special == BOS else UNK_LOG10_DEFAULT
    def rows(m: int) -> np.ndarray:  # the word ids of the m-grams (m >= 2), made when needed
        return ids[sections[m - 1][0]]

    where = (name, first_lines, line_text)

    def unigram_tables() -> BackoffTables:
        return BackoffTables(order=1, vocab_size=V, keys=[np.arange(V, dtype=np.int64)], logprob10=[p1],
                             backoff10=[b1])

    # Every file is searched for missing prefixes and suffixes, lmlab's own too: a file lmlab wrote
    # may have been edited since, and a missing suffix would be scored wrong without a word.
    try:
        tables = _add_orders(unigram_tables(), rows, sections, None, where)
    except _NotClosed:  # rare: n-grams whose prefix or suffix is missing; add those as blank entries
        every = [None, None] + [rows(m) for m in range(2, order + 1)]
        tables = _add_orders(unigram_tables(), every.__getitem__, sections, _missing_ngrams(every), where)
    tables.backoff10[-1] = np.empty(0, dtype=np.float32)
    return tables, vocab


class _NotClosed(Exception):
    """An n-gram's prefix or suffix (its first or last m - 1 words) is not in the file."""


def _add_orders(tables: BackoffTables, rows, sections, blanks, where) -> BackoffTables:
    """Orders 2.. onto the unigram ``tables``: the file's n-grams (``rows(m)``: their word ids)
    and, if ``blanks`` is given, those rows (per order) as blank entries: the probability that
    backing off gives, backoff 0, so that scores are as if they were absent.  Without ``blanks``,
    a missing prefix or suffix raises :class:`_NotClosed`.

    Every query path relies on the set being closed: with an n-gram, its prefix (the context) and
    its suffix (what backing off from it reaches) are there too.  Suffix ids are found with one
    lookup per n-gram: the suffix of ``w1..wm`` is ``suffix(w1..wm-1)`` extended by ``wm``."""
    name, first_lines, line_text = where
    V = tables.vocab_size
    sfx = None  # per n-gram of the top order so far: the id of its suffix one order down
    for m in range(2, len(sections) + 1):
        mat = rows(m)
        _, probs, backs = sections[m - 1]
        prefix = _ids_of(tables, mat[:, :-1])
        if blanks is None and np.any(prefix < 0):
            raise _NotClosed
        suffix = mat[:, -1] if m == 2 else _lookup_many(tables.keys[m - 2], V, sfx[prefix], mat[:, -1])
        if blanks is None and np.any(suffix < 0):
            raise _NotClosed
        key = prefix * V + mat[:, -1]
        order_idx = np.argsort(key, kind="stable")
        key = key[order_idx]
        dup = np.flatnonzero(key[1:] == key[:-1])
        if len(dup):
            i = int(max(order_idx[dup[0]], order_idx[dup[0] + 1]))
            raise ArpaFormatError(name, first_lines[m - 1] + i, line_text(first_lines[m - 1] + i),
                                  f"each {m}-gram once; it is listed twice")
        tables.keys.append(key)
        tables.logprob10.append(np.asarray(probs, dtype=np.float32)[order_idx])
        tables.backoff10.append(np.asarray(backs, dtype=np.float32)[order_idx])
        tables.order = m
        new_sfx = suffix[order_idx]
        if blanks is not None and len(blanks[m]):
            extra = blanks[m]
            from .fastquery import FastTables

            probs10 = FastTables(tables).score_rows(extra).astype(np.float32)  # as the backoff rule scores them
            pre = _ids_of(tables, extra[:, :-1])
            suf = extra[:, -1] if m == 2 else _lookup_many(tables.keys[m - 2], V, sfx[pre], extra[:, -1])
            keys = np.concatenate([key, pre * V + extra[:, -1]])
            idx = np.argsort(keys, kind="stable")
            tables.keys[m - 1] = keys[idx]
            tables.logprob10[m - 1] = np.concatenate([tables.logprob10[m - 1], probs10])[idx]
            tables.backoff10[m - 1] = np.concatenate([tables.backoff10[m - 1], np.zeros(len(extra), np.float32)])[idx]
            new_sfx = np.concatenate([new_sfx, suf])[idx]
        sfx = new_sfx
    return tables


def _lookup_many(keys: np.ndarray, V: int, prefix: np.ndarray, word: np.ndarray) -> np.ndarray:
    """Index of each ``prefix * V + word`` in the sorted ``keys``, or -1; the queries are sorted
    first (in no particular order they cost a cache miss each)."""
    q = prefix * V + word
    o = np.argsort(q)
    qs = q[o]
    pos = np.searchsorted(keys, qs)
    found = pos < len(keys)
    found[found] = keys[pos[found]] == qs[found]
    out = np.empty(len(q), dtype=np.int64)
    out[o] = np.where(found, pos, -1)
    return out


def _missing_ngrams(rows) -> list:
    """Per order, the rows of word ids that are a prefix or suffix of a longer n-gram (or of such a
    row) but not in the file: the set's closure, worked out from the top order down."""
    order = len(rows) - 1
    missing = [None] + [np.empty((0, m), dtype=np.int64) for m in range(1, order + 1)]
    for m in range(order, 2, -1):  # orders 1 and 2: every prefix and suffix is a unigram
        have = np.concatenate([rows[m], missing[m]])
        want = np.unique(np.concatenate([have[:, :-1], have[:, 1:]]), axis=0)
        both = np.concatenate([rows[m - 1], want])
        _, inverse = np.unique(both, axis=0, return_inverse=True)
        inverse = inverse.ravel()
        listed = np.zeros(len(both), dtype=bool)
        listed[inverse[: len(rows[m - 1])]] = True
        missing[m - 1] = want[~listed[inverse[len(rows[m - 1]) :]]]
    return missing


def _ids_of(tables: BackoffTables, mat: np.ndarray) -> np.ndarray:
    """Ids of the n-grams given as rows of word ids (order = number of columns); -1 if absent."""
    cur = mat[:, 0].astype(np.int64)
    for j in range(1, mat.shape[1]):
        cur = tables.lookup(j + 1, cur, mat[:, j])
    return cur
