"""lmlab's binary n-gram format: the hashed query tables, memory-mapped, no pickle.

Layout (little-endian)::

    8 bytes   magic b"LMLABNG1"
    8 bytes   header length H (uint64)
    H bytes   UTF-8 JSON header: format, version, order, vocab (tokens + tokenizer +
              fingerprint), model metadata, and for each array its dtype, shape, offset and crc32
    ...       the arrays, each starting at a multiple of 64 bytes

The arrays are the probing hash tables of :mod:`.fastquery` (key, log10 probability and
backoff side by side), so loading is an ``mmap`` and queries start at once.  A file that is
shorter or longer than its header says (trailing bytes), whose arrays fail their crc32, or whose vocabulary does not match
its fingerprint is rejected with :class:`ModelFormatError` naming the problem.
"""

from __future__ import annotations

import json
import mmap
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from ..._io import atomic_write
from ...errors import ModelFormatError, VocabMismatchError
from ...text.vocab import Vocab

MAGIC = b"LMLABNG1"
VERSION = 2
ALIGN = 64
ARRAYS = ("slots_i", "slot_off", "slot_size", "prob1", "bow1", "cb_p", "cb_b")


def is_binary(path: str | os.PathLike) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(8) == MAGIC
    except OSError:
        return False


def write_binary(fast, vocab: Vocab, path: str | os.PathLike, meta: dict | None = None) -> None:
    """Write the hashed tables atomically."""
    arrays = {name: np.ascontiguousarray(getattr(fast, name)) for name in ARRAYS}
    index = {}
    offset = 0
    for name, arr in arrays.items():
        offset = -(-offset // ALIGN) * ALIGN
        index[name] = {"dtype": arr.dtype.str, "shape": list(arr.shape), "offset": offset,
                       "crc32": zlib.crc32(memoryview(arr).cast("B"))}
        offset += arr.nbytes
    header = {
        "format": "lmlab-ngram-binary", "version": VERSION, "order": fast.order,
        "vocab_size": fast.vocab_size, "vocab": vocab.to_dict(), "meta": meta or {},
        "constant_backoff10": fast.const_bow if fast.use_const else None,
        "quant_bits": fast.quant_bits,
        "arrays": index, "data_bytes": offset,
    }
    blob = json.dumps(header, ensure_ascii=False).encode("utf-8")
    start = -(-(16 + len(blob)) // ALIGN) * ALIGN
    with atomic_write(path, compress=None) as fh:
        fh.write(MAGIC + struct.pack("<Q", len(blob)) + blob)
        fh.write(b"\0" * (start - 16 - len(blob)))
        pos = 0
        for name, arr in arrays.items():
            pad = index[name]["offset"] - pos
            fh.write(b"\0" * pad)
            fh.write(memoryview(arr).cast("B"))
            pos = index[name]["offset"] + arr.nbytes


def read_binary(path: str | os.PathLike, *, verify: bool = True):
    """Memory-map a binary model.  Returns ``(fast_tables, vocab, meta)``."""
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
        if header.get("format") != "lmlab-ngram-binary" or header.get("version") != VERSION:
            raise ModelFormatError(f"{name}: unsupported format {header.get('format')} v{header.get('version')}")
        start = -(-(16 + hlen) // ALIGN) * ALIGN
        need = start + int(header["data_bytes"])
        if size < need:
            raise ModelFormatError(f"{name}: truncated: {size} bytes, the header says {need}")
        if size > need:
            raise ModelFormatError(f"{name}: {size - need} bytes after the end of the data (the header says "
                                   f"{need} bytes): not one lmlab binary model, or a corrupt one")
        mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    arrays = {}
    for key, spec in header["arrays"].items():
        dtype = np.dtype(spec["dtype"])
        count = int(np.prod(spec["shape"])) if spec["shape"] else 1
        arr = np.frombuffer(mm, dtype=dtype, count=count, offset=start + spec["offset"]).reshape(spec["shape"])
        if verify and zlib.crc32(memoryview(arr).cast("B")) != spec["crc32"]:
            raise ModelFormatError(f"{name}: array {key} fails its checksum: the file is corrupt")
        arrays[key] = arr
    try:
        vocab = Vocab.from_dict(header["vocab"], f"{name}: the vocabulary")
    except VocabMismatchError as exc:  # the message names the file already
        raise ModelFormatError(str(exc)) from None
    fast = FastTables.__new__(FastTables)
    fast.order, fast.vocab_size = int(header["order"]), int(header["vocab_size"])
    for key in ARRAYS:
        setattr(fast, key, arrays[key])
    fast.slots_f = fast.slots_i.view(np.float32)
    const = header.get("constant_backoff10")
    fast.use_const, fast.const_bow = const is not None, float(const or 0.0)
    fast.quant_bits = header.get("quant_bits")
    if len(vocab) != fast.vocab_size:
        raise ModelFormatError(f"{name}: vocabulary of {len(vocab)} tokens but tables for {fast.vocab_size}")
    return fast, vocab, header.get("meta", {})
