"""Counting a corpus larger than memory: sorted runs on disk, merged (as KenLM's ``lmplz -S -T``).

The corpus is read in blocks of lines sized by the memory limit.  Each block is counted in memory
(:func:`~lmlab.counts.ngram_counts.count_ngrams`) and, per order m >= 2, written to disk as a
*run*: its distinct m-grams as fixed-width records of m int32 word ids in lexicographic order,
with their int64 counts.  A k-way merge (compiled) then sums the counts of equal records across
runs.  Lexicographic order of word ids is exactly the id order of the in-memory counter (an
m-gram's key is ``id(prefix) * V + word`` with prefix ids in the same order), so the merged
stream gives the same :class:`NgramCounts`, array for array, as counting the corpus at once; the
arrays are memory-mapped files in the temporary folder, filled block by block, so the count table
never has to be in memory.  Only the vocabulary (word -> id, unigram counts) scales with it.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np
from numba import njit

from .._progress import advance, stage
from ..errors import ConfigError, CorpusError
from ..text.specials import BOS_ID
from .heap import return_freed_memory
from .ngram_counts import NgramCounts, count_ngrams, index_dtype, lookup_keys, release_pages

_UNITS = {"": 1 << 10, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*([bkmgtp%]?)\s*$", re.IGNORECASE)
#: working memory of counting one block, per token of the block and order (Python token lists,
#: the flat ids, the per-order int64 work arrays of :func:`count_ngrams` and its sort)
BYTES_PER_TOKEN = 220
BYTES_PER_TOKEN_ORDER = 90
BYTES_PER_MERGED_ROW = 128  # memory per n-gram of a merge block (its records, counts and ids)
#: memory per n-gram of an estimation block (:mod:`.blocks`: the smoothers' per-row temporaries)
BYTES_PER_ESTIMATED_ROW = 160


def physical_memory() -> int:
    """Bytes of physical memory (``os.sysconf``)."""
    return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))


def parse_memory(text: str) -> int:
    """A memory size as ``lmplz -S`` reads it, in bytes: ``1G``, ``500M``, ``64K``, ``123b``, ``80%``
    (of physical memory); units are powers of 1024 and a bare number is KiB (as ``sort -S``)."""
    m = _SIZE.match(str(text))
    if not m:
        raise ConfigError(f"memory size {text!r}: expected a number with a unit (b, K, M, G, T, P) or %, e.g. 1G or 80%")
    value, unit = float(m.group(1)), m.group(2).lower()
    if unit == "%":
        if not 0 < value <= 100:
            raise ConfigError(f"memory size {text!r}: a percentage must be in (0, 100]")
        size = int(physical_memory() * value / 100)
    else:
        size = int(value * _UNITS[unit])
    if size < 1:
        raise ConfigError(f"memory size {text!r}: must be at least 1 byte")
    return size


@dataclass
class ExternalStats:
    """What the disk-backed counting did (the CLI reports it; tests check it)."""

    memory: int
    block_tokens: int
    expected_lines: int = 0  # lines of the corpus, when known beforehand (the progress bar's total)
    runs: int = 0
    lines: int = 0
    run_ngrams: list[int] = field(default_factory=list)  # per order m >= 2: records written in all runs
    merged_ngrams: list[int] = field(default_factory=list)  # per order m >= 2: distinct after merging


class TempFolder:
    """A private temporary folder (``-T``: a folder, or a path prefix as lmplz's ``/tmp/lm``),
    removed with everything in it on leaving the ``with`` block: on success, error and Ctrl-C/SIGTERM."""

    def __init__(self, prefix: str | None = None):
        if prefix is None:
            folder, name = tempfile.gettempdir(), "lmlab-"
        elif os.path.isdir(prefix):
            folder, name = prefix, "lmlab-"
        else:
            folder, name = os.path.dirname(prefix) or ".", os.path.basename(prefix)
            if not os.path.isdir(folder):
                raise ConfigError(f"--temp_prefix {prefix}: folder {folder} does not exist")
        self.folder, self.name, self.path = folder, name, None

    def __enter__(self) -> str:
        try:
            self.path = tempfile.mkdtemp(prefix=self.name, dir=self.folder)
        except OSError as exc:
            raise ConfigError(f"--temp_prefix {self.folder}: cannot create a temporary folder ({exc.strerror})") from None
        return self.path

    def __exit__(self, *exc) -> None:
        if self.path is not None:
            shutil.rmtree(self.path, ignore_errors=True)
            self.path = None


def block_tokens(memory: int, order: int) -> int:
    """Tokens per counted block so that counting one block stays within ``memory`` bytes."""
    return max(1, memory // (BYTES_PER_TOKEN + BYTES_PER_TOKEN_ORDER * order))


def estimation_rows(memory: int) -> int:
    """n-grams per block of estimation (:mod:`.blocks`) within ``memory`` bytes."""
    return max(64, memory // BYTES_PER_ESTIMATED_ROW)


def blocks_of(batches: Iterable[list], tokenize: Callable[[str], list[str]], tokens: int) -> Iterator[list[list[str]]]:
    """Tokenised lines in blocks of at least ``tokens`` tokens (each sentence counts its ``</s>``)."""
    block, n = [], 0
    for batch in batches:
        for line in batch:
            toks = tokenize(line)
            block.append(toks)
            n += len(toks) + 1
            if n >= tokens:
                yield block
                block, n = [], 0
    if block:
        yield block


def count_external(
    blocks: Iterable[list[list[str]]],
    vocab,
    order: int,
    folder: str,
    stats: ExternalStats,
    progress: Callable[[str], None] = lambda msg: None,
) -> NgramCounts:
    """Count every n-gram of order 1..``order`` of the sentences in ``blocks`` through sorted runs
    in ``folder``; the result equals ``count_ngrams`` of the whole corpus (memory-mapped arrays)."""
    from ..text.vocab import encode_corpus

    return_freed_memory()
    V = len(vocab)
    unigram = np.zeros(V, dtype=np.int64)
    n_sentences = n_tokens = 0
    files = {m: (open(os.path.join(folder, f"run{m}.ids"), "wb"), open(os.path.join(folder, f"run{m}.cnt"), "wb"))
             for m in range(2, order + 1)}
    run_starts: dict[int, list[int]] = {m: [0] for m in files}
    stage("counting", stats.expected_lines or None, "lines")
    try:
        for block in blocks:
            ids, starts = encode_corpus(vocab, block, n_bos=1, n_eos=1)
            c = count_ngrams(ids, starts, order, V)
            unigram += c.count[0]
            n_sentences += c.n_sentences
            n_tokens += c.n_tokens
            for m, (f_ids, f_cnt) in files.items():
                rows = c.ngram_words(m, np.arange(len(c.count[m - 1]))).astype(np.int32)
                f_ids.write(rows.tobytes())
                f_cnt.write(np.ascontiguousarray(c.count[m - 1], dtype=np.int64).tobytes())
                run_starts[m].append(run_starts[m][-1] + len(rows))
            stats.runs += 1
            stats.lines += len(block)
            advance(len(block))
            if stats.runs % 100 == 1:
                progress(f"counted {stats.lines} lines into {stats.runs} sorted runs on disk")
            del c, ids, starts
    finally:
        for f_ids, f_cnt in files.values():
            f_ids.close()
            f_cnt.close()
    if n_sentences == 0:
        raise CorpusError("the training corpus is empty (no lines)")
    progress(f"counted {stats.lines} lines into {stats.runs} sorted runs; merging")
    keys = [np.arange(V, dtype=np.int64)]
    idx = index_dtype(n_tokens + n_sentences)  # as count_ngrams of the whole corpus (one <s> a line)
    out = NgramCounts(order, V, keys, [np.full(V, -1, dtype=idx)], [np.arange(V, dtype=np.int32)],
                      [np.full(V, -1, dtype=idx)], [unigram.astype(idx)], [np.arange(V) == BOS_ID], n_sentences, n_tokens,
                      folder=folder, block_rows=estimation_rows(stats.memory))
    for m in range(2, order + 1):
        block = max(1024, stats.memory // BYTES_PER_MERGED_ROW)
        rows, cnt = _merge_order(folder, m, np.array(run_starts[m], dtype=np.int64), block)
        stats.run_ngrams.append(int(run_starts[m][-1]))
        stats.merged_ngrams.append(len(cnt))
        _add_order(out, folder, m, rows, cnt, block)
        del rows
        os.remove(os.path.join(folder, f"merged{m}.ids"))  # the records are now keys and ids
        if out.count[-1] is not cnt and len(cnt):
            os.remove(os.path.join(folder, f"merged{m}.cnt"))  # copied into the counts' dtype
        progress(f"merged {m}-grams: {run_starts[m][-1]} records in {stats.runs} runs -> {len(cnt)} distinct")
    return out


def _memmap(folder: str, name: str, dtype, shape, mode: str = "w+") -> np.ndarray:
    path = os.path.join(folder, name)
    if int(np.prod(shape)) == 0:
        return np.zeros(shape, dtype=dtype)  # numpy cannot map an empty file
    return np.memmap(path, dtype=dtype, mode=mode, shape=shape).view(np.ndarray)


def _merge_order(folder: str, m: int, run_starts: np.ndarray, block: int) -> tuple[np.ndarray, np.ndarray]:
    """Merge order m's runs (k-way, summing counts): its distinct records and counts, memory-mapped.

    The merge writes ``block`` records at a time and then hands the pages it touched back to the
    page cache, so its memory is a block's, not the order's."""
    total = int(run_starts[-1])
    rows = _memmap(folder, f"run{m}.ids", np.int32, (total, m), "r")
    cnt = _memmap(folder, f"run{m}.cnt", np.int64, (total,), "r")
    out_rows = _memmap(folder, f"merged{m}.ids", np.int32, (total, m))
    out_cnt = _memmap(folder, f"merged{m}.cnt", np.int64, (total,))
    n = 0
    stage(f"merging {m}-grams", total, "records")
    if total:
        heap, end, state = _merge_start(rows, run_starts)
        done = 0
        while state[0] > 0:
            n = _kway_merge(rows, cnt, heap, end, state, out_rows, out_cnt, n, n + block)
            release_pages(rows, cnt, out_rows, out_cnt)
            left = int((end[: state[0]] - heap[: state[0]]).sum())  # records not merged yet
            advance(total - left - done)
            done = total - left
    del rows, cnt
    for name in (f"run{m}.ids", f"run{m}.cnt"):
        os.remove(os.path.join(folder, name))  # each order's runs are read once
    return out_rows[:n], out_cnt[:n]


@njit(cache=True)
def count_into(ids, out):
    """``out[i] += 1`` for each ``i`` in ``ids`` (a scatter count into a memory-mapped array)."""
    for i in range(len(ids)):
        out[ids[i]] += 1


@njit(cache=True)
def _row_less(rows, a, b):
    for j in range(rows.shape[1]):
        if rows[a, j] != rows[b, j]:
            return rows[a, j] < rows[b, j]
    return False


def _merge_start(rows: np.ndarray, run_starts: np.ndarray):
    """The k-way merge's state: a heap of each live run's current row and the run's end."""
    live = np.flatnonzero(run_starts[:-1] < run_starts[1:])
    heap, end = run_starts[live].astype(np.int64), run_starts[live + 1].astype(np.int64)
    state = np.array([len(live)], dtype=np.int64)  # the heap's size
    _heapify(heap, end, state[0], rows)
    return heap, end, state


@njit(cache=True)
def _heapify(heap, end, size, rows):
    for i in range(size // 2 - 1, -1, -1):
        _sift_down(heap, end, size, i, rows)


@njit(cache=True)
def _kway_merge(rows, cnt, heap, end, state, out_rows, out_cnt, n, stop):
    """Merge sorted runs of ``rows`` (each sorted, distinct; ``heap``/``end``: each live run's
    current row and end, ``state[0]`` how many) into ``out_rows`` from position ``n``, summing the
    counts of equal rows, until ``stop`` rows are written or the runs are done (``state[0] == 0``);
    returns the number of rows written so far.  Resumable: call again with the same state."""
    size = state[0]
    width = rows.shape[1]
    while size > 0:
        top = heap[0]
        if n > 0 and _same(out_rows, n - 1, rows, top, width):
            out_cnt[n - 1] += cnt[top]
        elif n == stop:
            break
        else:
            for j in range(width):
                out_rows[n, j] = rows[top, j]
            out_cnt[n] = cnt[top]
            n += 1
        if top + 1 < end[0]:
            heap[0] = top + 1
        else:
            size -= 1
            heap[0] = heap[size]
            end[0] = end[size]
        if size > 0:
            _sift_down(heap, end, size, 0, rows)
    state[0] = size
    return n


@njit(cache=True)
def _same(a, i, b, k, width):
    for j in range(width):
        if a[i, j] != b[k, j]:
            return False
    return True


@njit(cache=True)
def _sift_down(heap, end, size, pos, rows):
    while True:
        small, left = pos, 2 * pos + 1
        if left < size and _row_less(rows, heap[left], heap[small]):
            small = left
        if left + 1 < size and _row_less(rows, heap[left + 1], heap[small]):
            small = left + 1
        if small == pos:
            return
        heap[pos], heap[small] = heap[small], heap[pos]
        end[pos], end[small] = end[small], end[pos]
        pos = small


def _add_order(out: NgramCounts, folder: str, m: int, rows: np.ndarray, cnt: np.ndarray, block: int) -> None:
    """Append order m to ``out`` from its merged records: keys, prefix, word, suffix, count and
    bos_first as ``count_ngrams`` gives them, computed block by block into memory-mapped files."""
    n, V = len(cnt), out.vocab_size
    idx = out.count[0].dtype  # ids and counts: count_ngrams's dtype for the corpus
    keys = _memmap(folder, f"keys{m}", np.int64, (n,))
    prefix = _memmap(folder, f"prefix{m}", idx, (n,))
    word = _memmap(folder, f"word{m}", np.int32, (n,))
    suffix = _memmap(folder, f"suffix{m}", idx, (n,))
    count = cnt if cnt.dtype == idx else _memmap(folder, f"count{m}", idx, (n,))
    bos = _memmap(folder, f"bos{m}", np.bool_, (n,))
    for lo in range(0, n, block):
        r = rows[lo: lo + block].astype(np.int64)
        pre, suf = r[:, 0], r[:, 1]
        for j in range(2, m):  # ids of w1..wj and of w2..w(j+1) at order j
            pre = lookup_keys(out.keys[j - 1], V, pre, r[:, j - 1])
            suf = lookup_keys(out.keys[j - 1], V, suf, r[:, j])
        hi = lo + len(r)
        keys[lo:hi] = pre * V + r[:, m - 1]
        prefix[lo:hi] = pre
        word[lo:hi] = r[:, m - 1]
        suffix[lo:hi] = suf
        bos[lo:hi] = r[:, 0] == BOS_ID
        if count is not cnt:
            count[lo:hi] = cnt[lo:hi]
        release_pages(rows, cnt, count, keys, prefix, word, suffix, bos, *out.keys)
    out.keys.append(keys)
    out.prefix.append(prefix)
    out.word.append(word)
    out.suffix.append(suffix)
    out.count.append(count)
    out.bos_first.append(bos)
