"""File input and output shared by every stage: atomic writes, compressed files, strict UTF-8.

* :func:`atomic_write` writes to a temporary file in the target folder, fsyncs it and renames it
  over the target, so a crash or a full disk never leaves a partial file behind and an existing
  file survives a failed write.  A symlink's target is replaced (the link stays); standard output
  (``-``), a FIFO or a device is written in place, not atomically (see :func:`atomic_write`).
* :func:`open_binary` opens plain, ``.gz``, ``.bz2`` and ``.xz`` files (by suffix, and by magic
  bytes when reading).
* :func:`read_lines` decodes strictly as UTF-8 and reports the file, line and byte of bad input;
  every reader of text (files, stdin) drops a leading UTF-8 byte-order mark (``EF BB BF``), which
  would otherwise become part of the first word.
"""

from __future__ import annotations

import bz2
import contextlib
import gzip
import io
import lzma
import os
import stat
import sys
import secrets
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from .errors import InvalidUTF8Error, LmlabError

BOM = b"\xef\xbb\xbf"
_MAGIC = {b"\x1f\x8b": "gz", b"BZh": "bz2", b"\xfd7zXZ\x00": "xz"}


def _compression_from_name(path: str | os.PathLike) -> str | None:
    suffix = Path(path).suffix.lower()
    return {".gz": "gz", ".bz2": "bz2", ".xz": "xz"}.get(suffix)


def _wrap(raw: BinaryIO, kind: str | None, mode: str) -> BinaryIO:
    if kind == "gz":
        return gzip.GzipFile(fileobj=raw, mode=mode, compresslevel=6)  # type: ignore[return-value]
    if kind == "bz2":
        return bz2.BZ2File(raw, mode=mode)  # type: ignore[return-value]
    if kind == "xz":
        return lzma.LZMAFile(raw, mode=mode)  # type: ignore[return-value]
    return raw


_DECOMPRESS_ERRORS = (EOFError, OSError, lzma.LZMAError, zlib.error)


class _GuardedReader(io.BufferedIOBase):
    """A decompressing reader whose every read turns a truncated or corrupt stream (``EOFError``,
    a bad CRC, ``Unknown compression method``, ...) into an :class:`LmlabError` naming the file."""

    def __init__(self, inner: BinaryIO, path: str | os.PathLike, kind: str):
        self._inner, self._path, self._kind = inner, path, kind

    def _guard(self, method, *args):
        try:
            return method(*args)
        except _DECOMPRESS_ERRORS as exc:
            raise LmlabError(f"{self._path}: truncated or corrupt compressed file ({self._kind}: {exc})") from None

    def read(self, size: int | None = -1) -> bytes:
        return self._guard(self._inner.read, -1 if size is None else size)

    def read1(self, size: int = -1) -> bytes:
        return self._guard(self._inner.read1, size)

    def readinto(self, buffer) -> int:
        return self._guard(self._inner.readinto, buffer)

    def readline(self, size: int | None = -1) -> bytes:
        return self._guard(self._inner.readline, -1 if size is None else size)

    def peek(self, size: int = 0) -> bytes:
        return self._guard(self._inner.peek, size)

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            super().close()


def open_binary(path: str | os.PathLike) -> BinaryIO:
    """Open ``path`` for reading bytes, decompressing .gz/.bz2/.xz transparently (by magic bytes).

    This is the one way lmlab reads a possibly compressed file: every read of a compressed file
    (whole or the first bytes) is guarded, so a truncated or corrupt one is an :class:`LmlabError`
    naming the file, never an ``EOFError`` or a bare ``CRC check failed``.
    """
    try:
        raw = open(path, "rb")  # noqa: SIM115 - returned to the caller
    except FileNotFoundError:
        raise LmlabError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise LmlabError(f"{path}: is a directory, expected a file") from None
    head = raw.peek(6)[:6] if hasattr(raw, "peek") else b""
    kind = next((k for magic, k in _MAGIC.items() if head.startswith(magic)), None)
    if kind is None:
        return raw
    raw.close()
    opener = {"gz": gzip.open, "bz2": bz2.open, "xz": lzma.open}[kind]
    try:
        inner = opener(path, "rb")
    except _DECOMPRESS_ERRORS as exc:
        raise LmlabError(f"{path}: truncated or corrupt compressed file ({kind}: {exc})") from None
    return _GuardedReader(inner, path, kind)  # type: ignore[return-value]


def decode_utf8(data: bytes, path: str, base_offset: int = 0, first_line: int = 1) -> str:
    """Decode ``data`` strictly; on failure name the line and absolute byte offset.

    At the start of a file (``base_offset == 0``) a UTF-8 byte-order mark is dropped.
    """
    skip = 3 if base_offset == 0 and data[:3] == BOM else 0
    try:
        return data[skip:].decode("utf-8") if skip else data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line_no = first_line + data.count(b"\n", 0, skip + exc.start)
        raise InvalidUTF8Error(path, line_no, base_offset + skip + exc.start, exc.reason) from None


def read_bytes(path: str | os.PathLike) -> bytes:
    """Whole file as bytes, decompressed; a truncated or corrupt compressed file is an LmlabError."""
    with open_binary(path) as fh:
        return fh.read()


def read_text(path: str | os.PathLike) -> str:
    """Whole file as text (strict UTF-8, compressed files allowed)."""
    return decode_utf8(read_bytes(path), str(path))


def split_lines(text: str) -> list[str]:
    """Lines of a text without their line endings (``\n`` or ``\r\n``; no other character ends
    a line).  A final line without a newline counts as a line; an empty text has no lines."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [ln[:-1] if ln.endswith("\r") else ln for ln in lines]


def read_lines(path: str | os.PathLike) -> list[str]:
    """Lines of a text file (strict UTF-8), as :func:`split_lines` cuts them."""
    return split_lines(read_text(path))


def read_stream_lines(stream: BinaryIO | io.TextIOBase, name: str = "<stdin>") -> list[str]:
    """Lines of an open stream (stdin); bytes are decoded strictly as UTF-8."""
    data = stream.read()
    text = decode_utf8(data, name) if isinstance(data, bytes) else data.removeprefix("\ufeff")
    return split_lines(text)


def read_stream_batches(stream: BinaryIO, name: str = "<stdin>", chunk: int = 1 << 16) -> Iterator[list[str]]:
    """Lines of a byte stream as they arrive: each batch holds the complete lines read so far.

    For interactive use (``lmlab query`` in a pipe): a batch is yielded as soon as a line is in,
    without waiting for the end of input, while a large piped file still comes in large batches.
    Decoding is strict UTF-8 (errors name the line and byte), a leading byte-order mark is dropped.
    """
    read = getattr(stream, "read1", stream.read)
    pending, offset, line_no, first = b"", 0, 1, True
    while True:
        data = read(chunk)
        if data:
            pending += data
            if first:
                if len(pending) < 3 and BOM.startswith(pending):
                    continue  # a byte-order mark may be split across reads
                if pending.startswith(BOM):  # dropped before anything else: a stream of a BOM alone is empty
                    pending, offset = pending[3:], 3
                first = False
            cut = pending.rfind(b"\n") + 1
            if not cut:
                continue
            block, pending = pending[:cut], pending[cut:]
        else:
            if not pending:
                return
            block, pending = pending + b"\n", b""
        text = decode_utf8(block, name, offset, line_no)  # (a byte-order mark is dropped above)
        first = False
        offset += len(block)
        line_no += block.count(b"\n")
        yield [ln.removesuffix("\r") for ln in text.split("\n")[:-1]]
        if not data:
            return


def _through_fd_alias(path: str) -> bool:
    """Whether ``path`` is, or links through, an alias of an open file descriptor
    (``/dev/stdout`` -> ``/proc/self/fd/1``, ``/dev/fd/N``): writing there means writing to that
    descriptor, not replacing the file it happens to point at."""
    seen = 0
    while seen < 40:
        absolute = os.path.abspath(path)
        if absolute.startswith(("/proc/", "/dev/fd/")):
            return True
        if not os.path.islink(absolute):
            return False
        target = os.readlink(absolute)
        path = os.path.join(os.path.dirname(absolute), target)
        seen += 1
    return False


def writes_in_place(path: str | os.PathLike) -> bool:
    """Whether :func:`atomic_write` writes straight to ``path`` instead of renaming over it:
    ``-`` (standard output), an existing FIFO, character or block device or other file that is
    neither a regular file nor a folder (after following symlinks), or an alias of a file
    descriptor such as ``/dev/stdout``."""
    text = os.fspath(path)
    if text == "-":
        return True
    try:
        mode = os.stat(text).st_mode
    except OSError:
        return False  # not there yet (or a dangling link): a new regular file
    if stat.S_ISDIR(mode):
        return False  # refused by atomic_write
    return not stat.S_ISREG(mode) or _through_fd_alias(text)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, *, compress: str | None = "auto") -> Iterator[BinaryIO]:
    """Write a file atomically: temp file in the same folder, fsync, rename over ``path``.

    Yields a binary file object.  With ``compress="auto"`` the suffix (.gz/.bz2/.xz) picks the
    compression.  If the body raises (including ``OSError`` for a full disk, and Ctrl-C or SIGTERM
    in the CLI), the temp file is removed and any existing ``path`` is left untouched.

    What ``path`` is decides how it is written:

    * a regular file, or a name not there yet: atomically, as above;
    * a symlink: the file it points at is replaced atomically (in the target's folder) and the
      link stays a link;
    * ``-`` (standard output), an existing FIFO, character device (``/dev/null``) or any other file
      that is not a regular file, or an alias of an open descriptor (``/dev/stdout``): written
      straight to it, in place, since such a file cannot be renamed over without destroying it;
      such a write is not atomic (a failure can leave part of the output there), but it leaves no
      temporary file either;
    * a folder: refused.
    """
    kind = _compression_from_name(path) if compress == "auto" else compress
    if writes_in_place(path):
        with _write_in_place(path, kind) as fh:
            yield fh
        return
    shown = Path(path)
    path = Path(os.path.realpath(path)) if os.path.islink(path) else shown
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise LmlabError(f"{path}: folder {folder} does not exist")
    if path.is_dir():
        raise LmlabError(f"{shown}: is a directory; give a file name to write")
    tmp = None
    try:
        # The name is kept before the file is made, so Ctrl-C or SIGTERM at any instant after it
        # exists finds the name to remove (mkstemp returns it only once the file is there).
        for _ in range(100):
            tmp = folder / f".{path.name}.{secrets.token_hex(8)}.tmp"
            try:  # 0o666 less the umask: the usual permissions of a new file
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
                break
            except FileExistsError:
                tmp = None  # someone else's: never removed
            except OSError as exc:  # e.g. an unwritable folder: name the file asked for, not the temp file
                tmp = None
                raise LmlabError(f"{shown}: cannot write: {exc.strerror or exc}") from None
        else:
            raise LmlabError(f"{shown}: cannot write: no free temporary name in {folder}")
        try:
            with os.fdopen(fd, "wb") as raw:
                inner = _wrap(raw, kind, "wb")
                yield inner
                if inner is not raw:
                    inner.close()
                raw.flush()
                os.fsync(raw.fileno())
            os.replace(tmp, path)
        except OSError as exc:
            if exc.filename is None:  # a failed write() (full disk) names no file: name the target
                raise OSError(exc.errno, exc.strerror or str(exc), str(shown)) from exc
            raise
        with contextlib.suppress(OSError):  # make the rename durable where the OS allows
            dfd = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
    except BaseException:
        if tmp is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        raise


@contextlib.contextmanager
def _write_in_place(path: str | os.PathLike, kind: str | None) -> Iterator[BinaryIO]:
    """Standard output, a FIFO or a device: no temp file, no rename, no fsync (pipes refuse it)."""
    name = "standard output" if os.fspath(path) == "-" else os.fspath(path)
    try:
        if os.fspath(path) == "-":
            sys.stdout.flush()
            raw = contextlib.nullcontext(sys.stdout.buffer)
        else:
            raw = open(path, "wb")  # noqa: SIM115 - closed by the with below
        with raw as out:
            inner = _wrap(out, kind, "wb")
            yield inner
            if inner is not out:
                inner.close()
            out.flush()
    except OSError as exc:
        if exc.filename is None:  # a failed write() (a full device) names no file: name the target
            raise OSError(exc.errno, exc.strerror or str(exc), name) from exc
        raise


def write_bytes_atomic(path: str | os.PathLike, chunks: Iterable[bytes] | bytes) -> None:
    """Write bytes (or an iterable of byte chunks) to ``path`` atomically."""
    with atomic_write(path) as fh:
        if isinstance(chunks, bytes | bytearray):
            fh.write(chunks)
        else:
            for chunk in chunks:
                fh.write(chunk)


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))
