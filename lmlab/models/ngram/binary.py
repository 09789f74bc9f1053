"""lmlab's binary n-gram format: the query engine's buffer, memory-mapped, no pickle.

Layout (little-endian)::

    8 bytes   magic b"LMLABNG1"
    8 bytes   header length H (uint64)
    H bytes   UTF-8 JSON header: format, version, order, vocab (tokens + tokenizer +
              fingerprint), model metadata, the engine's ``meta`` (sizes and offsets of the
              tables in the buffer), the buffer's length and crc32
    ...       the buffer (int64 words), starting at a multiple of 64 bytes

The buffer is exactly what the query engine (:mod:`.fastquery`) works on: hash tables (key,
log10 probability and backoff side by side), unigram arrays and each order's continuations by
prefix (v3), or KenLM's trie of bit-packed sorted records (v4, ``lmlab convert --trie``).  Opening a file is an ``mmap`` (nothing is read, copied or built), and the first query,
``next_logprobs`` included, starts at once.  A file that is shorter or longer than its header says
(trailing bytes) or whose vocabulary does not match its fingerprint is rejected with
:class:`ModelFormatError` naming the problem; the buffer's crc32 is checked on request
(``verify=True``; ``lmlab convert`` does), since that reads the whole file.  Files of an older
version (written by an older lmlab) are refused, naming ``lmlab convert`` to write them again.
"""

from __future__ import annotations

import json
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from ..._io import atomic_write
from ...errors import ModelFormatError, VocabMismatchError
from ...text.vocab import Vocab

MAGIC = b"LMLABNG1"
VERSION = 3  # the hash tables (KenLM's probing)
TRIE_VERSION = 4  # the trie (KenLM's trie): files an lmlab that reads only v3 must refuse
ALIGN = 64


def is_binary(path: str | os.PathLike) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(8) == MAGIC
    except OSError:
        return False


def write_binary(fast, vocab: Vocab, path: str | os.PathLike, meta: dict | None = None) -> None:
    """Write the engine's buffer atomically."""
    buf = np.ascontiguousarray(fast.buf, dtype="<i8")
    engine = fast.meta if fast.trie else fast.meta[:fast.hashed_meta_len]  # hashed: as v3 wrote it
    header = {
        "format": "lmlab-ngram-binary", "version": TRIE_VERSION if fast.trie else VERSION, "order": fast.order,
        "vocab_size": fast.vocab_size, "vocab": vocab.to_dict(), "meta": meta or {},
        "quant_bits": fast.quant_bits, "engine": [int(x) for x in engine],
        "words": int(buf.size), "crc32": zlib.crc32(memoryview(buf).cast("B")),
    }
    blob = json.dumps(header, ensure_ascii=False).encode("utf-8")
    start = -(-(16 + len(blob)) // ALIGN) * ALIGN
    with atomic_write(path, compress=None) as fh:
        fh.write(MAGIC + struct.pack("<Q", len(blob)) + blob)
        fh.write(b"\0" * (start - 16 - len(blob)))
        fh.write(memoryview(buf).cast("B"))


def read_binary(path: str | os.PathLike, *, verify: bool = False):
    """Memory-map a binary model.  Returns ``(fast_tables, vocab, meta)``.  ``verify`` checks
    the buffer's crc32 (reads the whole file)."""
    from .fastquery import FastTables

    name = str(path)
    size = Path(path).stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(16)
        if len(head) < 16 or head[:8] != MAGIC:
            raise ModelFormatError(f"{name}: not an lmlab binary n-gram model (bad magic bytes)")
        (hlen,) = struct.unpack("<Q", head[8:])
        if hlen > size - 16:
            raise ModelFormatError(f"{name}: truncated: the header needs {hlen} bytes, the file has {size - 16}")
        try:
            header = json.loads(fh.read(hlen).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ModelFormatError(f"{name}: corrupt header ({exc})") from None
    if not isinstance(header, dict) or header.get("format") != "lmlab-ngram-binary":
        raise ModelFormatError(f"{name}: unsupported format {header.get('format') if isinstance(header, dict) else None}")
    if header.get("version") not in (VERSION, TRIE_VERSION):
        raise ModelFormatError(f"{name}: lmlab binary format v{header.get('version')}, written by another lmlab "
                               f"version; this one reads v{VERSION} and v{TRIE_VERSION}: write it again with "
                               f"'lmlab convert MODEL.arpa {name}' from the model's ARPA file")
    start = -(-(16 + hlen) // ALIGN) * ALIGN
    try:
        words, engine = int(header["words"]), np.array(header["engine"], dtype=np.int64)
        int(header["order"])
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise ModelFormatError(f"{name}: corrupt header (its sizes: {exc!r})") from None
    need = start + 8 * words
    if size < need:
        raise ModelFormatError(f"{name}: truncated: {size} bytes, the header says {need}")
    if size > need:
        raise ModelFormatError(f"{name}: {size - need} bytes after the end of the data (the header says "
                               f"{need} bytes): not one lmlab binary model, or a corrupt one")
    buf = np.memmap(path, dtype="<i8", mode="r", offset=start, shape=(words,))
    if verify and zlib.crc32(memoryview(buf).cast("B")) != header["crc32"]:
        raise ModelFormatError(f"{name}: the tables fail their checksum: the file is corrupt")
    try:
        vocab = Vocab.from_dict(header["vocab"], f"{name}: the vocabulary")
    except VocabMismatchError as exc:  # the message names the file already
        raise ModelFormatError(str(exc)) from None
    try:
        fast = FastTables.from_buffer(buf, engine, header.get("quant_bits"))
    except ValueError as exc:
        raise ModelFormatError(f"{name}: corrupt header ({exc})") from None
    if fast.trie != (header["version"] == TRIE_VERSION):
        raise ModelFormatError(f"{name}: corrupt header (a v{header['version']} file with the other layout)")
    if fast.order != int(header["order"]) or len(vocab) != fast.vocab_size:
        raise ModelFormatError(f"{name}: vocabulary of {len(vocab)} tokens but tables for {fast.vocab_size}")
    return fast, vocab, header.get("meta", {})
